package http

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

// TestRequestOverride: a call's own request replaces the configured
// method, path, query and body and adds its headers (winning over the
// configured ones), but not Host; a call without one sends the
// configuration's request.
func TestRequestOverride(t *testing.T) {
	for _, client := range []string{"net/http", ClientFast} {
		t.Run(client, func(t *testing.T) { testRequestOverride(t, client) })
	}
}

func testRequestOverride(t *testing.T, client string) {
	type seen struct{ method, uri, host, body, a, b string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Host, string(body), r.Header.Get("X-A"), r.Header.Get("X-B")}
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.URL, cfg.Client = srv.URL+"/base?q=1", client
	cfg.Method = http.MethodPut
	cfg.Body = "configured"
	cfg.Headers = map[string]string{"X-A": "config", "X-B": "config"}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	host := srv.Listener.Addr().String()
	tests := []struct {
		name string
		req  *drivers.Request
		want seen
	}{
		// No override: the configuration's request.
		{"none", nil, seen{"PUT", "/base?q=1", host, "configured", "config", "config"}},
		// Everything overridden; Host is not sent.
		{"all", &drivers.Request{Method: "POST", Path: "/orders?id=7", Body: []byte("logged"),
			Header: map[string]string{"X-A": "logged", "Host": "prod.example.com"}},
			seen{"POST", "/orders?id=7", host, "logged", "logged", "config"}},
		// Only a header (trace replay): the rest is the configuration's.
		{"header only", &drivers.Request{Header: map[string]string{"X-B": "f1"}},
			seen{"PUT", "/base?q=1", host, "configured", "config", "f1"}},
		// An empty body is a body: nothing is sent.
		{"empty body", &drivers.Request{Body: []byte{}}, seen{"PUT", "/base?q=1", host, "", "config", "config"}},
	}
	for _, tt := range tests {
		c := drivers.Call{Request: tt.req}
		if err := d.Invoke(context.Background(), &c); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s := <-got; s != tt.want {
			t.Errorf("%s: target saw %+v, want %+v", tt.name, s, tt.want)
		}
	}
}

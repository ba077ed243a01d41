package http_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// TestNetTimings: on either client, a call that opened a connection says
// so with its connect time (and TLS time over https), and the next call
// on the kept-alive connection reports none; both have their send time
// and first-byte time.
func TestNetTimings(t *testing.T) {
	for _, client := range []string{"net/http", httpdriver.ClientFast} {
		for _, https := range []bool{false, true} {
			t.Run(client+map[bool]string{false: "/http", true: "/https"}[https], func(t *testing.T) {
				// A fresh target per case: its first request is cold.
				srv := httptest.NewUnstartedServer(coldOnce())
				if https {
					srv.StartTLS()
				} else {
					srv.Start()
				}
				defer srv.Close()
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if https {
					if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
						t.Fatal(err)
					}
				} else {
					ca = ""
				}
				cfg := httpdriver.DefaultConfig()
				cfg.URL, cfg.Client, cfg.TLS.CAFile = srv.URL, client, ca
				cfg.SetColdHeaders([]string{"X-Cold"}, "X-Instance")
				d, err := httpdriver.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				var first, second drivers.Call
				for _, c := range []*drivers.Call{&first, &second} {
					if err := d.Invoke(context.Background(), c); err != nil || c.Status != 200 {
						t.Fatalf("status %d, err %v", c.Status, err)
					}
				}
				if n := first.Net; !n.NewConn || n.Connect <= 0 || https != (n.TLS > 0) {
					t.Errorf("first call: %+v, want a new connection with its connect time (TLS time: %v)", n, https)
				}
				if n := second.Net; n.NewConn || n.Connect != 0 || n.TLS != 0 {
					t.Errorf("second call: %+v, want the kept-alive connection", n)
				}
				// Both know when they went on the wire and their first byte.
				if first.Sent.IsZero() || !second.Sent.After(first.Sent) || first.Net.FirstByte <= 0 || second.Net.FirstByte <= 0 {
					t.Errorf("sent %v then %v, first byte %v then %v: want both, in order", first.Sent, second.Sent, first.Net.FirstByte, second.Net.FirstByte)
				}
				if first.Temp != drivers.Cold || second.Temp != drivers.Warm || first.InstanceID != "i-1" || first.BytesIn != 2 {
					t.Errorf("signals: %s %s %q, %d bytes", first.Temp, second.Temp, first.InstanceID, first.BytesIn)
				}
			})
		}
	}
}

// TestClientValidate: the client is one of the two, and fasthttp is
// refused where it cannot do what the target block asks.
func TestClientValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*httpdriver.Config)
		want string // in the error; "" for none
	}{
		// either client by name
		{"net/http", func(c *httpdriver.Config) { c.Client = "net/http" }, ""},
		{"fasthttp", func(c *httpdriver.Config) { c.Client = httpdriver.ClientFast }, ""},
		// a name that is neither
		{"unknown", func(c *httpdriver.Config) { c.Client = "curl" }, `client: "curl"`},
		// fasthttp speaks HTTP/1.1 only
		{"http2", func(c *httpdriver.Config) { c.Client, c.HTTP2 = httpdriver.ClientFast, true }, "not with http2"},
		// and does not sign
		{"sigv4", func(c *httpdriver.Config) {
			c.Client, c.SigV4 = httpdriver.ClientFast, &httpdriver.SigV4Config{Region: "eu-west-1"}
		}, "not with sigv4"},
	}
	for _, tt := range tests {
		cfg := httpdriver.DefaultConfig()
		cfg.URL = "http://127.0.0.1:1/"
		tt.edit(cfg)
		err := cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestCancelInFlight: on the default client (fasthttp, which takes no
// context), cancelling the context ends a request in flight at once with
// the context's error, not at its timeout, and the driver goes on working
// under a new context. About 0.2 s.
func TestCancelInFlight(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select { // never answers while the test runs
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	defer close(release)
	cfg := httpdriver.DefaultConfig()
	cfg.URL, cfg.Timeout = srv.URL, 10*time.Second
	d, err := httpdriver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Invoke(ctx, &drivers.Call{Request: &drivers.Request{Path: "/hang"}}) }()
	time.Sleep(100 * time.Millisecond) // in flight by now
	t0 := time.Now()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("in-flight call ended with %v, want context.Canceled", err)
		}
		if d := time.Since(t0); d > 100*time.Millisecond {
			t.Errorf("ended %v after the cancellation, want ≤ 100 ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight call still running 5 s after the cancellation (its timeout is 10 s)")
	}
	var c drivers.Call
	if err := d.Invoke(context.Background(), &c); err != nil || c.Status != 200 {
		t.Errorf("after the cancellation: status %d, err %v", c.Status, err)
	}
}

// TestSameRequestOnBothClients: the target sees the same request line,
// Host, headers and body from either client, for a plain GET, a templated
// POST with configured headers, and a replayed call with its own method,
// path, headers (one replacing a configured one, a Host left out) and
// body. About 10 ms.
func TestSameRequestOnBothClients(t *testing.T) {
	type seen struct {
		line, host, body string
		header           http.Header
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method + " " + r.RequestURI + " " + r.Proto, r.Host, string(b), r.Header.Clone()}
	}))
	defer srv.Close()
	tests := []struct {
		name string
		edit func(*httpdriver.Config)
		req  *drivers.Request // the call's own request; nil for none
	}{
		// the configured GET, no body
		{"get", func(*httpdriver.Config) {}, nil},
		// a POST whose body is a template, with configured headers
		{"post template", func(c *httpdriver.Config) {
			c.Method, c.Body = http.MethodPost, `{"seq": {{.Seq}}}`
			c.Headers = map[string]string{"content-type": "application/json", "X-Tenant": "a"}
		}, nil},
		// a replayed call: its own method, path, headers and body
		{"replay", func(c *httpdriver.Config) { c.Headers = map[string]string{"X-Tenant": "a"} }, &drivers.Request{
			Method: http.MethodPut, Path: "/orders/1?force=true",
			Header: map[string]string{"x-tenant": "b", "Host": "elsewhere.example", "X-Extra": "1"},
			Body:   []byte("shipped"),
		}},
	}
	for _, tt := range tests {
		var want seen
		for _, client := range []string{httpdriver.ClientNetHTTP, httpdriver.ClientFast} {
			cfg := httpdriver.DefaultConfig()
			cfg.URL, cfg.Client = srv.URL+"/fn/a%2Fb/../c?q=1&r=%20x", client // kept as written
			tt.edit(cfg)
			d, err := httpdriver.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := drivers.Call{ID: "r-1", Seq: 7, Request: tt.req}
			if err := d.Invoke(context.Background(), &c); err != nil || c.Status != 200 {
				t.Fatalf("%s on %s: status %d, err %v", tt.name, client, c.Status, err)
			}
			d.Close()
			if client == httpdriver.ClientNetHTTP {
				want = got
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: fasthttp sent\n%+v\nnet/http\n%+v", tt.name, got, want)
			}
		}
	}
}

// TestCancelWaitingForConnection: under max_connections, a request waiting
// for a connection when the context is cancelled ends at once too, rather
// than taking the connection the cancellation freed and waiting out its
// timeout. About 0.2 s.
func TestCancelWaitingForConnection(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers while the test runs
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := httpdriver.DefaultConfig()
	cfg.URL, cfg.Timeout, cfg.MaxConnections = srv.URL, 10*time.Second, 1
	d, err := httpdriver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	for range 2 { // one in flight, one waiting for the only connection
		go func() { errc <- d.Invoke(ctx, &drivers.Call{}) }()
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	deadline := time.After(time.Second)
	for range 2 {
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("ended with %v, want context.Canceled", err)
			}
		case <-deadline:
			t.Fatal("a call still running 1 s after the cancellation (its timeout is 10 s)")
		}
	}
}

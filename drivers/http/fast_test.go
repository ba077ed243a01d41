package http_test

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// TestNetTimings: on either client, a call that opened a connection says
// so with its connect time (and TLS time over https), and the next call
// on the kept-alive connection reports none.
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

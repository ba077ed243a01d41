package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// BenchmarkInvoke measures the driver's cost per request against a local
// server that answers at once: allocations and CPU on the client side are
// what a load generator spends per request. "get" is the plainest request
// (a static GET with a request id header); "post-template" executes a body
// template per request; both on the default client (fasthttp), then the
// same two on net/http.
func BenchmarkInvoke(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	postTemplate := func(c *httpdriver.Config) {
		c.Body = `{"seq": {{.Seq}}, "id": "{{.ID}}"}`
		c.Method = http.MethodPost
	}
	cases := []struct {
		name string
		edit func(*httpdriver.Config)
	}{
		{"get", func(*httpdriver.Config) {}},
		{"post-template", postTemplate},
		// The same two on net/http (client: net/http).
		{"get-nethttp", func(c *httpdriver.Config) { c.Client = httpdriver.ClientNetHTTP }},
		{"post-template-nethttp", func(c *httpdriver.Config) {
			postTemplate(c)
			c.Client = httpdriver.ClientNetHTTP
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			cfg := httpdriver.DefaultConfig()
			cfg.URL = srv.URL
			tc.edit(cfg)
			d, err := httpdriver.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var c drivers.Call
				for pb.Next() {
					c.Reset()
					c.ID = "bench"
					if err := d.Invoke(ctx, &c); err != nil || c.Status != 200 {
						b.Fatalf("status %d, err %v", c.Status, err)
					}
				}
			})
		})
	}
}

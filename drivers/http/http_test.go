package http_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// coldOnce answers like a function whose first request is a cold start.
func coldOnce() http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cold", map[bool]string{true: "true", false: "false"}[n.Add(1) == 1])
		w.Header().Set("X-Instance", "i-1")
		w.Write([]byte("ok"))
	})
}

func TestConformance(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := map[bool]string{false: "HTTP1", true: "H2C"}[h2]
		t.Run(name, func(t *testing.T) {
			drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
				srv := httptest.NewUnstartedServer(coldOnce())
				if h2 {
					srv.Config.Protocols = new(http.Protocols)
					srv.Config.Protocols.SetUnencryptedHTTP2(true)
				}
				srv.Start()
				t.Cleanup(srv.Close)
				cfg := httpdriver.DefaultConfig()
				cfg.URL = srv.URL
				cfg.HTTP2 = h2
				cfg.Client = httpdriver.ClientNetHTTP // HTTP/1.1 on net/http; the default is below
				cfg.SetColdHeaders([]string{"X-Cold"}, "X-Instance")
				d, err := httpdriver.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}))
		})
	}
	t.Run("fasthttp", func(t *testing.T) { // the default client
		drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
			srv := httptest.NewServer(coldOnce())
			t.Cleanup(srv.Close)
			cfg := httpdriver.DefaultConfig()
			cfg.URL = srv.URL
			cfg.SetColdHeaders([]string{"X-Cold"}, "X-Instance")
			d, err := httpdriver.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}))
	})
}

package http_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// TestPlatform: a plain HTTP target's only signal is a header the function
// sets; here the first request it serves is its cold one, and it records
// each answer, the truth the suite holds the driver to.
func TestPlatform(t *testing.T) {
	drivertest.RunPlatformTests(t, func(t *testing.T) drivertest.Platform {
		var (
			mu    sync.Mutex
			colds []bool
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			cold := len(colds) == 0
			colds = append(colds, cold)
			mu.Unlock()
			w.Header().Set("X-Cold", map[bool]string{true: "true", false: "false"}[cold])
		}))
		t.Cleanup(srv.Close)
		cfg := httpdriver.DefaultConfig()
		cfg.URL = srv.URL
		cfg.SetColdHeaders([]string{"X-Cold"}, "")
		d, err := httpdriver.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return drivertest.Platform{Driver: d, Truth: func(*drivers.Call) (bool, bool) {
			mu.Lock()
			defer mu.Unlock()
			if len(colds) == 0 {
				return false, false
			}
			return colds[len(colds)-1], true // one request at a time: the latest
		}}
	})
}

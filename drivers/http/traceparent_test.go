package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// traceparentRE is a version-00 traceparent as the W3C spec writes it.
var traceparentRE = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

func TestTraceHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer srv.Close()
	tc := drivers.TraceContext{
		TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  [8]byte{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		Flags:   drivers.FlagSampled,
	}
	for _, tt := range []struct {
		name   string
		tc     drivers.TraceContext
		static map[string]string
		parent string // "" means no header
		state  string
	}{
		// The spec's own example.
		{"sampled", tc, nil, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		// tracestate goes along when set.
		{"state", func() drivers.TraceContext { c := tc; c.Flags, c.State = 0, "congo=t61rcWkgMzE"; return c }(), nil,
			"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "congo=t61rcWkgMzE"},
		// Ours replaces a static traceparent, which would make every request one trace.
		{"overrides static", tc, map[string]string{"traceparent": "00-11111111111111111111111111111111-1111111111111111-01"},
			"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		// Trace context off: nothing is sent.
		{"off", drivers.TraceContext{}, nil, "", ""},
	} {
		for _, client := range []string{"net/http", httpdriver.ClientFast} {
			t.Run(client+"/"+tt.name, func(t *testing.T) {
				cfg := httpdriver.DefaultConfig()
				cfg.URL, cfg.Headers, cfg.Client = srv.URL, tt.static, client
				d, err := httpdriver.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				c := drivers.Call{ID: "x", Trace: tt.tc}
				if err := d.Invoke(context.Background(), &c); err != nil {
					t.Fatal(err)
				}
				h := <-got
				if v := h.Values("Traceparent"); tt.parent == "" && len(v) != 0 || tt.parent != "" && (len(v) != 1 || v[0] != tt.parent) {
					t.Errorf("traceparent %q, want %q", v, tt.parent)
				}
				if tt.parent != "" && !traceparentRE.MatchString(tt.parent) {
					t.Errorf("test row's traceparent %q is not version 00", tt.parent)
				}
				if v := h.Get("Tracestate"); v != tt.state {
					t.Errorf("tracestate %q, want %q", v, tt.state)
				}
			})
		}
	}
}

// BenchmarkInvokeTraced is BenchmarkInvoke with trace context on: the
// difference in allocs/op is what traceparent and tracestate cost.
func BenchmarkInvokeTraced(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	cfg := httpdriver.DefaultConfig()
	cfg.URL = srv.URL
	cfg.Body = `{"seq": {{.Seq}}, "id": "{{.ID}}"}`
	cfg.Method = http.MethodPost
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
			c.Trace = drivers.TraceContext{TraceID: [16]byte{1}, SpanID: [8]byte{2}, Flags: 1, State: "k=v"}
			if err := d.Invoke(ctx, &c); err != nil || c.Status != 200 {
				b.Fatalf("status %d, err %v", c.Status, err)
			}
		}
	})
}

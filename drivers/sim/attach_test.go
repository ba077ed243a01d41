package sim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/sim"
	emulator "github.com/coldbench/coldbench/internal/sim"
)

// TestAttach: with url: the driver starts no emulator, invokes the one at
// the URL and configures it through its control API; closing the driver
// leaves it running.
func TestAttach(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	cfg := sim.DefaultConfig()
	cfg.URL = base + "/"
	d, err := sim.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Emulator() != nil || d.URL() != base {
		t.Errorf("attached driver: emulator %v, url %q; want none and %q", d.Emulator(), d.URL(), base)
	}
	c := &drivers.Call{ID: "a"}
	if err := d.Invoke(context.Background(), c); err != nil || c.Status != http.StatusOK || c.Temp != drivers.Cold || c.Source != drivers.SourcePlatform {
		t.Errorf("invoke: %v, status %d, %v from %v", err, c.Status, c.Temp, c.Source)
	}
	if err := d.Configure(context.Background(), drivers.Settings{MemoryMB: 2048, Prewarm: 1}); err != nil {
		t.Fatal(err)
	}
	if got := emu.Config(); got.MemoryMB != 2048 || got.MinInstances != 1 {
		t.Errorf("emulator config after Configure: %d MB, %d min instances", got.MemoryMB, got.MinInstances)
	}
	d.Close()
	if _, err := http.Get(base + emulator.PathConfig); err != nil {
		t.Errorf("the attached emulator stopped with the driver: %v", err)
	}
	if s := cfg.String(); !strings.Contains(s, base) {
		t.Errorf("String() = %q", s)
	}
}

// TestAttachErrors: a url that is not an emulator fails Open, naming the
// URL and the control API; a url that is not http fails validation.
func TestAttachErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	cfg := sim.DefaultConfig()
	cfg.URL = srv.URL
	if _, err := sim.Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "sim at "+srv.URL+": no emulator control API there") || !strings.Contains(err.Error(), "GET /_sim/config: 404") {
		t.Errorf("Open on a non-emulator: %v", err)
	}
	cfg.URL = "ftp://x"
	var fe *drivers.FieldError
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "url: ") || !asField(err, &fe) {
		t.Errorf("Validate: %v", err)
	}
}

func asField(err error, fe **drivers.FieldError) bool {
	type unwrapper interface{ Unwrap() []error }
	if u, ok := err.(unwrapper); ok {
		for _, e := range u.Unwrap() {
			if f, ok := e.(*drivers.FieldError); ok && f.Field == "url" {
				*fe = f
				return true
			}
		}
	}
	return false
}

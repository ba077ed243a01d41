package sim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestClient(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg := testConfig()
	cfg.InitMean = 5 * time.Millisecond
	e, url, hc := startEmu(t, cfg)
	c := NewClient(url+"/", hc) // a trailing slash is fine

	if err := c.Update(ctx, Update{MemoryMB: new(512), MinInstances: new(2)}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := c.Config(ctx)
	if err != nil || got.MemoryMB != 512 || got.MinInstances != 2 || got.Handler != cfg.Handler {
		t.Errorf("Config = %+v, %v; want 512 MB, 2 min, the rest unchanged", got, err)
	}
	st, err := c.WaitReady(ctx, 0)
	if err != nil || !st.Ready || st.Live != 2 || st.Config.MemoryMB != 512 {
		t.Fatalf("WaitReady = %+v, %v", st, err)
	}

	if err := c.Recycle(ctx); err != nil {
		t.Fatalf("Recycle: %v", err)
	}
	if st, err := c.State(ctx); err != nil || st.Generation != 2 {
		t.Errorf("after Recycle: generation %d, %v; want 2 (memory change, then recycle)", st.Generation, err)
	}
	if _, err := c.WaitReady(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// Bad value: an *APIError that names the field.
	err = c.Update(ctx, Update{MemoryMB: new(1)})
	ae, ok := errors.AsType[*APIError](err)
	if !ok || ae.Status != http.StatusBadRequest || ae.Field != "memory_mb" {
		t.Errorf("Update(1 MB) error %v, want a 400 APIError on memory_mb", err)
	}

	mustInvoke(t, hc, url, "via-client")
	truth, err := c.Truth(ctx)
	if err != nil || len(truth.Records) != 1 || truth.Stats.Invocations != 1 {
		t.Fatalf("Truth = %+v, %v", truth, err)
	}
	rec, found, err := c.TruthByID(ctx, "via-client")
	want, _ := e.TruthByID("via-client")
	if err != nil || !found || rec.InstanceID != want.InstanceID || rec.Handler != want.Handler ||
		!rec.Arrival.Equal(want.Arrival) || rec != truth.Records[0] {
		t.Errorf("TruthByID = %+v, %v, %v; emulator has %+v", rec, found, err, want)
	}
	if _, found, err := c.TruthByID(ctx, "nobody"); found || err != nil {
		t.Errorf("TruthByID(unknown) = %v, %v; want not found, no error", found, err)
	}
}

func TestClientConnectionError(t *testing.T) {
	t.Parallel()
	e := newEmu(t, testConfig())
	url, err := e.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := NewClient(url, nil).State(context.Background()); err == nil {
		t.Error("State on a closed emulator succeeded")
	}
}

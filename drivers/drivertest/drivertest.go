// Package drivertest is the conformance suite every coldbench driver runs,
// in the manner of go-cloud's drivertest: the same behaviour checked the
// same way against each platform's driver and a local stand-in for the
// platform.
package drivertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Harness opens a driver against a fresh target for one test. The target
// must answer every invocation successfully, and, when the driver reports
// temperatures, start cold: the first request lands on a new instance.
type Harness interface {
	Open(t *testing.T) drivers.Driver
}

// HarnessFunc adapts a function to Harness.
type HarnessFunc func(t *testing.T) drivers.Driver

// Open implements Harness.
func (f HarnessFunc) Open(t *testing.T) drivers.Driver { return f(t) }

// RunConformanceTests runs the suite.
func RunConformanceTests(t *testing.T, h Harness) {
	t.Run("InvokeOK", func(t *testing.T) { testInvokeOK(t, h) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, h) })
	t.Run("ColdThenWarm", func(t *testing.T) { testColdThenWarm(t, h) })
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, h) })
}

func open(t *testing.T, h Harness) drivers.Driver {
	t.Helper()
	d := h.Open(t)
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

func invoke(t *testing.T, d drivers.Driver, seq uint64) *drivers.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &drivers.Call{Seq: seq, ID: "conformance-" + time.Now().Format("150405.000000"), Phase: "conformance"}
	err := d.Invoke(ctx, c)
	if o := drivers.Classify(c, err); o != drivers.OK {
		t.Fatalf("Invoke: outcome %s (status %d, err %v), want ok", o, c.Status, err)
	}
	return c
}

func testInvokeOK(t *testing.T, h Harness) {
	d := open(t, h)
	c := invoke(t, d, 0)
	if c.Status != 0 && (c.Status < 200 || c.Status > 299) {
		t.Errorf("Status = %d for a successful call", c.Status)
	}
	if c.Temp != drivers.Unknown && c.Source == drivers.SourceNone {
		t.Errorf("Temp = %s with no source", c.Temp)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	d := open(t, h)
	const goroutines, each = 16, 5
	var wg sync.WaitGroup
	errs := make(chan string, goroutines*each)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c := &drivers.Call{Seq: uint64(g*each + i), ID: "c", Phase: "conformance"}
				err := d.Invoke(ctx, c)
				cancel()
				if o := drivers.Classify(c, err); o != drivers.OK {
					errs <- o.String()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for o := range errs {
		t.Errorf("concurrent Invoke: outcome %s", o)
	}
}

func testCancelled(t *testing.T, h Harness) {
	d := open(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &drivers.Call{ID: "cancelled", Phase: "conformance"}
	start := time.Now()
	err := d.Invoke(ctx, c)
	if err == nil {
		t.Fatalf("Invoke with a cancelled context returned no error (status %d)", c.Status)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Invoke with a cancelled context took %v", time.Since(start))
	}
	if o := drivers.Classify(c, err); o == drivers.OK {
		t.Errorf("a cancelled call classified ok")
	}
}

// testColdThenWarm checks the temperature a driver reports, when it reports
// one: a fresh target's first request is cold, a sequential second one warm.
func testColdThenWarm(t *testing.T, h Harness) {
	d := open(t, h)
	first := invoke(t, d, 0)
	if first.Temp == drivers.Unknown {
		t.Skip("driver reports no temperature")
	}
	if first.Temp != drivers.Cold {
		t.Errorf("first request on a fresh target: %s, want cold", first.Temp)
	}
	if second := invoke(t, d, 1); second.Temp != drivers.Warm {
		t.Errorf("second sequential request: %s, want warm", second.Temp)
	}
}

func testCapabilities(t *testing.T, h Harness) {
	d := open(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c, ok := d.(drivers.Configurer); ok {
		want := drivers.Settings{MemoryMB: 512, Prewarm: 1}
		if err := c.Configure(ctx, want); err != nil {
			t.Fatalf("Configure(%+v): %v", want, err)
		}
		if desc, ok := d.(drivers.Describer); ok {
			got, err := desc.Describe(ctx)
			if err != nil {
				t.Fatalf("Describe: %v", err)
			}
			if got.Settings != want || !got.Ready {
				t.Errorf("Describe after Configure = %+v, want %+v ready", got, want)
			}
		}
		if err := c.Configure(ctx, drivers.Settings{MemoryMB: 512}); err != nil {
			t.Fatalf("Configure back to no prewarm: %v", err)
		}
	}
	if f, ok := d.(drivers.ColdForcer); ok {
		invoke(t, d, 0)
		if err := f.ForceCold(ctx); err != nil {
			t.Fatalf("ForceCold: %v", err)
		}
		if c := invoke(t, d, 1); c.Temp != drivers.Unknown && c.Temp != drivers.Cold {
			t.Errorf("first request after ForceCold: %s, want cold", c.Temp)
		}
	}
}

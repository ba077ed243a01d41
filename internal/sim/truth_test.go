package sim

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestTruthMatchesHeaders(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MemoryMB = 1024
	cfg.InitStddev = 5 * time.Millisecond
	cfg.HandlerJitter = time.Millisecond
	e, url, hc := startEmu(t, cfg)

	before := time.Now()
	for i := range 6 {
		id := fmt.Sprintf("req-%d", i)
		r := mustInvoke(t, hc, url, id)
		if r.Header.Get(HeaderRequestID) != id {
			t.Errorf("request id echoed as %q, want %q", r.Header.Get(HeaderRequestID), id)
		}
		rec, ok := e.TruthByID(id)
		if !ok {
			t.Fatalf("no truth for %s", id)
		}
		checks := []struct{ header, want string }{
			{HeaderInstanceID, rec.InstanceID},
			{HeaderCold, strconv.FormatBool(rec.Cold)},
			{HeaderInitDuration, formatMS(rec.Init)},
			{HeaderBilledDuration, strconv.Itoa(int(rec.Billed().Milliseconds()))},
			{HeaderMemorySize, strconv.Itoa(rec.MemoryMB)},
		}
		for _, c := range checks {
			if got := r.Header.Get(c.header); got != c.want {
				t.Errorf("%s: header %s = %q, truth says %q", id, c.header, got, c.want)
			}
		}
		if rec.Status != http.StatusOK || rec.Seq != uint64(i+1) || rec.Arrival.Before(before) {
			t.Errorf("%s: record %+v", id, rec)
		}
		if rec.Cold != (i == 0) {
			t.Errorf("%s: cold %v, want only the first cold", id, rec.Cold)
		}
	}
	if _, ok := e.TruthByID("never-sent"); ok {
		t.Error("TruthByID found a request that was never sent")
	}
	if n := len(e.Truth()); n != 6 {
		t.Errorf("%d records, want 6", n)
	}
}

func TestTruthCap(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TruthCap = 3
	cfg.InitMean = 0
	cfg.Handler = 0
	e := newEmu(t, cfg)
	for i := range 5 {
		serve(e, fmt.Sprintf("r%d", i))
	}
	recs := e.Truth()
	if len(recs) != 3 || recs[0].RequestID != "r0" || recs[2].RequestID != "r2" {
		t.Errorf("records %+v, want the first 3", recs)
	}
	if _, ok := e.TruthByID("r4"); ok {
		t.Error("found a record past the cap")
	}
	// The counters still see every request.
	if s := e.Stats(); s.TruthDropped != 2 || s.Invocations != 5 {
		t.Errorf("stats %+v, want 2 dropped, 5 invocations", s)
	}
}

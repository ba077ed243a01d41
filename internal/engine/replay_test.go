package engine

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/scenarios"
)

// requesting is a test replay schedule: every's arrivals, arrival n
// carrying a request whose path is /n.
type requesting struct {
	every
	reqs []drivers.Request
}

func (r requesting) Request(n uint64) *drivers.Request { return &r.reqs[n] }

var _ scenarios.Requester = requesting{}

// seenDriver records the request each call carries.
type seenDriver struct {
	mu   sync.Mutex
	seen map[uint64]*drivers.Request // by Seq
}

func (d *seenDriver) Invoke(_ context.Context, c *drivers.Call) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[c.Seq] = c.Request
	c.Status = 200
	return nil
}

func (d *seenDriver) Close() error { return nil }

// TestReplayRequests: a schedule that is a Requester hands each arrival's
// request to the driver in Call.Request, with the arrival it belongs to;
// a schedule that is not leaves it nil.
func TestReplayRequests(t *testing.T) {
	t.Parallel()
	sched := requesting{every: every{10 * time.Millisecond, 50 * time.Millisecond}}
	for n := range 5 {
		sched.reqs = append(sched.reqs, drivers.Request{Path: "/" + strconv.Itoa(n)})
	}
	d := &seenDriver{seen: map[uint64]*drivers.Request{}}
	p := plan(
		scenarios.PlannedPhase{Name: "replay", Duration: 50 * time.Millisecond, Schedule: sched, Planned: 5},
		constant("plain", 100, 30*time.Millisecond),
	)
	e, err := New(d, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(d.seen) != 8 {
		t.Fatalf("%d calls, want 8", len(d.seen))
	}
	for seq, r := range d.seen {
		switch {
		case seq < 5 && (r == nil || r.Path != "/"+strconv.FormatUint(seq, 10)):
			t.Errorf("call %d carried %+v, want path /%d", seq, r, seq)
		case seq >= 5 && r != nil:
			t.Errorf("call %d of the plain phase carried %+v", seq, r)
		}
	}
}

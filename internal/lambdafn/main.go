// Command lambdafn is a benchmark function for the AWS Lambda Go runtime,
// for tests that run a real Lambda runtime (the Runtime Interface
// Emulator) rather than coldbench's own fake. Like the functions people
// write for cold-start benchmarks, it reports in its answer whether the
// invocation was its process's first (a cold start) and which instance
// served it:
//
//	{"cold": true, "instance": "3f9c0a1b2c3d4e5f", "seq": 0}
//
// Its first invocation sleeps COLDBENCH_FN_INIT (a Go duration, default
// 200ms) first, standing in for initialization that Lambda would do
// before the handler; every invocation then sleeps COLDBENCH_FN_WORK
// (default 2ms). An event with "fail": true makes the handler return an
// error, which the runtime reports as a function error.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// event is what the handler reads from the payload.
type event struct {
	Seq  int64 `json:"seq"`
	Fail bool  `json:"fail"`
}

// answer is what it reports.
type answer struct {
	Cold     bool   `json:"cold"`
	Instance string `json:"instance"`
	Seq      int64  `json:"seq"`
}

// fn is one instance: the process the runtime started.
type fn struct {
	id         string
	init, work time.Duration

	mu     sync.Mutex
	served bool
}

func (f *fn) handle(ctx context.Context, e event) (answer, error) {
	f.mu.Lock()
	cold := !f.served
	f.served = true
	f.mu.Unlock()
	if cold {
		sleep(ctx, f.init)
	}
	sleep(ctx, f.work)
	if e.Fail {
		return answer{}, errors.New("lambdafn: the event asked to fail")
	}
	return answer{Cold: cold, Instance: f.id, Seq: e.Seq}, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func duration(env string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(env)); err == nil && d >= 0 {
		return d
	}
	return def
}

func main() {
	b := make([]byte, 8)
	rand.Read(b)
	f := &fn{id: hex.EncodeToString(b), init: duration("COLDBENCH_FN_INIT", 200*time.Millisecond), work: duration("COLDBENCH_FN_WORK", 2*time.Millisecond)}
	lambda.Start(f.handle)
}

package http

import (
	"context"
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// tracer records the network phases of one request, so a cold start can be
// told apart from a cold connection. Callbacks run on transport goroutines,
// and a dial the transport started for this request may finish after the
// request was served on another connection, so fields are locked.
type tracer struct {
	ct                                   *httptrace.ClientTrace // built once, bound to this tracer
	mu                                   sync.Mutex
	dnsStart, connStart, tlsStart, wrote time.Time
	dns, conn, tls, firstByte            time.Duration
	newConn                              bool

	// parent and traced cache the last context the trace was attached to:
	// the engine passes the same context for every request, and attaching
	// a trace costs several allocations.
	parent, traced context.Context
}

// context returns ctx with t's trace attached.
func (t *tracer) context(ctx context.Context) context.Context {
	if t.parent != ctx {
		t.parent, t.traced = ctx, httptrace.WithClientTrace(ctx, t.ct)
	}
	return t.traced
}

// tracers are pooled: building the ClientTrace's closures costs a dozen
// allocations, which a load generator would pay on every request.
var tracers = sync.Pool{New: func() any {
	t := new(tracer)
	t.ct = t.trace()
	return t
}}

func getTracer() *tracer { return tracers.Get().(*tracer) }

// put resets t and returns it to the pool. Only call it when no callback
// can still fire: a dial started for the request may finish after the
// response, so a tracer whose request dialled is dropped instead.
func (t *tracer) put() {
	t.mu.Lock()
	dialled := !t.connStart.IsZero()
	t.dnsStart, t.connStart, t.tlsStart, t.wrote = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	t.dns, t.conn, t.tls, t.firstByte, t.newConn = 0, 0, 0, 0, false
	t.mu.Unlock()
	if !dialled {
		tracers.Put(t)
	}
}

func (t *tracer) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { t.locked(func() { t.dnsStart = time.Now() }) },
		DNSDone:  func(httptrace.DNSDoneInfo) { t.locked(func() { t.dns = time.Since(t.dnsStart) }) },
		ConnectStart: func(string, string) {
			t.locked(func() {
				if t.connStart.IsZero() {
					t.connStart = time.Now()
				}
			})
		},
		ConnectDone:       func(string, string, error) { t.locked(func() { t.conn = time.Since(t.connStart) }) },
		TLSHandshakeStart: func() { t.locked(func() { t.tlsStart = time.Now() }) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { t.locked(func() { t.tls = time.Since(t.tlsStart) }) },
		// hey's trick: GotConn says whether the connection was reused.
		GotConn:              func(i httptrace.GotConnInfo) { t.locked(func() { t.newConn = !i.Reused }) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.locked(func() { t.wrote = time.Now() }) },
		GotFirstResponseByte: func() { t.locked(func() { t.firstByte = time.Since(t.wrote) }) },
	}
}

func (t *tracer) locked(f func()) {
	t.mu.Lock()
	f()
	t.mu.Unlock()
}

func (t *tracer) finish(c *drivers.Call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.Sent = t.wrote
	n := &c.Net
	*n = drivers.NetTimings{DNS: t.dns, Connect: t.conn, TLS: t.tls, FirstByte: t.firstByte, NewConn: t.newConn}
}

// Trace starts recording the network phases of one HTTP request made with
// ctx, for drivers that call an HTTP API through another client (the AWS
// SDK): finish copies them into c and must be called once the response has
// been read.
func Trace(ctx context.Context) (traced context.Context, finish func(c *drivers.Call)) {
	t := getTracer()
	return httptrace.WithClientTrace(ctx, t.ct), func(c *drivers.Call) {
		t.finish(c)
		t.put()
	}
}

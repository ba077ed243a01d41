package http

import (
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
	mu                                   sync.Mutex
	dnsStart, connStart, tlsStart, wrote time.Time
	dns, conn, tls, firstByte            time.Duration
	newConn                              bool
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

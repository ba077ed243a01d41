package grpcdriver

import (
	"context"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/stats"

	"github.com/coldbench/coldbench/drivers"
)

// Network phases, the gRPC way. grpc-go dials in the background, not on
// the call that needs the connection, so there is no per-call trace like
// httptrace. Instead the dialer and the TLS handshake log each new
// connection by its local address, and the stats handler, which sees every
// call's outgoing headers together with the local address of the
// connection they went on, hands a connection's times to the first call
// sent on it: that call paid for the connection (NewConn). Calls that
// waited for the same connection to come up are not told so; their wait
// is in their latency all the same.

// connLog records connections the driver dialed that no call has claimed
// yet.
type connLog struct {
	dialer net.Dialer

	mu    sync.Mutex
	fresh map[string]connTimes // by local address
}

// maxFresh bounds connLog.fresh.
const maxFresh = 1024

// connTimes are the setup phases of one connection.
type connTimes struct {
	connect, tls time.Duration
}

func newConnLog(timeout time.Duration) *connLog {
	return &connLog{
		dialer: net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		fresh:  map[string]connTimes{},
	}
}

// dial is the ClientConn's dialer: a TCP connection, timed.
func (l *connLog) dial(ctx context.Context, addr string) (net.Conn, error) {
	start := time.Now()
	c, err := l.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	d := time.Since(start)
	l.mu.Lock()
	if len(l.fresh) >= maxFresh {
		// Connections that closed before any call went on them are never
		// claimed; forget them rather than grow without bound.
		clear(l.fresh)
	}
	l.fresh[c.LocalAddr().String()] = connTimes{connect: d}
	l.mu.Unlock()
	return c, nil
}

// handshook records a TLS handshake on the connection from local.
func (l *connLog) handshook(local net.Addr, d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		delete(l.fresh, local.String()) // gRPC closes it; no call will claim it
		return
	}
	if t, ok := l.fresh[local.String()]; ok {
		t.tls = d
		l.fresh[local.String()] = t
	}
}

// claim takes the times of the connection from local if no call has yet.
func (l *connLog) claim(local net.Addr) (connTimes, bool) {
	if local == nil {
		return connTimes{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.fresh[local.String()]
	if ok {
		delete(l.fresh, local.String())
	}
	return t, ok
}

// timedCreds times the TLS handshake of TransportCredentials.
type timedCreds struct {
	credentials.TransportCredentials
	log *connLog
}

// ClientHandshake implements credentials.TransportCredentials.
func (c timedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	start := time.Now()
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	c.log.handshook(raw.LocalAddr(), time.Since(start), err)
	return conn, info, err
}

// Clone implements credentials.TransportCredentials.
func (c timedCreds) Clone() credentials.TransportCredentials {
	return timedCreds{c.TransportCredentials.Clone(), c.log}
}

// trace is what the stats handler saw of one call. Stats callbacks run on
// the calling goroutine (outgoing) and on the transport's reader goroutine
// (incoming), so fields are locked.
type trace struct {
	mu       sync.Mutex
	sent     time.Time // the call's headers went to the transport
	wrote    time.Time // the request message was written
	answered bool      // the server's status arrived (a trailer), so the call's status is the server's
	first    time.Duration
	conn     connTimes
	newConn  bool
}

type traceKey struct{}

// finish copies the trace into c.
func (t *trace) finish(c *drivers.Call) (answered bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.Sent = t.sent
	c.Net = drivers.NetTimings{Connect: t.conn.connect, TLS: t.conn.tls, FirstByte: t.first, NewConn: t.newConn}
	return t.answered
}

// statsHandler feeds each call's trace, found in the call's context.
type statsHandler struct{ log *connLog }

var _ stats.Handler = statsHandler{}

// TagRPC implements stats.Handler.
func (statsHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

// TagConn implements stats.Handler.
func (statsHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn implements stats.Handler.
func (statsHandler) HandleConn(context.Context, stats.ConnStats) {}

// HandleRPC implements stats.Handler.
func (h statsHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	t, _ := ctx.Value(traceKey{}).(*trace)
	if t == nil {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s := s.(type) {
	case *stats.OutHeader:
		t.sent = now
		if ct, ok := h.log.claim(s.LocalAddr); ok {
			t.conn, t.newConn = ct, true
		}
	case *stats.OutPayload:
		t.wrote = s.SentTime
		if t.wrote.IsZero() {
			t.wrote = now
		}
	case *stats.InHeader:
		t.firstByte(now)
	case *stats.InTrailer:
		t.firstByte(now) // a trailers-only answer is the first byte
		t.answered = true
	}
}

// firstByte records the time from the request written to now, once. On
// loopback the answer can be read before the write's OutPayload event is
// delivered; then the headers' send time stands in for the write.
func (t *trace) firstByte(now time.Time) {
	from := t.wrote
	if from.IsZero() {
		from = t.sent
	}
	if t.first == 0 && !from.IsZero() {
		t.first = max(now.Sub(from), time.Nanosecond)
	}
}

// rawCodec sends requests marshaled ahead of time and reads responses only
// to count their bytes: a load generator need not decode the answer. Its
// name is "proto", so the content type is the usual application/grpc+proto.
type rawCodec struct{}

// frame is one message for rawCodec: the bytes to send, or the size read.
type frame struct {
	data []byte
	n    int
}

// Marshal implements encoding.CodecV2.
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.(*frame).data)}, nil
}

// Unmarshal implements encoding.CodecV2.
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*frame).n = data.Len()
	return nil
}

// Name implements encoding.CodecV2.
func (rawCodec) Name() string { return "proto" }

package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/coldbench/coldbench/drivers"
)

// ClientFast selects the fasthttp client (`client: fasthttp`), the default
// for HTTP/1.1 targets: I/O in the calling goroutine, requests and
// responses pooled, a fraction of net/http's CPU and allocations per
// request. It cannot do HTTP/2 or SigV4, which take net/http.
const ClientFast = "fasthttp"

// ClientNetHTTP selects Go's net/http client (`client: net/http`), chosen
// on its own for http2 and sigv4.
const ClientNetHTTP = "net/http"

// fastClient is the http driver's fasthttp client for one target host.
type fastClient struct {
	hc      *fasthttp.HostClient
	uri     fasthttp.URI           // the target URL parsed once, copied into requests that do not override it
	tmpl    fasthttp.RequestHeader // method, Host and the configured headers, copied into each request
	method  string                 // tmpl's
	timeout time.Duration
	dialer  net.Dialer
	tls     *tls.Config // nil for http://
	sni     string
	base    time.Time // origin of the connections' atomic timestamps

	last  atomic.Pointer[ctxWatch] // the context of the last request, nearly always the run's
	halt  atomic.Pointer[ctxWatch] // the last cancelled with requests in flight: no dial until they return
	mu    sync.Mutex
	ctxs  map[context.Context]*ctxWatch // contexts watched for cancellation
	conns map[*timedConn]struct{}       // open connections, closed at a cancellation
}

func newFastClient(cfg *Config, u *url.URL, hdr http.Header) (*fastClient, error) {
	f := &fastClient{
		method: cfg.Method, timeout: cfg.Timeout,
		dialer: net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second},
		base:   time.Now(),
		ctxs:   map[context.Context]*ctxWatch{},
		conns:  map[*timedConn]struct{}{},
	}
	// The headers every request starts from, built once: CopyTo appends
	// them into the pooled request's buffers without allocating.
	f.uri.DisablePathNormalizing = true // the path as the scenario wrote it
	if err := f.uri.Parse(nil, []byte(u.String())); err != nil {
		return nil, fmt.Errorf("url %s: %w", u, err)
	}
	f.tmpl.DisableNormalizing() // names are canonical already (New)
	// A body goes with the Content-Type the scenario or the call gives,
	// or none, as on net/http; fasthttp's default is octet-stream.
	f.tmpl.SetNoDefaultContentType(true)
	f.tmpl.SetMethod(cfg.Method)
	f.tmpl.SetHost(u.Host)
	for k, vs := range hdr {
		for _, v := range vs {
			f.tmpl.Add(k, v)
		}
	}
	port := u.Port()
	if u.Scheme == "https" {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		tc.NextProtos = []string{"http/1.1"}
		f.tls, f.sni = tc, cmpOr(tc.ServerName, u.Hostname())
		if port == "" {
			port = "443"
		}
	} else if port == "" {
		port = "80"
	}
	maxConns := cfg.MaxConnections
	if maxConns == 0 {
		maxConns = 1 << 20 // no cap, as net/http's 0; fasthttp's default is 512
	}
	f.hc = &fasthttp.HostClient{
		Addr: net.JoinHostPort(u.Hostname(), port),
		// The TLS handshake is done in dial, where it can be timed;
		// fasthttp uses a connection that has done it as it is.
		Dial:                f.dial,
		IsTLS:               f.tls != nil,
		MaxConns:            maxConns,
		MaxConnWaitTimeout:  cfg.Timeout, // with max_connections, the wait counts in latency
		MaxIdleConnDuration: 90 * time.Second,
		// A load generator sends each request once: a retry would hide
		// a failure and send what the schedule did not ask for.
		MaxIdemponentCallAttempts: 1,
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		StreamResponseBody:        true, // read up to max_body, then drop the connection
		NoDefaultUserAgentHeader:  true,
		DisablePathNormalizing:    true,
	}
	return f, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dial opens a connection, timing the name lookup, the TCP connect and the
// TLS handshake, and keeps the times on the connection for the request
// that uses it first.
func (f *fastClient) dial(addr string) (net.Conn, error) {
	if h := f.halt.Load(); h != nil && h.inflight.Load() > 0 {
		return nil, fmt.Errorf("dial %s: %w", addr, h.ctx.Err())
	}
	var nt drivers.NetTimings
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	hosts := []string{host}
	if _, err := netip.ParseAddr(host); err != nil {
		t0 := time.Now()
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		nt.DNS = time.Since(t0)
		if err == nil && len(ips) == 0 {
			err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		if err != nil {
			// A dial error, as net/http's dialer reports a failed lookup
			// (LookupNetIP's own errors are not all DNS errors: a .onion
			// name is an AddrError).
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
		}
		hosts = hosts[:0]
		for _, ip := range ips {
			hosts = append(hosts, ip.Unmap().String())
		}
	}
	// The addresses in turn, the first that answers wins (no happy
	// eyeballs: connect time is one connect's).
	var conn net.Conn
	for _, h := range hosts {
		t0 := time.Now()
		conn, err = f.dialer.DialContext(ctx, "tcp", net.JoinHostPort(h, port))
		nt.Connect = time.Since(t0)
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if f.tls != nil {
		tc := f.tls.Clone()
		tc.ServerName = f.sni
		t0 := time.Now()
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		nt.TLS = time.Since(t0)
		conn = tconn
	}
	nt.NewConn = true
	tc := &timedConn{Conn: conn, f: f, nt: nt}
	tc.fresh.Store(true)
	f.mu.Lock()
	f.conns[tc] = struct{}{}
	f.mu.Unlock()
	return tc, nil
}

// timedConn is a connection of the fasthttp client that times its
// requests: when one was written (the last Write) and its first response
// byte (the first Read after it), read by the request that used it. A
// connection serves one request at a time, but fasthttp may hand it to
// the next request before this one has read the times, so they are
// atomic: at worst a request reads the next one's times, never a torn
// value.
type timedConn struct {
	net.Conn
	f     *fastClient
	nt    drivers.NetTimings // the dial's, for the first request
	fresh atomic.Bool        // nt not yet taken
	wrote atomic.Int64       // since f.base, after the last Write
	first atomic.Int64       // from wrote to the first byte read after it; -1 until then
}

func (c *timedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.wrote.Store(int64(time.Since(c.f.base)))
	c.first.Store(-1)
	return n, err
}

func (c *timedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.first.Load() < 0 {
		c.first.Store(int64(time.Since(c.f.base)) - c.wrote.Load())
	}
	return n, err
}

func (c *timedConn) Close() error {
	c.f.mu.Lock()
	delete(c.f.conns, c)
	c.f.mu.Unlock()
	return c.Conn.Close()
}

// Handshake tells fasthttp that a TLS connection has done its handshake
// (in dial) and is not to be wrapped again; it is never called for http://.
func (c *timedConn) Handshake() error {
	if h, ok := c.Conn.(interface{ Handshake() error }); ok {
		return h.Handshake()
	}
	return nil
}

// LocalAddr is how a response leads back to its connection: fasthttp keeps
// it in the response (Response.LocalAddr), so finding the connection's
// times costs no lookup.
func (c *timedConn) LocalAddr() net.Addr { return (*connAddr)(c) }

// connAddr is a timedConn seen as its local address.
type connAddr timedConn

func (a *connAddr) Network() string { return a.Conn.LocalAddr().Network() }
func (a *connAddr) String() string  { return a.Conn.LocalAddr().String() }

// timings fills c's network phases and wire time from the connection
// resp came over: the dial's times if this is its first request, the
// write and first-byte times if they are later than began (this
// request's, not an earlier one's on the same connection).
func (f *fastClient) timings(resp *fasthttp.Response, began time.Time, c *drivers.Call) {
	a, ok := resp.LocalAddr().(*connAddr)
	if !ok {
		return
	}
	conn := (*timedConn)(a)
	if conn.fresh.Load() && conn.fresh.CompareAndSwap(true, false) {
		c.Net = conn.nt
	}
	wrote := time.Duration(conn.wrote.Load())
	if f.base.Add(wrote).Before(began) {
		return
	}
	c.Sent = f.base.Add(wrote)
	if fb := conn.first.Load(); fb > 0 {
		c.Net.FirstByte = time.Duration(fb)
	}
}

// ctxWatch is one context the client's requests run under, watched so
// that its cancellation ends them: fasthttp takes no context, so the
// connections are closed under them.
type ctxWatch struct {
	ctx      context.Context
	inflight atomic.Int64 // requests under ctx now
	stop     func() bool  // unregisters the AfterFunc
}

// watch returns the watch of ctx, registering one the first time ctx is
// seen (nil for a context that cannot be cancelled). The engine passes the
// same context for every request of a run: after the first, this is an
// atomic load and a comparison.
func (f *fastClient) watch(ctx context.Context) *ctxWatch {
	if w := f.last.Load(); w != nil && w.ctx == ctx {
		return w
	}
	if ctx.Done() == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.ctxs[ctx]
	if !ok {
		w = &ctxWatch{ctx: ctx}
		f.ctxs[ctx] = w
		w.stop = context.AfterFunc(ctx, func() { f.cancelled(w) })
	}
	f.last.Store(w)
	return w
}

// cancelled forgets w and, if requests under it are in flight, closes
// every connection, which ends them at once with a read or write error
// (invokeFast returns the context's), and refuses new connections until
// they have all returned, so that a request waiting for a connection
// under max_connections does not get a fresh one and wait out its
// timeout. Requests under another context at that moment fail too: one
// run's requests share one context.
func (f *fastClient) cancelled(w *ctxWatch) {
	f.mu.Lock()
	delete(f.ctxs, w.ctx)
	f.last.CompareAndSwap(w, nil)
	f.mu.Unlock()
	if w.inflight.Load() == 0 {
		return
	}
	f.halt.Store(w)
	f.closeAll()
}

// close unregisters the contexts' watches, which would keep the client
// until their contexts end, and closes the idle connections.
func (f *fastClient) close() {
	f.mu.Lock()
	for ctx, w := range f.ctxs {
		w.stop()
		delete(f.ctxs, ctx)
	}
	f.last.Store(nil)
	f.mu.Unlock()
	f.hc.CloseIdleConnections()
}

// closeAll closes the idle connections through the pool, then the busy
// ones under their requests.
func (f *fastClient) closeAll() {
	f.hc.CloseIdleConnections()
	f.mu.Lock()
	busy := make([]*timedConn, 0, len(f.conns))
	for c := range f.conns {
		busy = append(busy, c)
	}
	f.mu.Unlock()
	for _, c := range busy {
		c.Close()
	}
}

// invokeFast is Invoke on the fasthttp client. body is the request body
// (nil: none); u is the call's own URL when it overrides the target's.
//
// fasthttp takes no context: ctx's deadline, when sooner than the
// timeout, bounds the request, a ctx already done sends nothing, and a
// cancellation while the request is in flight closes the connections
// under it (watch).
func (d *Driver) invokeFast(ctx context.Context, c *drivers.Call, method string, u *url.URL, body []byte) error {
	f := d.fast
	w := f.watch(ctx)
	if w != nil {
		w.inflight.Add(1)
		defer w.inflight.Add(-1)
	}
	// After the count: a cancellation from here on sees this request.
	if err := ctx.Err(); err != nil {
		return err
	}
	began := time.Now()
	deadline := began.Add(f.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	f.tmpl.CopyTo(&req.Header)
	if u == d.u {
		req.SetURI(&f.uri)
	} else {
		req.SetRequestURI(u.String())
	}
	if method != f.method {
		req.Header.SetMethod(method)
	}
	if c.Request != nil {
		for k, v := range c.Request.Header {
			if !strings.EqualFold(k, "Host") {
				req.Header.Set(http.CanonicalHeaderKey(k), v) // replaces a configured one, as net/http's Set does
			}
		}
	}
	if d.idKey != "" && c.ID != "" {
		req.Header.Set(d.idKey, c.ID)
	}
	if tc := &c.Trace; tc.Valid() {
		var b [64]byte
		req.Header.SetBytesV("Traceparent", tc.AppendTraceparent(b[:0]))
		if tc.State != "" {
			req.Header.Set("Tracestate", tc.State)
		}
	}
	if body != nil {
		req.SetBodyRaw(body)
	}
	err := f.hc.DoDeadline(req, resp, deadline)
	f.timings(resp, began, c)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return fastError(err)
	}
	c.Status = resp.StatusCode()
	d.fastSignals(&resp.Header, c)
	var n int64
	markers := d.wantsMarkers(c)
	if s := resp.BodyStream(); s != nil {
		if markers {
			n, err = d.readMarkers(s, c)
		} else {
			n, err = drain(s, d.cfg.MaxBody)
		}
	} else {
		b := resp.Body()
		b = b[:min(int64(len(b)), d.cfg.MaxBody)]
		if markers {
			d.marks.Read(b, c)
		}
		n = int64(len(b))
	}
	c.BytesIn = n
	// Closing a stream not read to its end drops the connection, as
	// net/http does for a body over the cap.
	if cerr := resp.CloseBodyStream(); err == nil && cerr != nil && n < d.cfg.MaxBody {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return fastError(err)
	}
	return nil
}

// fastSignals is readSignals for a fasthttp response: only the headers
// asked for are copied out, unless a platform hook wants them all.
func (d *Driver) fastSignals(h *fasthttp.ResponseHeader, c *drivers.Call) {
	if d.cfg.Platform != nil {
		hh := make(http.Header)
		for k, v := range h.All() {
			hh.Add(string(k), string(v))
		}
		d.readSignals(hh, c)
		return
	}
	if c.Temp == drivers.Unknown {
		for _, name := range d.cold {
			if v := h.Peek(name); len(v) > 0 {
				c.Temp, c.Source = ParseCold(string(v)), drivers.SourceHeader
				break
			}
		}
	}
	if c.InstanceID == "" && d.cfg.InstanceHeader != "" {
		if v := h.Peek(d.cfg.InstanceHeader); len(v) > 0 {
			c.InstanceID = string(v)
		}
	}
}

// fastError puts fasthttp's own errors into the classes drivers.Classify
// knows: its timeouts as deadline errors, a connection the server closed
// before answering as a read error on it (net/http reports a reset so).
func fastError(err error) error {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout), errors.Is(err, fasthttp.ErrNoFreeConns):
		return fmt.Errorf("%w: %w", os.ErrDeadlineExceeded, err)
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return &net.OpError{Op: "read", Net: "tcp", Err: err}
	}
	return err
}

// invokeFastCall picks the call's method, URL and body for invokeFast;
// buf holds the executed body template, if any.
func (d *Driver) invokeFastCall(ctx context.Context, c *drivers.Call, buf *bytes.Buffer) error {
	method, u := d.cfg.Method, d.u
	if c.Request != nil {
		var err error
		if method, u, err = d.override(c.Request); err != nil {
			return err
		}
	}
	var body []byte
	switch {
	case c.Request != nil && c.Request.Body != nil:
		body = c.Request.Body
	case buf != nil:
		body = buf.Bytes()
	case len(d.static) > 0:
		body = d.static
	}
	return d.invokeFast(ctx, c, method, u, body)
}

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
	"time"

	"github.com/valyala/fasthttp"

	"github.com/coldbench/coldbench/drivers"
)

// ClientFast selects the fasthttp client (`client: fasthttp`): HTTP/1.1
// only, I/O in the calling goroutine, requests and responses pooled — no
// allocation per request against net/http's forty-odd. It cannot do
// HTTP/2 or SigV4, and has no first-byte timing; connect and TLS times
// come from its dial hook.
const ClientFast = "fasthttp"

// fastClient is the http driver's fasthttp client for one target host.
type fastClient struct {
	hc      *fasthttp.HostClient
	uri     string // the target URL, for requests that do not override it
	host    string // its host[:port], the Host header
	timeout time.Duration
	dialer  net.Dialer
	tls     *tls.Config // nil for http://
	sni     string

	mu    sync.Mutex
	fresh map[netip.AddrPort]drivers.NetTimings // connections dialled and not yet used, by local address
}

func newFastClient(cfg *Config, u *url.URL) (*fastClient, error) {
	f := &fastClient{
		uri: u.String(), host: u.Host, timeout: cfg.Timeout,
		dialer: net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second},
		fresh:  map[netip.AddrPort]drivers.NetTimings{},
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
// TLS handshake, and files the times under the connection's local address
// for the request that will use it first.
func (f *fastClient) dial(addr string) (net.Conn, error) {
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
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
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
	if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		f.mu.Lock()
		if len(f.fresh) >= maxFresh {
			// Connections whose first request failed before a response
			// are never claimed: forget them all rather than grow.
			clear(f.fresh)
		}
		f.fresh[a.AddrPort()] = nt
		f.mu.Unlock()
	}
	return conn, nil
}

// maxFresh bounds the connections waiting for their first response.
const maxFresh = 4096

// netTimings is the dial's times when resp came over a connection this is
// the first request of; zero for a reused connection.
func (f *fastClient) netTimings(resp *fasthttp.Response) drivers.NetTimings {
	a, ok := resp.LocalAddr().(*net.TCPAddr)
	if !ok {
		return drivers.NetTimings{}
	}
	k := a.AddrPort()
	f.mu.Lock()
	nt, ok := f.fresh[k]
	if ok {
		delete(f.fresh, k)
	}
	f.mu.Unlock()
	return nt
}

// invokeFast is Invoke on the fasthttp client. body is the request body
// (nil: none); u is the call's own URL when it overrides the target's.
//
// fasthttp takes no context: ctx's deadline, when sooner than the
// timeout, bounds the request, and a ctx already done sends nothing; a
// cancellation while the request is in flight is seen when it ends, at
// the latest at the timeout.
func (d *Driver) invokeFast(ctx context.Context, c *drivers.Call, method string, u *url.URL, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(d.fast.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	f := d.fast
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if u == d.u {
		req.SetRequestURI(f.uri)
	} else {
		req.SetRequestURI(u.String())
	}
	req.Header.SetMethod(method)
	req.Header.SetHost(f.host)
	for k, vs := range d.hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Request != nil {
		for k, v := range c.Request.Header {
			if !strings.EqualFold(k, "Host") {
				req.Header.Set(k, v) // names normalised, as net/http's Set does
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
	c.Net = f.netTimings(resp)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return fastError(err)
	}
	c.Status = resp.StatusCode()
	var n int64
	if s := resp.BodyStream(); s != nil {
		n, err = drain(s, d.cfg.MaxBody)
	} else {
		n = int64(min(len(resp.Body()), int(d.cfg.MaxBody)))
	}
	c.BytesIn = n
	// Closing a stream not read to its end drops the connection, as
	// net/http does for a body over the cap.
	if cerr := resp.CloseBodyStream(); err == nil && cerr != nil && n < d.cfg.MaxBody {
		err = cerr
	}
	d.fastSignals(&resp.Header, c)
	if err != nil {
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

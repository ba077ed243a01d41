// Package http is the driver for any HTTP(S) endpoint: a function URL, an API
// gateway route, a Knative or OpenFaaS route. It tells cold from warm by
// headers the platform or the function sets.
package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

func init() {
	drivers.RegisterConfig("http", DefaultConfig, func(_ context.Context, c *Config) (*Driver, error) { return New(c) })
}

// Config is the http driver's settings under a scenario's target block.
type Config struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	// Body is a text/template executed per request with .Seq, .ID and .Phase.
	Body    string        `yaml:"body"`
	Timeout time.Duration `yaml:"timeout"`
	// HTTP2 negotiates HTTP/2 over TLS and uses h2c (prior knowledge) for
	// plain http:// URLs.
	HTTP2 bool      `yaml:"http2"`
	TLS   TLSConfig `yaml:"tls"`
	// MaxBody caps how much of a response body is read; the rest is
	// discarded with the connection, so a huge body cannot exhaust memory.
	MaxBody int64 `yaml:"max_body"`
	// MaxConnections caps connections to the target (0: no cap). Requests
	// beyond it wait for a connection, and that wait counts in latency.
	MaxConnections int `yaml:"max_connections"`
	// Cold detection from response headers.
	ColdHeaders     []string `yaml:"cold_headers"`    // a truthy value ("true", "1", "yes", "cold") marks a cold start
	InstanceHeader  string   `yaml:"instance_header"` // header carrying an instance id
	RequestIDHeader string   `yaml:"request_id_header"`
	// ColdBody names JSON fields of the response body carrying the cold
	// flag and instance id (a scenario's cold.body); read within MaxBody,
	// only when the headers said nothing.
	ColdBody drivers.BodyMarkers `yaml:"-"`
	// SigV4, when present, signs every request with AWS Signature
	// Version 4 (IAM-authenticated Lambda function URLs).
	SigV4 *SigV4Config `yaml:"sigv4"`
	// Client is the HTTP client: "fasthttp" (fast.go), HTTP/1.1 only and
	// without sigv4, or "net/http". Unset, it is fasthttp unless http2 or
	// sigv4 needs net/http.
	Client string `yaml:"client"`

	// Platform is set by drivers built on this one (the sim driver) to read
	// a platform's own signal before the generic headers.
	Platform func(h http.Header, c *drivers.Call) `yaml:"-"`
}

// TLSConfig holds client TLS options.
type TLSConfig struct {
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
}

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{
		Method:          http.MethodGet,
		Timeout:         30 * time.Second,
		MaxBody:         1 << 20,
		RequestIDHeader: "X-Request-Id",
	}
}

// SetColdHeaders implements drivers.ColdHeaderSetter.
func (c *Config) SetColdHeaders(cold []string, instance string) {
	c.ColdHeaders, c.InstanceHeader = cold, instance
}

// SetColdBody implements drivers.ColdBodySetter.
func (c *Config) SetColdBody(m drivers.BodyMarkers) { c.ColdBody = m }

// SetURL implements drivers.URLSetter for --target.
func (c *Config) SetURL(u string) error {
	c.URL = u
	return c.validateURL()
}

func (c *Config) validateURL() error {
	if c.URL == "" {
		return &drivers.FieldError{Field: "url", Msg: "is required"}
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return &drivers.FieldError{Field: "url", Msg: err.Error()}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &drivers.FieldError{Field: "url", Msg: fmt.Sprintf("scheme %q: want http or https", u.Scheme)}
	}
	if u.Host == "" {
		return &drivers.FieldError{Field: "url", Msg: "has no host"}
	}
	return nil
}

// Validate reports every bad setting as a *drivers.FieldError.
func (c *Config) Validate() error {
	var errs []error
	if err := c.validateURL(); err != nil {
		errs = append(errs, err)
	}
	if c.Method == "" || strings.ContainsAny(c.Method, " \t\r\n") {
		errs = append(errs, &drivers.FieldError{Field: "method", Msg: fmt.Sprintf("%q is not an HTTP method", c.Method)})
	}
	if c.Timeout <= 0 {
		errs = append(errs, &drivers.FieldError{Field: "timeout", Msg: "must be positive"})
	}
	if c.MaxConnections < 0 {
		errs = append(errs, &drivers.FieldError{Field: "max_connections", Msg: "must not be negative"})
	}
	if c.MaxBody <= 0 {
		errs = append(errs, &drivers.FieldError{Field: "max_body", Msg: "must be positive"})
	}
	if _, err := template.New("body").Parse(c.Body); err != nil {
		errs = append(errs, &drivers.FieldError{Field: "body", Msg: err.Error()})
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, &drivers.FieldError{Field: "tls.cert_file", Msg: "cert_file and key_file go together"})
	}
	if err := c.SigV4.validate(); err != nil {
		errs = append(errs, err)
	}
	switch {
	case c.Client != "" && c.Client != ClientNetHTTP && c.Client != ClientFast:
		errs = append(errs, &drivers.FieldError{Field: "client", Msg: fmt.Sprintf("%q: want %s or %s", c.Client, ClientNetHTTP, ClientFast)})
	case c.Client == ClientFast && c.HTTP2:
		errs = append(errs, &drivers.FieldError{Field: "client", Msg: ClientFast + " speaks HTTP/1.1 only: not with http2"})
	case c.Client == ClientFast && c.SigV4 != nil:
		errs = append(errs, &drivers.FieldError{Field: "client", Msg: ClientFast + " does not sign requests: not with sigv4"})
	}
	for _, f := range []struct{ field, path string }{{"tls.ca_file", c.TLS.CAFile}, {"tls.cert_file", c.TLS.CertFile}, {"tls.key_file", c.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, &drivers.FieldError{Field: f.field, Msg: err.Error()})
		}
	}
	return errors.Join(errs...)
}

// Driver sends one HTTP request per call.
type Driver struct {
	cfg    Config
	client *http.Client
	body   *template.Template // nil when the body has no template actions
	static []byte
	bufs   sync.Pool
	u      *url.URL    // cfg.URL parsed once; requests share it read-only
	hdr    http.Header // cfg.Headers canonicalized once; requests share the value slices
	idKey  string      // canonical RequestIDHeader
	cold   []string
	sig    *signer             // nil unless the config has a sigv4: block
	marks  *drivers.BodyReader // nil unless cold.body names fields
	fast   *fastClient         // nil when the client is net/http
}

var _ drivers.Driver = (*Driver)(nil)

// New opens an http driver.
func New(cfg *Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := transport(cfg)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:    *cfg,
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: noRedirect},
		bufs:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	if d.u, err = url.Parse(cfg.URL); err != nil {
		return nil, err
	}
	d.hdr = make(http.Header, len(cfg.Headers))
	for k, v := range cfg.Headers {
		d.hdr.Set(k, v)
	}
	if _, ok := d.hdr["User-Agent"]; !ok { // the scenario's own wins
		d.hdr["User-Agent"] = []string{drivers.UserAgent}
	}
	d.idKey = http.CanonicalHeaderKey(cfg.RequestIDHeader)
	for _, h := range cfg.ColdHeaders {
		d.cold = append(d.cold, http.CanonicalHeaderKey(h))
	}
	t := template.Must(template.New("body").Parse(cfg.Body))
	if strings.Contains(cfg.Body, "{{") {
		d.body = t
	} else {
		d.static = []byte(cfg.Body)
	}
	if cfg.SigV4 != nil {
		if d.sig, err = newSigner(cfg); err != nil {
			return nil, err
		}
	}
	if d.marks, err = drivers.NewBodyReader(cfg.ColdBody); err != nil {
		return nil, err
	}
	if cfg.fast() {
		if d.fast, err = newFastClient(cfg, d.u, d.hdr); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// fast says whether the driver uses the fasthttp client: when asked, or
// by default when nothing needs net/http (HTTP/2, SigV4 signing).
func (c *Config) fast() bool {
	return c.Client == ClientFast || c.Client == "" && !c.HTTP2 && c.SigV4 == nil
}

// A load generator reports what the target answered; following a redirect
// would measure something else.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func transport(cfg *Config) (http.RoundTripper, error) {
	tc, err := tlsConfig(cfg.TLS)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if cfg.HTTP2 && strings.HasPrefix(cfg.URL, "http://") {
		// h2c with prior knowledge: HTTP/2 without TLS.
		h2c := new(http.Protocols)
		h2c.SetUnencryptedHTTP2(true)
		return &http.Transport{Protocols: h2c, DialContext: dialer.DialContext}, nil
	}
	tr := &http.Transport{
		Proxy:               nil, // a load generator must hit the target, not a proxy from the environment
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tc,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: 10000, // one idle connection per in-flight request at most
		MaxConnsPerHost:     cfg.MaxConnections,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
		ForceAttemptHTTP2:   cfg.HTTP2,
		DisableCompression:  true,
	}
	if cfg.HTTP2 {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
		tr.Protocols.SetHTTP2(true)
	} else {
		// An empty map disables the automatic HTTP/2 upgrade over TLS.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tr, nil
}

func tlsConfig(c TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify, ServerName: c.ServerName} //nolint:gosec // the user asks for it
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca_file %s: no PEM certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Invoke implements drivers.Driver.
func (d *Driver) Invoke(ctx context.Context, c *drivers.Call) error {
	var buf *bytes.Buffer
	if (c.Request == nil || c.Request.Body == nil) && d.body != nil {
		buf = d.bufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer d.bufs.Put(buf)
		if err := d.body.Execute(buf, c); err != nil {
			return fmt.Errorf("body template: %w", err)
		}
	}
	if d.fast != nil {
		return d.invokeFastCall(ctx, c, buf)
	}
	var body io.Reader
	switch {
	case c.Request != nil && c.Request.Body != nil:
		body = bytes.NewReader(c.Request.Body) // replay: the call's own body
	case buf != nil:
		body = bytes.NewReader(buf.Bytes())
	case len(d.static) > 0:
		body = bytes.NewReader(d.static)
	}
	t := getTracer()
	defer t.put()
	// The timeout covers the whole exchange, body included, as an
	// http.Client's would; it wraps the traced context so that the trace
	// attached to the engine's context is reused.
	ctx, cancel := context.WithTimeout(t.context(ctx), d.cfg.Timeout)
	defer cancel()
	// The URL is parsed once in New: an empty URL here costs nothing to
	// parse, and the shared one replaces it.
	method, u := d.cfg.Method, d.u
	if c.Request != nil {
		var err error
		if method, u, err = d.override(c.Request); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, "", body)
	if err != nil {
		return err
	}
	req.URL, req.Host = u, u.Host
	req.Header = make(http.Header, len(d.hdr)+1)
	for k, v := range d.hdr {
		req.Header[k] = v
	}
	if c.Request != nil {
		setHeaders(req, c.Request)
	}
	if d.idKey != "" && c.ID != "" {
		req.Header[d.idKey] = []string{c.ID}
	}
	setTraceHeaders(req.Header, &c.Trace) // traceparent.go
	if d.sig != nil {
		// Signed last: the signature covers every header set above.
		payload, static := d.static, buf == nil
		if buf != nil {
			payload = buf.Bytes()
		}
		if c.Request != nil && c.Request.Body != nil {
			payload, static = c.Request.Body, false
		}
		if u == d.u {
			cp := *d.u // the signer may write to the URL; keep the shared one intact
			req.URL = &cp
		}
		if err := d.sig.sign(req, payload, static); err != nil {
			return err
		}
	}
	// The transport is called directly, not through the client, which
	// would copy the headers and URL for redirects that are never followed
	// and build a deadline of its own: several allocations per request.
	resp, err := d.client.Transport.RoundTrip(req)
	if err != nil {
		t.finish(c)
		return err
	}
	c.Status = resp.StatusCode
	d.readSignals(resp.Header, c)
	var n int64
	if d.wantsMarkers(c) {
		n, err = d.readMarkers(resp.Body, c)
	} else {
		n, err = drain(resp.Body, d.cfg.MaxBody)
	}
	c.BytesIn = n
	resp.Body.Close()
	t.finish(c)
	return err
}

// wantsMarkers says whether c's body is to be read for cold.body markers:
// only when the scenario names them and no stronger signal (a header, an
// instance id) has decided already.
func (d *Driver) wantsMarkers(c *drivers.Call) bool {
	return d.marks != nil && c.Temp == drivers.Unknown && c.InstanceID == ""
}

// readMarkers reads the body, up to MaxBody, for its cold.body markers.
// Only drivers with markers come here: the others drain without keeping
// the body.
func (d *Driver) readMarkers(r io.Reader, c *drivers.Call) (int64, error) {
	buf := d.bufs.Get().(*bytes.Buffer)
	defer d.bufs.Put(buf)
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, d.cfg.MaxBody))
	if err == nil {
		d.marks.Read(buf.Bytes(), c)
	}
	return n, err
}

// drainBufs are the buffers response bodies are read into and discarded.
var drainBufs = sync.Pool{New: func() any { return new([16 << 10]byte) }}

// drain reads and discards up to limit bytes of r, the way
// io.Copy(io.Discard, io.LimitReader(r, limit)) does without allocating
// the LimitedReader per request.
func drain(r io.Reader, limit int64) (int64, error) {
	buf := drainBufs.Get().(*[16 << 10]byte)
	defer drainBufs.Put(buf)
	var n int64
	for n < limit {
		m, err := r.Read(buf[:min(int64(len(buf)), limit-n)])
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readSignals fills in the temperature and platform fields from headers,
// strongest signal first.
func (d *Driver) readSignals(h http.Header, c *drivers.Call) {
	if d.cfg.Platform != nil {
		d.cfg.Platform(h, c)
	}
	if c.Temp == drivers.Unknown {
		for _, name := range d.cold {
			if v := h.Get(name); v != "" {
				c.Temp, c.Source = ParseCold(v), drivers.SourceHeader
				break
			}
		}
	}
	if c.InstanceID == "" && d.cfg.InstanceHeader != "" {
		c.InstanceID = h.Get(d.cfg.InstanceHeader)
	}
}

// ParseCold reads a cold-start header value: "true", "1", "yes" and "cold"
// mean cold; anything else means warm.
func ParseCold(v string) drivers.Temperature { return drivers.ParseCold(v) }

// ParseMillis reads a duration header written in (fractional) milliseconds.
func ParseMillis(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond))
}

// Close implements drivers.Driver.
func (d *Driver) Close() error {
	d.client.CloseIdleConnections()
	if d.fast != nil {
		d.fast.close()
	}
	return nil
}

// String describes the target for reports.
func (c *Config) String() string { return c.Method + " " + c.URL }

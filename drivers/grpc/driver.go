package grpcdriver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// Driver calls one unary gRPC method per call. It is safe for concurrent
// use: calls share the connections, which HTTP/2 multiplexes.
type Driver struct {
	cfg      Config
	method   *method
	req      *requester
	conns    []*grpc.ClientConn
	next     atomic.Uint64 // round robin over conns
	md       metadata.MD   // sent with every call
	reqID    string        // metadata key for the request id, "" for none
	cold     []string      // metadata keys that mark a cold start, strongest first
	instance string        // metadata key of the instance id
	codec    grpc.CallOption
}

var _ drivers.Driver = (*Driver)(nil)

// Open validates cfg, connects to the server, resolves the method (by
// reflection or from the descriptor set) and checks the request against
// the method's input message. It fails, naming the setting, when the
// server is unreachable, the method unknown or streaming, or the request
// JSON does not fit the message. Connecting and resolving are bounded by
// cfg.Timeout.
func Open(ctx context.Context, cfg *Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	creds, err := transportCredentials(cfg)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	m, err := resolveOn(rctx, cfg, creds)
	if err != nil {
		return nil, err
	}
	req, err := newRequester(cfg.Request, m)
	if err != nil {
		return nil, err
	}

	d := &Driver{
		cfg:      *cfg,
		method:   m,
		req:      req,
		md:       metadata.New(cfg.Metadata), // lower-cases the keys
		reqID:    strings.ToLower(cfg.RequestIDMetadata),
		instance: strings.ToLower(cfg.InstanceMetadata),
		codec:    grpc.ForceCodecV2(rawCodec{}),
	}
	for _, k := range append([]string{cfg.ColdMetadata}, cfg.ScenarioCold...) {
		if k != "" {
			d.cold = append(d.cold, strings.ToLower(k))
		}
	}
	// The calls' connections are made lazily, by the first call on each,
	// so that call carries the connection's setup times (see trace.go).
	dials := newConnLog(cfg.Timeout)
	if !cfg.Plaintext {
		creds = timedCreds{creds, dials}
	}
	opts := append(dialOptions(creds),
		grpc.WithContextDialer(dials.dial),
		grpc.WithStatsHandler(statsHandler{dials}),
	)
	for range cfg.Connections {
		c, err := grpc.NewClient(target(cfg.Address), opts...)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("grpc client for %s: %w", cfg.Address, err)
		}
		d.conns = append(d.conns, c)
	}
	return d, nil
}

// target is the gRPC name of address: DNS, so that a name with several
// addresses works like grpc-go's default.
func target(address string) string { return "dns:///" + address }

// dialOptions are the options of every connection the driver makes.
func dialOptions(creds credentials.TransportCredentials) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(drivers.UserAgent),
		// A load generator reports what the server answered: no retries a
		// service config could switch on behind its back.
		grpc.WithDisableServiceConfig(),
		grpc.WithDisableRetry(),
	}
}

// resolveOn resolves the method over a connection of its own, closed when
// done, after checking that the server can be reached at all.
func resolveOn(ctx context.Context, cfg *Config, creds credentials.TransportCredentials) (*method, error) {
	conn, err := grpc.NewClient(target(cfg.Address), dialOptions(creds)...)
	if err != nil {
		return nil, &drivers.FieldError{Field: "address", Msg: err.Error()}
	}
	defer conn.Close()
	if err := waitReady(ctx, conn); err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", cfg.Address, err)
	}
	return resolve(ctx, cfg, conn)
}

// waitReady connects conn and waits until it is ready or has failed.
func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.TransientFailure:
			// A fail-fast call fails at once in this state, with the
			// connection's last error in gRPC's words ("connection
			// refused", "authentication handshake failed: ...").
			sctx, cancel := context.WithCancel(ctx)
			_, err := conn.NewStream(sctx, &grpc.StreamDesc{ServerStreams: true}, "/grpc.health.v1.Health/Watch")
			cancel()
			if err != nil {
				return errors.New(status.Convert(err).Message())
			}
			continue // it came up meanwhile
		}
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("no connection (%s): %w", strings.ToLower(s.String()), ctx.Err())
		}
	}
}

// transportCredentials are TLS, or none for plaintext.
func transportCredentials(cfg *Config) (credentials.TransportCredentials, error) {
	if cfg.Plaintext {
		return insecure.NewCredentials(), nil
	}
	c := cfg.TLS
	tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify, ServerName: c.ServerName} //nolint:gosec // the user asks for it
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, &drivers.FieldError{Field: "tls.ca_file", Msg: err.Error()}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &drivers.FieldError{Field: "tls.ca_file", Msg: c.CAFile + ": no PEM certificates"}
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, &drivers.FieldError{Field: "tls.cert_file", Msg: err.Error()}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(tc), nil
}

// Invoke implements drivers.Driver. A status the server answered is data
// in c (see status.go for the mapping); an error means no answer came.
func (d *Driver) Invoke(ctx context.Context, c *drivers.Call) error {
	data, buf, err := d.req.request(c)
	if buf != nil {
		defer d.req.release(buf)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	ctx = metadata.NewOutgoingContext(ctx, d.md)
	if d.reqID != "" && c.ID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, d.reqID, c.ID)
	}
	if kv := traceMetadata(&c.Trace); kv != nil {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	t := new(trace)
	ctx = context.WithValue(ctx, traceKey{}, t)

	var header, trailer metadata.MD
	resp := frame{}
	err = d.conn().Invoke(ctx, d.method.path, &frame{data: data}, &resp,
		d.codec, grpc.Header(&header), grpc.Trailer(&trailer))
	answered := t.finish(c)
	c.BytesIn = int64(resp.n)
	d.readSignals(c, header, trailer)
	return outcome(ctx, c, err, answered)
}

// conn picks the next connection, round robin.
func (d *Driver) conn() *grpc.ClientConn {
	if len(d.conns) == 1 {
		return d.conns[0]
	}
	return d.conns[d.next.Add(1)%uint64(len(d.conns))]
}

// readSignals fills in the temperature and instance from response
// metadata, headers before trailers.
func (d *Driver) readSignals(c *drivers.Call, header, trailer metadata.MD) {
	for _, k := range d.cold {
		if v := lookup(k, header, trailer); v != "" {
			c.Temp, c.Source = httpdriver.ParseCold(v), drivers.SourceHeader
			break
		}
	}
	if d.instance != "" {
		c.InstanceID = lookup(d.instance, header, trailer)
	}
}

// lookup returns the first value of key (lower case) in the first of mds
// that has one.
func lookup(key string, mds ...metadata.MD) string {
	for _, md := range mds {
		if v := md[key]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return ""
}

// Close implements drivers.Driver.
func (d *Driver) Close() error {
	var errs []error
	for _, c := range d.conns {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Method returns the full name of the method the driver calls,
// "/package.Service/Method".
func (d *Driver) Method() string { return d.method.path }

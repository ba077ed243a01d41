package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
)

// maxMessage bounds a snapshot: many phases of many histograms stay far
// below it.
const maxMessage = 64 << 20

// Endpoint is one agent as the controller reaches it.
type Endpoint struct {
	// Name is the agent's address, or "local".
	Name   string
	Client pb.AgentClient
	close  func() error
	// local is the agent of a Local endpoint, which this process's
	// controller hands the compiled scenario directly.
	local *Agent
}

// Close releases the connection (and, for a local agent, its server).
func (e *Endpoint) Close() error {
	if e.close == nil {
		return nil
	}
	return e.close()
}

// Addr is one agent address to dial, with the name its certificate must
// carry.
type Addr struct {
	Addr       string // host:port
	ServerName string // for TLS verification
}

// dnsPrefix marks an --agents entry to resolve: every A and AAAA record of
// the name is an agent, as behind a Kubernetes headless Service.
const dnsPrefix = "dns:///"

// Resolve expands --agents entries, each "host:port" or
// "dns:///name:port", into agent addresses. A dns entry yields every
// address the name resolves to, sorted so that shares go to agents in a
// stable order; its agents' certificates must carry the name.
func Resolve(ctx context.Context, specs []string) ([]Addr, error) {
	var out []Addr
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(spec, dnsPrefix); ok {
			host, port, err := net.SplitHostPort(rest)
			if err != nil {
				return nil, fmt.Errorf("agents %q: want dns:///name:port: %w", spec, err)
			}
			ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				return nil, fmt.Errorf("agents %q: %w", spec, err)
			}
			var found []string
			for _, ip := range ips {
				found = append(found, net.JoinHostPort(ip.IP.String(), port))
			}
			slices.Sort(found)
			for _, a := range slices.Compact(found) {
				out = append(out, Addr{Addr: a, ServerName: host})
			}
			continue
		}
		host, _, err := net.SplitHostPort(spec)
		if err != nil {
			return nil, fmt.Errorf("agents %q: want host:port or dns:///name:port: %w", spec, err)
		}
		out = append(out, Addr{Addr: spec, ServerName: host})
	}
	if len(out) == 0 {
		return nil, errors.New("agents: no agent addresses")
	}
	seen := map[string]bool{}
	for _, a := range out {
		if seen[a.Addr] {
			return nil, fmt.Errorf("agents: %s given twice", a.Addr)
		}
		seen[a.Addr] = true
	}
	return out, nil
}

// IsLoopback reports whether host (no port) is "localhost" or a loopback
// address. Plaintext is allowed only there.
func IsLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Dial makes a client for each agent. With tlsConfig nil the connection is
// plaintext, which only loopback addresses may use; otherwise the agents
// are verified with it (its ServerName set per agent) and it presents its
// client certificate. Connections are made on first use.
func Dial(addrs []Addr, tlsConfig *tls.Config) ([]*Endpoint, error) {
	var eps []*Endpoint
	for _, a := range addrs {
		var creds credentials.TransportCredentials
		if tlsConfig == nil {
			host, _, _ := net.SplitHostPort(a.Addr)
			if !IsLoopback(host) {
				closeAll(eps)
				return nil, fmt.Errorf("agent %s: plaintext (--insecure) is only allowed to loopback addresses", a.Addr)
			}
			creds = insecure.NewCredentials()
		} else {
			c := tlsConfig.Clone()
			if c.ServerName == "" {
				c.ServerName = a.ServerName
			}
			creds = credentials.NewTLS(c)
		}
		conn, err := grpc.NewClient("passthrough:///"+a.Addr,
			grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)),
		)
		if err != nil {
			closeAll(eps)
			return nil, fmt.Errorf("agent %s: %w", a.Addr, err)
		}
		eps = append(eps, &Endpoint{Name: a.Addr, Client: pb.NewAgentClient(conn), close: conn.Close})
	}
	return eps, nil
}

func closeAll(eps []*Endpoint) {
	for _, e := range eps {
		e.Close()
	}
}

// NewServer makes the gRPC server of an agent: mutual TLS with
// tlsConfig, or plaintext when it is nil (the caller checks the address).
// Keepalive pings drop a controller that stops answering, so that a
// stalled connection cannot hold the agent busy.
func NewServer(a *Agent, tlsConfig *tls.Config) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 5 * time.Second, Timeout: 5 * time.Second}),
		grpc.MaxRecvMsgSize(maxMessage),
		grpc.WaitForHandlers(true), // Stop returns once every run has ended
	}
	if tlsConfig != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConfig)))
	}
	s := grpc.NewServer(opts...)
	pb.RegisterAgentServer(s, a)
	return s
}

// Local serves a in this process over an in-memory connection and returns
// its endpoint: a local run goes through the same controller, protocol and
// agent as a distributed one. Close stops the server.
func Local(a *Agent) *Endpoint {
	// The pipe's buffer is allocated whole, once per direction, and held
	// for the run: 1 MiB each was 2 MiB of every local run's heap (about
	// twice that in resident memory at GOGC 100). gRPC writes frames of
	// at most 16 KiB, so a smaller pipe only makes a writer wait for the
	// reader a little sooner, off the request path.
	ln := bufconn.Listen(64 << 10)
	srv := NewServer(a, nil)
	go srv.Serve(ln)
	conn, err := grpc.NewClient("passthrough:///local",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)),
	)
	if err != nil {
		// NewClient fails only on a bad target or options, fixed here.
		panic("fleet: local agent: " + err.Error())
	}
	return &Endpoint{Name: "local", Client: pb.NewAgentClient(conn), local: a, close: func() error {
		err := conn.Close()
		a.Shutdown()
		srv.Stop()
		return err
	}}
}

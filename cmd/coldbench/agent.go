package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/coldbench/coldbench/internal/certs"
	"github.com/coldbench/coldbench/internal/fleet"
)

// agentCommand runs the agent daemon until SIGTERM or Ctrl-C. It speaks
// mutual TLS unless --insecure, which only a loopback address may use and
// only with an allow-list of targets.
func agentCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("agent", "", out)
	listen := fs.String("listen", ":7070", "address to listen on")
	caFile := fs.String("ca", "", "CA certificate that signed the controllers' certificates (mutual TLS)")
	certFile := fs.String("cert", "", "the agent's certificate (mutual TLS)")
	keyFile := fs.String("key", "", "the agent's key (mutual TLS)")
	insecure := fs.Bool("insecure", false, "plaintext, without authentication: only on a loopback address, and only with --allow-target")
	var allow stringList
	fs.Var(&allow, "allow-target", "only send to target hosts matching this pattern, such as *.lambda-url.*.on.aws or 127.0.0.1:* (repeatable)")
	maxRate := fs.Float64("max-rate", 0, "refuse shares above this many requests per second (0: no cap)")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return usagef("--listen %q: %v", *listen, err)
	}
	var tlsConfig *tls.Config
	mode := "mutual TLS"
	if *insecure {
		if *caFile != "" || *certFile != "" || *keyFile != "" {
			return usagef("--insecure and --ca/--cert/--key: choose plaintext or mutual TLS")
		}
		if !fleet.IsLoopback(host) {
			return usagef("--insecure: refusing to serve plaintext on %q; plaintext is only allowed on a loopback address such as 127.0.0.1", *listen)
		}
		// Plaintext has no authentication: any local user's controller
		// could make the agent send anywhere. An allow-list bounds where.
		if len(allow) == 0 {
			return usagef("--insecure needs --allow-target: a plaintext agent serves any local user's controller, so it must be told where it may send (such as --allow-target '127.0.0.1:*')")
		}
		mode = "plaintext, loopback only"
	} else if tlsConfig, err = certs.ServerConfig(*caFile, *certFile, *keyFile); err != nil {
		return usagef("%v; or --insecure on a loopback address", err)
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(os.Stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(os.Stderr, nil)
	default:
		return usagef("--log-format %q: want text or json", *logFormat)
	}
	log := slog.New(handler)
	opts := []fleet.AgentOption{
		fleet.WithAllowTargets(allow...),
		fleet.WithMaxRate(*maxRate),
		fleet.WithVersion(version),
		fleet.WithLogger(log),
	}
	// A test hook, deliberately not a flag: the fault tests run an agent
	// whose clock is off by this much (a Go duration, such as 2s).
	if v := os.Getenv("COLDBENCH_TEST_CLOCK_OFFSET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return usagef("COLDBENCH_TEST_CLOCK_OFFSET %q: %v", v, err)
		}
		log.Warn("test hook: the agent's clock is off", "offset", d)
		opts = append(opts, fleet.WithClockOffset(d))
	}
	// Another test hook: an agent that speaks another protocol version.
	if v := os.Getenv("COLDBENCH_TEST_PROTOCOL_VERSION"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return usagef("COLDBENCH_TEST_PROTOCOL_VERSION %q: %v", v, err)
		}
		log.Warn("test hook: the agent speaks another protocol version", "protocol", n)
		opts = append(opts, fleet.WithProtocolVersion(uint32(n)))
	}
	agent, err := fleet.NewAgent(opts...)
	if err != nil {
		return usageError{err}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := fleet.NewServer(agent, tlsConfig)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(out, "coldbench agent: listening on %s (%s)\n", ln.Addr(), mode)
	log.Info("agent listening", "addr", ln.Addr().String(), "mode", mode, "allow_targets", []string(allow), "max_rate", *maxRate)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Stop the run in progress (its final snapshot still goes out), then
	// let the server finish; give up waiting after a while.
	log.Info("shutting down")
	agent.Shutdown()
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		srv.Stop()
	}
	log.Info("stopped")
	return nil
}

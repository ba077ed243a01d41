package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/coldbench/coldbench/internal/certs"
	"github.com/coldbench/coldbench/internal/fleet"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/internal/telemetry"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

func runCommand(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := newFlags("run", "SCENARIO", out)
	outDir := fs.String("out", "", "run directory (default results/<UTC time>-<scenario>/)")
	target := fs.String("target", "", "override the scenario's target with this URL")
	quiet := fs.Bool("quiet", false, "no live progress")
	var agents stringList
	fs.Var(&agents, "agents", "run on these agents: host:port,... or dns:///service:port (repeatable)")
	insecure := fs.Bool("insecure", false, "talk to the agents in plaintext, without authentication (loopback agents only)")
	caFile := fs.String("ca", "", "CA certificate that signed the agents' certificates (mutual TLS)")
	certFile := fs.String("cert", "", "the controller's certificate (mutual TLS)")
	keyFile := fs.String("key", "", "the controller's key (mutual TLS)")
	onLoss := fs.String("on-agent-loss", "", "when an agent is lost: abort, continue or rebalance (default: the scenario's, else continue)")
	lease := fs.Duration("lease", 0, "agents stop when they hear nothing from this controller for this long (default 3s)")
	metrics := addMetricsFlags(fs)
	requests := fs.Bool("requests", false, "also keep every request, in vegeta's results format, as "+report.VegetaFile+" in the run directory (local runs)")
	s, err := scenarioArg(fs, args, target)
	if err != nil {
		return err
	}
	if *lease != 0 && *lease < 2*time.Second {
		return usagef("--lease %s: must cover two snapshots (a second apart), so at least 2s", *lease)
	}
	cfg := runner.Config{Scenario: s, Dir: *outDir, Lease: *lease}
	if *onLoss != "" {
		p, ok := scenarios.ParseAgentLoss(*onLoss)
		if !ok {
			return usagef("--on-agent-loss %q: want abort, continue or rebalance", *onLoss)
		}
		cfg.OnAgentLoss = p
	}
	if len(agents) > 0 {
		cfg.Agents = agents
		if cfg.TLS, err = controllerTLS(agents, *insecure, *caFile, *certFile, *keyFile); err != nil {
			return err
		}
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	} else if *insecure || *caFile != "" || *certFile != "" || *keyFile != "" {
		return usagef("--insecure, --ca, --cert and --key are for runs on agents (--agents)")
	}
	if *requests {
		closeLog, lerr := keepRequests(&cfg) // requests.go
		if lerr != nil {
			return lerr
		}
		defer func() { err = errors.Join(err, closeLog()) }()
	}
	cfg.RunID = telemetry.NewRunID(s.Name, time.Now())
	mx, err := metrics.start(ctx, s, cfg.RunID, false)
	if err != nil {
		return err
	}
	if mx != nil {
		cfg.Metrics = mx.e
		defer mx.close(ctx)
	}
	return runConfig(ctx, cfg, *quiet, out)
}

// controllerTLS is the controller's side of mutual TLS, or nil for
// plaintext with --insecure (the agents' addresses are checked when
// dialled).
func controllerTLS(agents []string, insecure bool, ca, cert, key string) (*tls.Config, error) {
	if insecure {
		if ca != "" || cert != "" || key != "" {
			return nil, usagef("--insecure and --ca/--cert/--key: choose plaintext or mutual TLS")
		}
		for _, a := range agents {
			if strings.HasPrefix(a, "dns:///") {
				continue // checked for each address it resolves to
			}
			if host, _, err := net.SplitHostPort(a); err == nil && !fleet.IsLoopback(host) {
				return nil, usagef("--insecure: refusing plaintext to agent %s; plaintext is only allowed to loopback addresses", a)
			}
		}
		return nil, nil
	}
	if ca == "" || cert == "" || key == "" {
		return nil, usagef("--agents needs --ca, --cert and --key for mutual TLS (see `coldbench certs`), or --insecure for loopback agents")
	}
	c, err := certs.ClientConfig(ca, cert, key)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// stringList is a repeatable flag whose values may also be
// comma-separated.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

// Set adds the comma-separated values of v.
func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// scenarioArg parses the flags of run, tune or plan and loads the one
// scenario they take (a file or a built-in name), with the --target
// override applied when set.
func scenarioArg(fs *flag.FlagSet, args []string, target *string) (*scenarios.Scenario, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return nil, usagef("want one scenario (a file or a built-in name), got %d arguments", len(pos))
	}
	s, err := scenarios.Load(pos[0])
	if err != nil {
		return nil, err
	}
	if *target != "" {
		if err := scenarios.SetTarget(s, *target); err != nil {
			return nil, usagef("--target: %v", err)
		}
	}
	return s, nil
}

// runConfig runs cfg, prints the summary table, the agents' breakdown of a
// run on agents and a warning for a degraded run, and says where the run
// is. A degraded run that completed is a success (exit 0).
func runConfig(ctx context.Context, cfg runner.Config, quiet bool, out io.Writer) error {
	cfg.Version = version
	cfg.Render = report.Files{}
	if !quiet {
		cfg.Progress, cfg.TTY = os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))
	}
	res, err := runner.Run(ctx, cfg)
	if res == nil {
		return err
	}
	if res.JournalErr != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", res.JournalErr)
	}
	if rerr := report.Text(out, res.Run); rerr != nil {
		return errors.Join(err, rerr)
	}
	if len(cfg.Agents) > 0 {
		printAgents(out, res.Run.Agents)
	}
	fmt.Fprintf(out, "\nrun directory: %s\nreport:        %s\n", res.Dir, filepath.Join(res.Dir, "report.md"))
	if res.Run.Degraded {
		fmt.Fprintf(os.Stderr, "warning: the run is degraded:\n")
		for _, r := range res.Run.DegradedReasons {
			fmt.Fprintf(os.Stderr, "  - %s\n", r)
		}
	}
	return runOutcome(res, err) // gate.go
}

// printAgents writes the per-agent breakdown.
func printAgents(out io.Writer, agents []results.AgentStats) {
	fmt.Fprintln(out, "\nagents:")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "agent\tstatus\trequests\terrors\treq/s\toffset ms\trtt ms\tstart skew ms\tB/snapshot\t")
	for _, a := range agents {
		skew := "-"
		if a.StartSkewMs != nil {
			skew = fmt.Sprintf("%.3f", *a.StartSkewMs)
		}
		var per int64
		if a.Snapshots > 0 {
			per = a.SnapshotBytes / int64(a.Snapshots)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%s\t%d\t\n",
			a.Name, a.Status, a.Requests, a.Errors, a.RateAchieved, a.ClockOffsetMs, a.RTTMs, skew, per)
	}
	w.Flush()
}

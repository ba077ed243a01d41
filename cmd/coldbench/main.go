// Command coldbench is a load-testing and cold-start benchmarking harness for
// serverless endpoints. main parses the subcommand, runs it and maps its
// error to an exit code; each subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/fleet"
	"github.com/coldbench/coldbench/scenarios"

	// Drivers register themselves.
	_ "github.com/coldbench/coldbench/drivers/cloudrun"
	_ "github.com/coldbench/coldbench/drivers/grpc"
	_ "github.com/coldbench/coldbench/drivers/http"
	_ "github.com/coldbench/coldbench/drivers/knative"
	_ "github.com/coldbench/coldbench/drivers/lambda"
	_ "github.com/coldbench/coldbench/drivers/openfaas"
	_ "github.com/coldbench/coldbench/drivers/sim"
)

// Exit codes, documented in README.
const (
	exitOK         = 0
	exitThreshold  = 1 // a threshold failed
	exitUsage      = 2 // usage or scenario error
	exitIncomplete = 3 // the run itself could not complete
)

// command is one subcommand: its one-line help and the function that runs it.
type command struct {
	help string
	run  func(ctx context.Context, args []string, out io.Writer) error
}

// commands is every subcommand, in one table.
var commands = map[string]command{
	"agent":     {"serve as an agent: take assignments from a controller over gRPC", agentCommand},
	"baseline":  {"name a run as a baseline for compare: set RUN NAME, list, show NAME, rm NAME", baselineCommand},
	"certs":     {"make a CA and certificates for mutual TLS: certs init | certs issue NAME", certsCommand},
	"compare":   {"regression verdict of a run against a baseline run (exit 1 when a gated metric is worse)", compareCommand},
	"demo":      {"run the built-in demo against the built-in emulator", demoCommand},
	"plan":      {"capacity planning: a stepped ramp to the break point, then a projection", planCommand},
	"report":    {"re-render a stored run, tuning run or capacity plan (text, json, md, html, hgrm, csv, vegeta)", reportCommand},
	"run":       {"replay a scenario once and write a run directory", runCommand},
	"scenarios": {"list the built-in scenarios", scenariosCommand},
	"sim":       {"run the FaaS emulator on its own", simCommand},
	"trend":     {"the history of many runs (a nightly job's): gated metrics, regressions, baselines", trendCommand},
	"tune":      {"sweep memory × prewarm settings and recommend one, with costs", tuneCommand},
	"validate":  {"check scenario files; report every error with file:line:column", validateCommand},
	"version":   {"print the version", versionCommand},
}

// completion reads the table to describe every command, so it joins the
// table here: in the literal it would be an initialization cycle.
func init() {
	commands["completion"] = command{"print a shell completion script: completion bash|zsh|fish", completionCommand}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drivers.UserAgent = "coldbench/" + version
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr) // nothing asked for: a usage error
		return exitUsage
	}
	// Asked-for help goes to stdout with exit 0; "help CMD" is "CMD -h".
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		args = []string{args[1], "-h"}
	case "-version", "--version":
		args = []string{"version"}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "coldbench: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	// A driver that goes on with less than asked (a Lambda endpoint
	// without its control plane) says so in one line on stderr.
	ctx = drivers.WithWarn(ctx, func(msg string) { fmt.Fprintf(stderr, "coldbench %s: warning: %s\n", args[0], msg) })
	err := cmd.run(ctx, args[1:], stdout)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "coldbench %s: %v\n", args[0], err)
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	var se scenarios.Errors
	var pe *scenarios.Error
	var ie incompleteError
	var ge gateError
	switch {
	case errors.As(err, &ge):
		return exitThreshold
	case errors.As(err, &ie):
		return exitIncomplete
	case errors.As(err, &ue), errors.As(err, &se), errors.As(err, &pe):
		return exitUsage
	case refusedInvalid(err):
		return exitUsage
	}
	return exitIncomplete
}

// refusedInvalid reports whether an agent refused the assignment itself
// (its scenario, the allow-list, the rate cap) or speaks another protocol:
// nothing was run, and running it again as it is cannot work (exit 2).
func refusedInvalid(err error) bool {
	var re *fleet.RefusedError
	var ve *fleet.VersionError
	return errors.As(err, &re) && re.Invalid || errors.As(err, &ve)
}

// usageError marks a bad command line or input (exit 2).
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// incompleteError marks a run that stopped before its end (exit 3); its
// partial result is on disk.
type incompleteError struct{ error }

func (e incompleteError) Unwrap() error { return e.error }
func (e usageError) Unwrap() error      { return e.error }

func usage(w io.Writer) {
	fmt.Fprintln(w, "coldbench: cold-start and load benchmarking for serverless endpoints")
	fmt.Fprintln(w, "\nusage: coldbench COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].help)
	}
	fmt.Fprintln(w, "\nRun 'coldbench COMMAND -h' for a command's flags.")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name, args string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	if flagSetSeen != nil {
		flagSetSeen(fs, args)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: coldbench %s [flags] %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing them after positional arguments too
// ("coldbench run smoke --out DIR"). The flag package's own printing is
// silenced: asked-for help is printed here, on the command's output, and a
// bad flag is returned for main to print once, on stderr.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	defer fs.SetOutput(out)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				fs.Usage()
				return nil, err
			}
			return nil, usageError{fmt.Errorf("%w (coldbench %s -h lists the flags)", err, fs.Name())}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

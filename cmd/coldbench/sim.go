package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/coldbench/coldbench/internal/sim"
)

// simCommand runs the FaaS emulator on its own until interrupted.
func simCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("sim", "", out)
	cfg := sim.DefaultConfig()
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	fs.IntVar(&cfg.MemoryMB, "memory", cfg.MemoryMB, "memory size in MB (CPU share scales with it)")
	fs.IntVar(&cfg.MinInstances, "min-instances", cfg.MinInstances, "prewarmed instances kept warm")
	fs.DurationVar(&cfg.KeepAlive, "keep-alive", cfg.KeepAlive, "how long an idle instance lives")
	fs.DurationVar(&cfg.Handler, "handler", cfg.Handler, "handler time at full CPU (1769 MB)")
	fs.DurationVar(&cfg.HandlerJitter, "handler-jitter", cfg.HandlerJitter, "handler time standard deviation")
	fs.DurationVar(&cfg.InitMean, "init", cfg.InitMean, "mean cold-start init time")
	fs.DurationVar(&cfg.InitStddev, "init-stddev", cfg.InitStddev, "init time standard deviation")
	fs.IntVar(&cfg.ConcurrencyLimit, "concurrency-limit", cfg.ConcurrencyLimit, "busy instances before 429 (0: none)")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		return usagef("--listen %q: %v", *listen, err)
	}
	emu, err := sim.New(cfg)
	if err != nil {
		return usageError{err}
	}
	defer emu.Close()
	url, err := emu.Start(*listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "coldbench sim: emulator listening on %s (control API at %s/_sim/)\n", url, url)
	<-ctx.Done()
	return nil
}

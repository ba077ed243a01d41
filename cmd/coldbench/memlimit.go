package main

import (
	"runtime/debug"
	"slices"
)

// memoryLimit is the Go runtime's soft memory limit for the commands that
// generate load, unless GOMEMLIMIT says otherwise (GOMEMLIMIT=off turns
// it off). At the default GOGC a heap grows to twice what is live before
// it is collected; a generator's live heap is small (about 15 MiB at
// 10 000 requests/s) but swells with its connections when the target or
// the machine slows, and the resident memory doubles with it. Interleaved
// runs at 5 000/s on a busy 2-core machine (100 k requests, 3 each,
// medians) peaked at 94 MiB anonymous without a limit and 38 MiB with
// this one, at the same CPU (8.0 and 8.1 s); 32 MiB made the collector
// run back to back (240 cycles, 3.9 s of GC) when the live heap neared it.
const memoryLimit = 48 << 20

// loadCommands are the subcommands that send load: a limit there keeps
// the generator's own memory out of the target's way. The others (report
// rendering, compare) keep the runtime's default.
var loadCommands = []string{"run", "demo", "agent", "plan", "tune"}

// setMemoryLimit applies memoryLimit for a load command when the user has
// not set GOMEMLIMIT (the runtime has read it already).
func setMemoryLimit(args []string, getenv func(string) string) {
	if len(args) == 0 || !slices.Contains(loadCommands, args[0]) || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit)
}

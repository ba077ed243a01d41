//go:build !unix

package procs

import "time"

// cpuTime is unknown here: scheduling latency alone decides.
func cpuTime() time.Duration { return 0 }

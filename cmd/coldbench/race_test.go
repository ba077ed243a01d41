//go:build race

package main

// raceEnabled: the race detector slows the load generator several times
// over, so tests that measure latency skip under it.
const raceEnabled = true

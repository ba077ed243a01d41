//go:build race

package engine

// raceEnabled: the race detector slows the generator and the in-process
// targets several times over, so the ground-truth suite, which scores
// timing-based inference, skips under it (make test runs it without).
const raceEnabled = true

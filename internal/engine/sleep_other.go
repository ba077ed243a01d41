//go:build !linux

package engine

// newFineTimer: no fine timer outside Linux; Go's timer serves alone.
func newFineTimer() fineTimer { return nil }

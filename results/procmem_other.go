//go:build !linux

package results

import "errors"

// ReadProcMemory needs Linux's /proc.
func ReadProcMemory(pid int) (ProcMemory, error) {
	return ProcMemory{}, errors.New("resident memory split: only on Linux")
}

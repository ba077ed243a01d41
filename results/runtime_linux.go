package results

import "syscall"

// rusage is the process's peak resident set in bytes and its user +
// system CPU in seconds.
func rusage() (int64, float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	cpu := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	return ru.Maxrss * 1024, cpu // Linux reports KiB
}

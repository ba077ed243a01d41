package scenarios

import (
	"testing"
	"time"
)

// BenchmarkSchedule is the pacer's per-arrival arithmetic: At gives the
// intended send time of arrival n, Pace the wait before it.
func BenchmarkSchedule(b *testing.B) {
	scheds := []struct {
		name string
		s    Schedule
	}{
		{"rate", NewRatePacer(10_000, time.Hour)},
		{"ramp", NewRampPacer(1000, 20_000, time.Hour)},
		{"poisson", NewPoissonPacer(10_000, time.Hour, 1)},
	}
	for _, sc := range scheds {
		b.Run(sc.name+"/At", func(b *testing.B) {
			b.ReportAllocs()
			var n uint64
			for b.Loop() {
				if _, ok := sc.s.At(n); !ok {
					n = 0
				}
				n++
			}
		})
		b.Run(sc.name+"/Pace", func(b *testing.B) {
			b.ReportAllocs()
			p := Pacer(sc.s, time.Hour)
			var n uint64
			for b.Loop() {
				p.Pace(time.Duration(n)*90*time.Microsecond, n)
				n++
			}
		})
	}
}

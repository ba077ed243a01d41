package engine

import (
	"math"
	"time"
)

// inferrer is the last-resort cold-start classifier: it splits the service
// times of successful requests into two clusters by the largest gap (Otsu's
// method on a log-scaled histogram) and calls the slow cluster cold.
//
// Two clusters are only believed when they are well apart: the slow
// cluster's mean at least minRatio times the fast one's and at least minGap
// slower. Until then there is no warm baseline to compare against (a run
// that opens with a burst sees only cold starts), so samples wait in a
// bounded buffer and are classified once the split is believed, or at the
// end of the run.
type inferrer struct {
	bins    [inferBins]float64
	n       int
	cut     int  // first bin of the slow cluster
	ok      bool // the split is believed
	pending int  // samples since the last recompute
}

const (
	inferBins   = 256
	binsPerOct  = 10
	inferBaseUs = 100 // bin 0 holds everything up to 100 µs
	minRatio    = 2.0
	minGap      = 20 * time.Millisecond
	recomputeN  = 32 // recompute the split every this many samples
)

func inferBin(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= inferBaseUs {
		return 0
	}
	b := int(binsPerOct * math.Log2(us/inferBaseUs))
	if b >= inferBins {
		return inferBins - 1
	}
	return b
}

func binValue(b int) time.Duration {
	return time.Duration(inferBaseUs * math.Exp2((float64(b)+0.5)/binsPerOct) * float64(time.Microsecond))
}

// add records a service time and reports whether the split is believed.
func (f *inferrer) add(d time.Duration) bool {
	f.bins[inferBin(d)]++
	f.n++
	f.pending++
	if !f.ok || f.pending >= recomputeN {
		f.recompute()
	}
	return f.ok
}

// cold classifies d with the current split. Only meaningful when ok.
func (f *inferrer) cold(d time.Duration) bool { return f.ok && inferBin(d) >= f.cut }

// recompute runs Otsu's method over the bins.
func (f *inferrer) recompute() {
	f.pending = 0
	var total, sum float64
	for i, w := range f.bins {
		total += w
		sum += float64(i) * w
	}
	var best float64
	bestCut, bestEnd := -1, -1
	var w0, s0 float64
	for t := 1; t < inferBins; t++ {
		w0 += f.bins[t-1]
		s0 += float64(t-1) * f.bins[t-1]
		w1 := total - w0
		if w0 == 0 || w1 == 0 {
			continue
		}
		m0, m1 := s0/w0, (sum-s0)/w1
		// Every cut inside an empty gap scores the same; keep the range
		// and cut in its middle, half way between the clusters.
		switch v := w0 * w1 * (m1 - m0) * (m1 - m0); {
		case v > best*(1+1e-9):
			best, bestCut, bestEnd = v, t, t
		case v >= best*(1-1e-9) && t == bestEnd+1:
			bestEnd = t
		}
	}
	f.ok = false
	if bestCut < 0 {
		return
	}
	bestCut = (bestCut + bestEnd + 1) / 2
	// Means of the two clusters, back in time units.
	var ws, wf, ss, sf float64
	for i, w := range f.bins {
		if i >= bestCut {
			ws += w
			ss += w * float64(binValue(i))
		} else {
			wf += w
			sf += w * float64(binValue(i))
		}
	}
	fast, slow := sf/wf, ss/ws
	if slow >= minRatio*fast && time.Duration(slow-fast) >= minGap {
		f.cut, f.ok = bestCut, true
	}
}

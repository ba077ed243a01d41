package bench

// Search finds the highest rate a generator sustains: it doubles the rate
// from a start until a probe fails, then bisects between the last pass and
// the first failure until they are within a tolerance or the probes run
// out. Two searches advance in lockstep so that their probes interleave
// and machine noise hits both generators alike.
type Search struct {
	lo, hi int // highest rate passed (0: none yet), lowest failed (0: none yet)
	next   int
	left   int     // probes left
	tol    float64 // stop when hi−lo ≤ tol·hi
	limit  int     // never probe above this
}

// NewSearch starts a search at start, at most probes probes, up to limit.
func NewSearch(start, limit, probes int, tol float64) *Search {
	return &Search{next: min(start, limit), left: probes, tol: tol, limit: limit}
}

// Next is the rate to probe, or false when the search is over.
func (s *Search) Next() (int, bool) {
	if s.left <= 0 || s.next <= 0 {
		return 0, false
	}
	return s.next, true
}

// Report records whether the probe at rate passed and picks the next.
func (s *Search) Report(rate int, passed bool) {
	s.left--
	if passed {
		s.lo = max(s.lo, rate)
	} else if s.hi == 0 || rate < s.hi {
		s.hi = rate
	}
	switch {
	case s.hi == 0 && s.lo >= s.limit:
		s.next = 0 // passed at the limit: nothing higher to try
	case s.hi == 0:
		s.next = min(2*s.lo, s.limit)
	case float64(s.hi-s.lo) <= s.tol*float64(s.hi):
		s.next = 0
	default:
		s.next = (s.lo + s.hi) / 2
	}
}

// Best is the highest rate that passed, 0 if none did.
func (s *Search) Best() int { return s.lo }

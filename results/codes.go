package results

import (
	"cmp"
	"slices"

	"github.com/coldbench/coldbench/drivers"
)

// CodeKey is an error class and a platform's own code within it: 5xx and
// "503", 5xx and gRPC's "UNAVAILABLE", function_error and "Unhandled".
type CodeKey struct {
	Outcome drivers.Outcome
	Code    string
}

// ErrorCodes counts failed requests by class and code. It merges by
// adding, like every other counter of a tally.
type ErrorCodes map[CodeKey]int64

// MaxCodes bounds the distinct codes a phase keeps, so that a target
// answering with ever new codes cannot grow a tally without end; further
// codes are counted under OtherCode, in their class.
const MaxCodes = 64

// OtherCode collects the codes beyond MaxCodes.
const OtherCode = "(other codes)"

// Add counts n requests of class o with code.
func (e *ErrorCodes) Add(o drivers.Outcome, code string, n int64) {
	if *e == nil {
		*e = ErrorCodes{}
	}
	k := CodeKey{o, code}
	if _, ok := (*e)[k]; !ok && len(*e) >= MaxCodes {
		k.Code = OtherCode
	}
	(*e)[k] += n
}

// ByClass is the codes as run.json keeps them: class name → code → count;
// nil when there are none.
func (e ErrorCodes) ByClass() map[string]map[string]int64 {
	if len(e) == 0 {
		return nil
	}
	out := map[string]map[string]int64{}
	for k, n := range e {
		c := k.Outcome.String()
		if out[c] == nil {
			out[c] = map[string]int64{}
		}
		out[c][k.Code] += n
	}
	return out
}

// CodeCount is one class and code with its count.
type CodeCount struct {
	Class string
	Code  string
	Count int64
}

// TopCodes lists the codes of byClass (Stats.ErrorCodes), most frequent
// first (ties by class, then code), at most n of them; n <= 0 for all.
func TopCodes(byClass map[string]map[string]int64, n int) []CodeCount {
	var out []CodeCount
	for class, codes := range byClass {
		for code, c := range codes {
			out = append(out, CodeCount{class, code, c})
		}
	}
	slices.SortFunc(out, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class), cmp.Compare(a.Code, b.Code))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

package results

import "fmt"

// maxStep bounds the bucket width of a timeline read from disk or from an
// agent: 2^50 ns (13 days) a bucket is far beyond any run, and doubling a
// step up to it cannot overflow.
const maxStep = 1 << 50

// Check reports a timeline that Add and Merge could not have made and
// that would break them: a bucket width that is not positive or is beyond
// any run (merging it would double a step until it overflows, for ever).
// Timelines read from run.json or received from an agent are checked
// before they are merged. A missing cold-start sampling rate is taken as 1.
func (t *Timeline) Check() error {
	if t == nil {
		return nil
	}
	if t.Step <= 0 || t.Step > maxStep {
		return fmt.Errorf("timeline step %d ns: want 1 to %d", t.Step, int64(maxStep))
	}
	if t.ColdEvery <= 0 {
		t.ColdEvery = 1
	}
	return nil
}

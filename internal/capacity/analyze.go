package capacity

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// measurePhase and settlePhase name a step's two phases.
const (
	settlePhase  = "settle"
	measurePhase = "measure"
)

// measure fills in st from the measured phase of a step's run: counts,
// rates, the merged latency of successful requests and the concurrency by
// Little's law.
func measure(st *results.CapacityStep, run *results.Run) error {
	var ps *results.PhaseStats
	for i := range run.Phases {
		if run.Phases[i].Name == measurePhase {
			ps = &run.Phases[i]
		}
	}
	if ps == nil {
		return fmt.Errorf("step %s: the run has no %s phase", st.Name, measurePhase)
	}
	s := &ps.Stats
	st.Requests, st.Sent, st.OK, st.Dropped = s.Requests, s.Sent, s.OK, s.Dropped
	st.Throttled = s.Errors[drivers.Throttled.String()]
	st.Errors = s.ErrorCount() - st.Throttled
	st.Cold = s.Cold.Count
	// Every temperature merged: the platform's capacity does not care
	// which instance served a request.
	all := results.NewHistogram()
	for _, temp := range []drivers.Temperature{drivers.Cold, drivers.Warm, drivers.Unknown} {
		h, err := s.Hist(temp)
		if err != nil {
			return fmt.Errorf("step %s: %w", st.Name, err)
		}
		all.Merge(h)
	}
	st.Latency = results.PercentilesOf(all)
	if s.DurationS > 0 {
		st.AchievedRPS = float64(st.Sent) / s.DurationS
		st.GoodputRPS = float64(st.OK) / s.DurationS
	}
	if st.Requests > 0 {
		st.ErrorRate = float64(st.Errors+st.Dropped) / float64(st.Requests)
	}
	if st.Sent > 0 {
		st.ThrottleRate = float64(st.Throttled) / float64(st.Sent)
	}
	st.ServiceMeanMs = s.Service.MeanMs
	// Little's law: the mean number of requests in the function is the
	// rate they complete at times how long each stays. Throttled requests
	// hold no instance, so only successful ones count.
	st.Concurrency = st.GoodputRPS * st.ServiceMeanMs / 1000
	return nil
}

// judge sets st.Pass and st.Failures against the stop conditions.
func judge(st *results.CapacityStep, set *Settings) {
	var f []string
	if st.OK == 0 {
		f = append(f, "no successful request")
	}
	if set.P99 > 0 && st.Latency.Count > 0 && st.Latency.P99Ms > ms(set.P99) {
		f = append(f, fmt.Sprintf("p99 %s above the SLO %s", msText(st.Latency.P99Ms), msText(ms(set.P99))))
	}
	if st.ErrorRate > set.ErrorRate {
		f = append(f, fmt.Sprintf("errors %s above %s", pctText(st.ErrorRate), pctText(set.ErrorRate)))
	}
	if st.ThrottleRate > set.ThrottleRate {
		f = append(f, fmt.Sprintf("throttled %s above %s", pctText(st.ThrottleRate), pctText(set.ThrottleRate)))
	}
	if st.AchievedRPS < MinAchieved*st.Target {
		f = append(f, fmt.Sprintf("sent %s/s, under %.0f%% of the target: the load generator could not keep up", rpsText(st.AchievedRPS), 100*MinAchieved))
	}
	st.Failures, st.Pass = f, len(f) == 0
}

// Analyze finds, among the complete steps in ramp order, the maximum
// sustainable rate, the break and the knee.
//
//   - Break: the first failing step. The ramp stops there, so later steps
//     are not expected; any there are ignored.
//   - Maximum sustainable: the last passing step before the break (before
//     the end when nothing failed).
//   - Knee: the baseline is the first step with successful requests, the
//     lowest rate measured. The knee is the first later step, up to and
//     including the break, whose p50 or p99 is more than rise (0.5 for
//     50%) above the baseline's: where latency starts to climb with load.
//     Comparing with the lowest rate, not the previous step, keeps a slow
//     creep over many steps from hiding.
func Analyze(steps []results.CapacityStep, rise float64) results.CapacityResult {
	r := results.CapacityResult{MaxSustainable: -1, Break: -1, Knee: -1, Baseline: -1}
	last := len(steps) - 1
	for i := range steps {
		st := &steps[i]
		if !st.Complete {
			continue
		}
		r.StepsRun++
		if r.Baseline < 0 && st.Latency.Count > 0 {
			r.Baseline, r.BaselineP50, r.BaselineP99 = i, st.Latency.P50Ms, st.Latency.P99Ms
		}
		if !st.Pass {
			r.Break, r.BreakRPS = i, st.Target
			last = i
			break
		}
		r.MaxSustainable, r.MaxSustainableRPS = i, st.Target
	}
	if r.Baseline >= 0 {
		for i := r.Baseline + 1; i <= last; i++ {
			st := &steps[i]
			if !st.Complete || st.Latency.Count == 0 {
				continue
			}
			if why := rose("p50", st.Latency.P50Ms, r.BaselineP50, rise); why != "" {
				r.Knee, r.KneeReason = i, why
				break
			}
			if why := rose("p99", st.Latency.P99Ms, r.BaselineP99, rise); why != "" {
				r.Knee, r.KneeReason = i, why
				break
			}
		}
	}
	if r.Knee >= 0 {
		r.KneeRPS = steps[r.Knee].Target
	}
	return r
}

// rose says how v rose over base when it is more than rise above it.
func rose(name string, v, base, rise float64) string {
	if base <= 0 || v <= base*(1+rise) {
		return ""
	}
	return fmt.Sprintf("%s %s is %.0f%% above the baseline's %s", name, msText(v), 100*(v/base-1), msText(base))
}

// summary is the result in one sentence or two.
func summary(p *results.Capacity) string {
	r := &p.Result
	var s string
	switch {
	case r.StepsRun == 0:
		return "No step was measured."
	case r.MaxSustainable < 0:
		s = fmt.Sprintf("Even the first step, %s/s, failed: %s.", rpsText(r.BreakRPS), joinFailures(p.Steps[r.Break].Failures))
	default:
		top := &p.Steps[r.MaxSustainable]
		s = fmt.Sprintf("Sustained %s/s (sent %s/s, p99 %s, %.1f instances busy by Little's law)",
			rpsText(top.Target), rpsText(top.AchievedRPS), msText(top.Latency.P99Ms), top.Concurrency)
		switch {
		case r.Break >= 0:
			s += fmt.Sprintf("; broke at %s/s: %s.", rpsText(r.BreakRPS), joinFailures(p.Steps[r.Break].Failures))
		case r.ReachedMax:
			s += fmt.Sprintf(", the highest rate planned: no break found up to %s/s.", rpsText(top.Target))
		default:
			s += "; the ramp stopped before a break was found."
		}
	}
	if r.Knee >= 0 {
		s += fmt.Sprintf(" Latency knee at %s/s (%s).", rpsText(r.KneeRPS), r.KneeReason)
	} else if r.Baseline >= 0 {
		s += fmt.Sprintf(" No latency knee: p50 and p99 stayed within %.0f%% of the baseline.", 100*p.KneeRise)
	}
	return s
}

func joinFailures(f []string) string { return strings.Join(f, "; ") }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msText(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func pctText(f float64) string { return strconv.FormatFloat(100*f, 'g', 3, 64) + "%" }

// rpsText formats a rate with up to four significant digits.
func rpsText(r float64) string {
	if r >= 1000 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'g', 4, 64)
}

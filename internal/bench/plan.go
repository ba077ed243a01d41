package bench

import "time"

// The generators each part of a benchmark runs: the headline compares
// every Tool; the overload search and the long memory runs only the
// default coldbench beside the anchors (a second coldbench client there
// would add about ten minutes to a full run and say little more: its
// memory floor is coldbench's).
var (
	OverloadTools = []string{"coldbench", "vegeta", "bombardier"}
	RSSTools      = []string{"coldbench", "vegeta", "bombardier"}
)

// SearchProbes bounds one tool's overload search, per round.
const SearchProbes = 10

// runOverhead is what one generator run costs beyond its planned length:
// start-up, draining, reading or writing its results.
const runOverhead = 2 * time.Second

// Runs says whether tool runs n requests in the long memory runs.
func (c Config) Runs(tool string, n int64) bool {
	return tool != "vegeta" || n <= c.VegetaRSSMax
}

// Estimate is about how long a benchmark of c takes at most, from the
// asked rates (wrk's ceiling may lower them, which shortens the headline)
// and every search using all its probes.
func (c Config) Estimate() time.Duration {
	var round time.Duration
	round += 5 * time.Second // wrk's ceiling
	for _, rate := range c.Rates {
		d := time.Duration(float64(c.RateCount) / float64(rate) * float64(time.Second))
		round += time.Duration(len(Tools)) * (d + runOverhead)
	}
	round += time.Duration(len(OverloadTools)*SearchProbes) * (c.Step + runOverhead)
	total := time.Duration(c.Rounds) * round
	for _, n := range c.RSSCounts {
		d := time.Duration(float64(n) / float64(c.RSSRate) * float64(time.Second))
		for _, tool := range RSSTools {
			if c.Runs(tool, n) {
				total += d + runOverhead
			}
		}
	}
	return total
}

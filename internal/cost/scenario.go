package cost

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	simdriver "github.com/coldbench/coldbench/drivers/sim"
	"github.com/coldbench/coldbench/scenarios"
)

// Defaults for what a scenario leaves out of the traffic and the keep-alive
// a cost projection assumes (tune: and capacity: blocks alike).
const (
	DefaultRequestsPerMonth = 1_000_000
	// DefaultKeepAlive is the idle lifetime assumed for an on-demand
	// instance when neither the scenario nor the driver says: Lambda
	// keeps idle environments for an undocumented 5 to 15 minutes, and
	// the low end errs towards more cold starts.
	DefaultKeepAlive = 5 * time.Minute
)

// TrafficOf turns a scenario's traffic: block into hourly rates and a
// description; an empty block is DefaultRequestsPerMonth.
func TrafficOf(t scenarios.Traffic) (Traffic, string, error) {
	switch {
	case t.Rate != nil:
		tr, err := Daily(float64(*t.Rate), t.Daily)
		if err != nil {
			return tr, "", fmt.Errorf("tune: traffic: %w", err)
		}
		desc := fmt.Sprintf("%s/s", trimFloat(float64(*t.Rate)))
		if len(t.Daily) > 0 {
			desc += fmt.Sprintf(" shaped by a daily pattern (peak %s/s)", trimFloat(tr.Peak()))
		}
		return tr, desc + fmt.Sprintf(", %s requests a month", count(tr.RequestsPerMonth())), nil
	case t.RequestsPerMonth > 0:
		return PerMonth(t.RequestsPerMonth), count(t.RequestsPerMonth) + " requests a month", nil
	}
	return PerMonth(DefaultRequestsPerMonth), count(DefaultRequestsPerMonth) + " requests a month (the default; set tune.traffic)", nil
}

// KeepAlive is the idle lifetime the cold-start model assumes and where it
// came from: given when positive ("scenario"), else the emulator's own
// setting for a sim target ("emulator"), else DefaultKeepAlive
// ("default").
func KeepAlive(s *scenarios.Scenario, given time.Duration) (time.Duration, string) {
	if given > 0 {
		return given, "scenario"
	}
	if sc, ok := s.Target.Config.(*simdriver.Config); ok && sc.KeepAlive > 0 {
		return sc.KeepAlive, "emulator"
	}
	return DefaultKeepAlive, "default"
}

// count formats a count with thousands separators: 10,000,000.
func count(f float64) string {
	s := strconv.FormatFloat(f, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

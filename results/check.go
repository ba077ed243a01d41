package results

import "fmt"

// checkHistograms decodes every histogram of r once, so that a corrupt one
// fails Load, naming where it is, instead of failing only the renderers
// that happen to read it: `coldbench report` then refuses a corrupt record
// the same way whatever the format.
func (r *Run) checkHistograms() error {
	check := func(path string, s *Stats) error {
		ps := []struct {
			name string
			p    *Percentiles
		}{{"cold", &s.Cold}, {"warm", &s.Warm}, {"unknown", s.Unknown}, {"service", &s.Service}, {"generator_lag", s.Lag}}
		for _, x := range ps {
			if x.p == nil {
				continue
			}
			if _, err := x.p.Decode(); err != nil {
				return fmt.Errorf("%s.%s.histogram: %w", path, x.name, err)
			}
		}
		return nil
	}
	if err := check("totals", &r.Totals); err != nil {
		return err
	}
	for i := range r.Phases {
		p := &r.Phases[i]
		path := fmt.Sprintf("phases[%d]", i)
		if err := check(path, &p.Stats); err != nil {
			return err
		}
		for j, e := range p.Histograms {
			if _, err := decodeHist(e.Histogram); err != nil {
				return fmt.Errorf("%s.histograms[%d] (%s %s %s): %w", path, j, e.Temp, e.Outcome, e.Kind, err)
			}
		}
	}
	return nil
}

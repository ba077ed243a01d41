package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestSplice(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		// no markers: appended with them
		{"append", "# B\n", "# B\n\n" + beginMarker + "\nT\n" + endMarker + "\n"},
		// markers: only what is between them changes
		{"replace", "a\n" + beginMarker + "\nold\n" + endMarker + "\nz\n", "a\n" + beginMarker + "\nT\n" + endMarker + "\nz\n"},
	}
	for _, tc := range tests {
		if got := Splice(tc.doc, "T\n"); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPassed(t *testing.T) {
	bound := 25 * time.Millisecond
	tests := []struct {
		name string
		p    Probe
		want bool
	}{
		{"all ok, fast", Probe{Planned: 1000, OK: 1000, P99: time.Millisecond}, true},
		{"99 % ok", Probe{Planned: 1000, OK: 990, P99: time.Millisecond}, true},
		{"98.9 % ok", Probe{Planned: 1000, OK: 989, P99: time.Millisecond}, false},
		{"p99 at the bound", Probe{Planned: 1000, OK: 1000, P99: bound}, false},
		{"nothing measured", Probe{Planned: 1000, OK: 1000}, false},
	}
	for _, tc := range tests {
		if got := Passed(tc.p, bound); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestReadVegeta: counts, p99 and lag from vegeta's own encoding; the
// start is estimated from the least-late hit.
func TestReadVegeta(t *testing.T) {
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	began := time.Unix(1700000000, 0)
	interval := time.Millisecond // 1000/s
	for i := range 100 {
		late := time.Duration(0)
		if i >= 90 {
			late = 3 * time.Millisecond // the last ten hits 3 ms late
		}
		res := vegeta.Result{Seq: uint64(i), Code: 200, Latency: 2 * time.Millisecond,
			Timestamp: began.Add(time.Duration(i+1)*interval + late + 50*time.Microsecond)}
		if i == 5 {
			res.Code, res.Error = 0, "connection refused"
		}
		if err := enc.Encode(&res); err != nil {
			t.Fatal(err)
		}
	}
	var p Probe
	if err := readVegeta(&buf, 1000, &p); err != nil {
		t.Fatal(err)
	}
	if p.Sent != 100 || p.OK != 99 || p.P99 < 1990*time.Microsecond || p.P99 > 2010*time.Microsecond {
		t.Errorf("probe %+v", p)
	}
	if l := p.Lag; l == nil || l.P50 != 0 || l.P99 != 3*time.Millisecond || l.Max != 3*time.Millisecond || !l.Estimated {
		t.Errorf("lag %+v", p.Lag)
	}
}

func TestMarkdownRatios(t *testing.T) {
	r := &Report{
		Config:    Config{P99Bound: 25 * time.Millisecond, CPURate: 5000},
		Sustained: map[string][]int{"coldbench": {3000, 4000, 5000}, "vegeta": {2000, 2000, 9000}},
		CPU: []Probe{
			{Tool: "coldbench", Sent: 100_000, Usage: Usage{CPU: 2 * time.Second}},
			{Tool: "vegeta", Sent: 100_000, Usage: Usage{CPU: 4 * time.Second, CPUs: []time.Duration{3 * time.Second, time.Second}}},
		},
	}
	md := r.Markdown()
	for _, want := range []string{"| 4000 | 2000 | 2.00 |", "| 2.00 | 4.00 | 0.50 |", "| 2.00 | 3.00 | 0.67 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

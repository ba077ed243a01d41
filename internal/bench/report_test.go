package bench

import (
	"bytes"
	"slices"
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
		Config: Config{P99Bound: 10 * time.Millisecond, Rates: []int{5000}, RateCount: 100_000, Rounds: 1, RSSRate: 10_000, RSSCounts: []int64{1_000_000}},
		RSS: []Probe{
			{Tool: "vegeta", Planned: 1_000_000, Usage: Usage{MaxRSS: []int64{40 << 20, 8 << 20}, PeakAnon: []int64{30 << 20, 4 << 20}, PeakFile: []int64{8 << 20, 3 << 20}}},
			{Tool: "coldbench", Planned: 1_000_000, Usage: Usage{MaxRSS: []int64{30 << 20}, PeakAnon: []int64{12 << 20}, PeakFile: []int64{16 << 20}}},
			{Tool: "bombardier", Planned: 1_000_000, Usage: Usage{MaxRSS: []int64{10 << 20}}},
		},
		Sustained: map[string][]int{"coldbench": {3000, 4000, 5000}, "vegeta": {2000, 2000, 9000}, "bombardier": {8000}},
		Rated: []Probe{
			{Tool: "coldbench", Rate: 5000, Planned: 100_000, OK: 100_000, Sent: 100_000, P99: 2 * time.Millisecond,
				Usage: Usage{CPU: 2 * time.Second, MaxRSS: []int64{30 << 20}, PeakAnon: []int64{12 << 20}, PeakFile: []int64{16 << 20}}, Lag: &Lag{P99: time.Millisecond, Max: 3 * time.Millisecond}},
			{Tool: "vegeta", Rate: 5000, Planned: 100_000, OK: 99_000, Sent: 100_000, P99: 4 * time.Millisecond,
				Usage: Usage{CPU: 4 * time.Second, MaxRSS: []int64{20 << 20}}},
			{Tool: "bombardier", Rate: 5000, Planned: 100_000, OK: 100_000, Sent: 100_000, P99: 3 * time.Millisecond,
				Usage: Usage{CPU: time.Second, MaxRSS: []int64{10 << 20}}},
		},
	}
	md := r.Markdown()
	for _, want := range []string{
		"| 5000 | coldbench | 1.0000 | 2.00 | 30.0 MiB | 12.0 / 16.0 | 2.000 | 1.000 / 3.000 | 0.50 | 0.50 |",
		// no /proc samples: the split is "–"
		"| 5000 | vegeta | 0.9900 | 4.00 | 20.0 MiB | – | 4.000 | – | 1.00 | 1.00 |",
		"| 5000 | bombardier | 1.0000 | 1.00 | 10.0 MiB | – | 3.000 | – | 0.25 | 0.75 |",
		"| coldbench | 4000 | 2.00 |", "| bombardier | 8000 | 4.00 |",
		// the memory table: a row per tool that ran, in Tools order; a
		// pipeline's processes summed; "–" for a split not sampled
		"| 1 M | coldbench | 30.0 MiB | 12.0 MiB | 16.0 MiB |\n| 1 M | vegeta | 48.0 MiB | 34.0 MiB | 11.0 MiB |\n| 1 M | bombardier | 10.0 MiB | – | – |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

func TestAdaptRates(t *testing.T) {
	tests := []struct {
		name    string
		asked   []int
		ceiling float64
		want    []int
	}{
		// a quiet machine: all asked rates are under half the ceiling
		{"all kept", []int{5000, 10000}, 40000, []int{5000, 10000}},
		// a slower one: only what it can answer twice over
		{"some kept", []int{5000, 10000}, 15000, []int{5000}},
		// a loaded one: a quarter and a half of the ceiling
		{"fallback", []int{5000, 10000}, 6000, []int{1500, 3000}},
		// almost nothing answered: still one rate to run
		{"floor", []int{5000}, 100, []int{500}},
	}
	for _, tc := range tests {
		if got := AdaptRates(tc.asked, tc.ceiling); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestReadBombardier: counts and p99 from bombardier v1.2.6's JSON result.
func TestReadBombardier(t *testing.T) {
	out := []byte(`{"spec":{"numberOfConnections":128,"rate":2000},"result":{"bytesRead":414060,"timeTakenSeconds":2.00284243,"req1xx":0,"req2xx":4020,"req3xx":0,"req4xx":0,"req5xx":3,"others":2,"latency":{"mean":1799.1,"max":40415,"percentiles":{"50":676,"75":868,"90":2215,"95":6912,"99":24122}}}}`)
	var p Probe
	if err := readBombardier(out, &p); err != nil {
		t.Fatal(err)
	}
	if p.Sent != 4025 || p.OK != 4020 || p.P99 != 24122*time.Microsecond {
		t.Errorf("probe %+v", p)
	}
	if err := readBombardier([]byte(`{"result":{"req2xx":1}}`), &p); err == nil {
		t.Error("a result without latencies read without error")
	}
}

// TestEstimate: a full run's printed estimate stays within the 45 minutes
// `make bench` is allowed, a quick one within a few, and the parts that
// dominate are counted (the long memory runs, vegeta's skipped above its
// cap).
func TestEstimate(t *testing.T) {
	full := Config{Rounds: 3, Rates: []int{5000, 10000}, RateCount: 100_000, Step: 3 * time.Second,
		RSSRate: 10_000, RSSCounts: []int64{1_000_000, 5_000_000}, VegetaRSSMax: 1_000_000}
	quick := Config{Rounds: 1, Rates: []int{5000, 10000}, RateCount: 30_000, Step: 2 * time.Second,
		RSSRate: 10_000, RSSCounts: []int64{100_000, 300_000}, VegetaRSSMax: 1_000_000}
	// 5 M requests at 10 000/s by coldbench and bombardier alone are 1000 s
	if e := full.Estimate(); e < 30*time.Minute || e > 45*time.Minute {
		t.Errorf("full estimate %s, want 30–45 min", e)
	}
	if e := quick.Estimate(); e < 2*time.Minute || e > 6*time.Minute {
		t.Errorf("quick estimate %s, want 2–6 min", e)
	}
	more := full
	more.VegetaRSSMax = 5_000_000
	if d := more.Estimate() - full.Estimate(); d < 500*time.Second {
		t.Errorf("vegeta's 5 M run adds %s, want its 500 s", d)
	}
}

// TestColdbenchName: the default client is plain coldbench; a named one
// is in the tool's name, as Tools spells it.
func TestColdbenchName(t *testing.T) {
	for _, tc := range []struct{ client, want string }{
		{"", "coldbench"},                 // the driver's default client
		{"net/http", "coldbench-nethttp"}, // forced net/http
	} {
		if got := (&Coldbench{Client: tc.client}).Name(); got != tc.want || !slices.Contains(Tools, got) {
			t.Errorf("client %q: name %q, want %q in %v", tc.client, got, tc.want, Tools)
		}
	}
}

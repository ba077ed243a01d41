package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// Probe is one run of one generator at one constant rate.
type Probe struct {
	Tool     string        `json:"tool"`
	Rate     float64       `json:"rate"`     // the target, requests per second
	Duration time.Duration `json:"duration"` // planned
	Planned  int64         `json:"planned"`  // requests the rate and duration ask for
	Sent     int64         `json:"sent"`     // requests actually sent
	OK       int64         `json:"ok"`       // successful responses
	P99      time.Duration `json:"p99_ns"`   // latency of successful requests
	Usage    Usage         `json:"usage"`    // the generator's processes
	Lag      *Lag          `json:"lag,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"` // wall clock of the whole run, start-up and reports included
}

// Achieved is the fraction of the planned requests sent and answered
// successfully: below 0.99, the generator did not sustain the rate.
func (p Probe) Achieved() float64 {
	if p.Planned == 0 {
		return 0
	}
	return float64(p.OK) / float64(p.Planned)
}

// Lag is how late a generator sent requests: actual minus intended send
// time.
type Lag struct {
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Estimated says the intended times were reconstructed (vegeta: its
	// start time is taken as the earliest send minus its schedule offset,
	// so its least-late request counts as on time).
	Estimated bool `json:"estimated"`
}

// Generator runs one open-model load at rate for d.
type Generator interface {
	Name() string
	Run(ctx context.Context, rate int, d time.Duration, lag bool) (Probe, error)
}

// timeout bounds any one generator run: its planned length plus start-up,
// draining and report writing.
func timeout(d time.Duration) time.Duration { return 2*d + 60*time.Second }

// Coldbench runs `coldbench run` on a generated scenario with the http
// driver.
type Coldbench struct {
	Bin, URL, Dir string
	MaxInFlight   int
	// Client is the http driver's client: "" for its default, or one
	// named ("net/http"), which names the generator ("coldbench-nethttp").
	Client string
}

func (g *Coldbench) Name() string {
	if g.Client != "" {
		return "coldbench-" + strings.ReplaceAll(g.Client, "/", "")
	}
	return "coldbench"
}

func (g *Coldbench) Run(ctx context.Context, rate int, d time.Duration, _ bool) (Probe, error) {
	dir, err := os.MkdirTemp(g.Dir, "coldbench-")
	if err != nil {
		return Probe{}, err
	}
	defer os.RemoveAll(dir)
	scen := filepath.Join(dir, "bench.yaml")
	// Latency-gap inference stays on (the default): the benchmark measures
	// what a user's run costs.
	client := ""
	if g.Client != "" {
		client = "\n  client: " + g.Client
	}
	yaml := fmt.Sprintf(`name: bench
target:
  driver: http
  url: %s
  timeout: 10s%s
max_in_flight: %d
phases:
  - name: load
    duration: %s
    rate: %d/s
`, g.URL, client, g.MaxInFlight, d, rate)
	if err := os.WriteFile(scen, []byte(yaml), 0o644); err != nil {
		return Probe{}, err
	}
	out := filepath.Join(dir, "run")
	began := time.Now()
	_, u, err := run(ctx, timeout(d), g.Bin, "run", "--quiet", "--out", out, scen)
	p := Probe{Tool: g.Name(), Rate: float64(rate), Duration: d, Planned: planned(rate, d), Usage: u, Elapsed: time.Since(began)}
	if err != nil {
		return p, err
	}
	r, err := results.Load(out)
	if err != nil {
		return p, err
	}
	t, err := r.Tally()
	if err != nil {
		return p, err
	}
	ok, lag := results.NewHistogram(), results.NewHistogram()
	for _, ph := range t.Phases {
		for k, h := range ph.Hists {
			switch {
			case k.Kind == results.Latency && k.Outcome == drivers.OK:
				ok.Merge(h)
			case k == results.LagKey:
				lag.Merge(h)
			}
		}
	}
	p.Sent, p.OK = r.Totals.Sent, r.Totals.OK
	p.P99 = time.Duration(ok.ValueAtQuantile(99)) * time.Microsecond
	if lag.TotalCount() > 0 {
		p.Lag = &Lag{
			P50: time.Duration(lag.ValueAtQuantile(50)) * time.Microsecond,
			P99: time.Duration(lag.ValueAtQuantile(99)) * time.Microsecond,
			Max: time.Duration(lag.Max()) * time.Microsecond,
		}
	}
	return p, nil
}

// planned is how many requests rate asks for in d.
func planned(rate int, d time.Duration) int64 {
	return int64(float64(rate) * d.Seconds())
}

// Vegeta runs `vegeta attack` piped into `vegeta report -type=json`, the
// way its README does; for timing accuracy the attack's results go to a
// file instead and are read with vegeta's own decoder.
type Vegeta struct {
	Bin, URL, Dir string
}

func (g *Vegeta) Name() string { return "vegeta" }

func (g *Vegeta) Run(ctx context.Context, rate int, d time.Duration, lag bool) (Probe, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout(d))
	defer cancel()
	p := Probe{Tool: g.Name(), Rate: float64(rate), Duration: d, Planned: planned(rate, d)}
	attack := exec.CommandContext(ctx, g.Bin, "attack", "-rate", fmt.Sprintf("%d/1s", rate), "-duration", d.String(), "-timeout", "10s")
	attack.Stdin = stringsReader("GET " + g.URL + "\n")
	var stderr tail
	attack.Stderr = &stderr
	began := time.Now()
	if lag {
		f, err := os.CreateTemp(g.Dir, "vegeta-*.bin")
		if err != nil {
			return p, err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		attack.Stdout = f
		if err := attack.Start(); err != nil {
			return p, fmt.Errorf("vegeta attack: %w", err)
		}
		w := watch(attack)
		err = attack.Wait()
		p.Usage.add(attack, w)
		if err != nil {
			return p, fmt.Errorf("vegeta attack: %w: %s", err, stderr.String())
		}
		p.Elapsed = time.Since(began)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return p, err
		}
		return p, readVegeta(f, rate, &p)
	}
	report := exec.CommandContext(ctx, g.Bin, "report", "-type", "json")
	pipe, err := attack.StdoutPipe()
	if err != nil {
		return p, err
	}
	report.Stdin = pipe
	var out tail
	out.keep = 1 << 20
	report.Stdout, report.Stderr = &out, &stderr
	if err := attack.Start(); err != nil {
		return p, err
	}
	wa := watch(attack)
	if err := report.Start(); err != nil {
		attack.Process.Kill()
		attack.Wait()
		wa.Stop()
		return p, err
	}
	wr := watch(report)
	aerr := attack.Wait()
	p.Usage.add(attack, wa)
	rerr := report.Wait()
	p.Usage.add(report, wr)
	p.Elapsed = time.Since(began)
	if err := errors.Join(aerr, rerr); err != nil {
		return p, fmt.Errorf("vegeta: %w: %s", err, stderr.String())
	}
	var m struct {
		Latencies struct {
			P99 time.Duration `json:"99th"`
		} `json:"latencies"`
		Requests int64   `json:"requests"`
		Success  float64 `json:"success"`
	}
	if err := json.Unmarshal(out.buf, &m); err != nil {
		return p, fmt.Errorf("vegeta report: %w", err)
	}
	p.Sent = m.Requests
	p.OK = int64(float64(m.Requests)*m.Success + 0.5)
	p.P99 = m.Latencies.P99
	return p, nil
}

// readVegeta reads an attack's gob results: counts, p99 and the lag of
// each request behind its intended send time. vegeta's constant pacer
// intends hit n (from 0) at began + (n+1)·interval; began is not in the
// results, so it is estimated as the earliest Timestamp − (Seq+1)·interval.
func readVegeta(r io.Reader, rate int, p *Probe) error {
	interval := time.Duration(int64(time.Second) / int64(rate))
	dec := vegeta.NewDecoder(r)
	lat := results.NewHistogram()
	var offs []time.Duration // Timestamp − schedule offset, per request
	var base time.Time
	for {
		var res vegeta.Result
		if err := dec.Decode(&res); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("decode vegeta results: %w", err)
		}
		if base.IsZero() {
			base = res.Timestamp
		}
		p.Sent++
		if res.Code >= 200 && res.Code < 400 && res.Error == "" {
			p.OK++
			lat.RecordValue(max(1, res.Latency.Microseconds()))
		}
		offs = append(offs, res.Timestamp.Sub(base)-time.Duration(res.Seq+1)*interval)
	}
	if len(offs) == 0 {
		return errors.New("vegeta wrote no results")
	}
	p.P99 = time.Duration(lat.ValueAtQuantile(99)) * time.Microsecond
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	zero := offs[0]
	q := func(f float64) time.Duration { return offs[min(len(offs)-1, int(f*float64(len(offs))))] - zero }
	p.Lag = &Lag{P50: q(0.50), P99: q(0.99), Max: offs[len(offs)-1] - zero, Estimated: true}
	return nil
}

// Wrk runs wrk's closed loop for d: the most the target answers on this
// machine, a ceiling for the open-model rates.
type Wrk struct {
	Bin, URL    string
	Threads     int
	Connections int
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// Run returns wrk's requests per second and its usage.
func (g *Wrk) Run(ctx context.Context, d time.Duration) (float64, Usage, error) {
	out, u, err := run(ctx, timeout(d), g.Bin, "-t", strconv.Itoa(g.Threads), "-c", strconv.Itoa(g.Connections),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), g.URL)
	if err != nil {
		return 0, u, err
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, u, fmt.Errorf("wrk: no Requests/sec in %q", lastLine(out))
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	return f, u, err
}

// BombardierVersion is the bombardier `make bench` installs: a
// fasthttp-based generator, the third anchor beside vegeta and wrk.
const BombardierVersion = "v1.2.6"

// Bombardier runs `bombardier -r RATE` (its fasthttp client, rate-limited
// over a fixed set of connections) for d and reads its JSON result. Its
// latency counts from the actual send and it reports no send lag.
type Bombardier struct {
	Bin, URL    string
	Connections int
}

func (g *Bombardier) Name() string { return "bombardier" }

func (g *Bombardier) Run(ctx context.Context, rate int, d time.Duration, _ bool) (Probe, error) {
	p := Probe{Tool: g.Name(), Rate: float64(rate), Duration: d, Planned: planned(rate, d)}
	began := time.Now()
	out, u, err := run(ctx, timeout(d), g.Bin, "-c", strconv.Itoa(g.Connections), "-r", strconv.Itoa(rate),
		"-d", d.String(), "-t", "10s", "-l", "-o", "json", "-p", "r", g.URL)
	p.Usage, p.Elapsed = u, time.Since(began)
	if err != nil {
		return p, err
	}
	return p, readBombardier(out, &p)
}

// readBombardier reads bombardier's `-o json -p r` result: counts by class
// and latency percentiles in microseconds.
func readBombardier(out []byte, p *Probe) error {
	var m struct {
		Result struct {
			Req1xx, Req2xx, Req3xx, Req4xx, Req5xx, Others int64
			Latency                                        struct {
				Percentiles map[string]float64 `json:"percentiles"`
			} `json:"latency"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return fmt.Errorf("bombardier result: %w: %s", err, lastLine(out))
	}
	r := m.Result
	p.Sent = r.Req1xx + r.Req2xx + r.Req3xx + r.Req4xx + r.Req5xx + r.Others
	p.OK = r.Req2xx + r.Req3xx
	p99, ok := r.Latency.Percentiles["99"]
	if !ok {
		return errors.New("bombardier result has no p99 latency")
	}
	p.P99 = time.Duration(p99 * float64(time.Microsecond))
	return nil
}

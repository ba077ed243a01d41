package tune

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	simdriver "github.com/coldbench/coldbench/drivers/sim"
	"github.com/coldbench/coldbench/internal/cost"
	emulator "github.com/coldbench/coldbench/internal/sim"
	"github.com/coldbench/coldbench/pricing"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// emulated is the function the sweeps below tune. Jitter is off, so the
// emulator's billed duration is exactly its model's; the handler is long
// enough that memory sizes differ by far more than measurement noise.
const emulated = `
name: tune-test
target:
  driver: sim
  memory_mb: 1024
  keep_alive: 10s
  handler: 40ms          # at 1769 MB and up; 138 ms at 512 MB
  handler_jitter: 0s
  init: {mean: 60ms, stddev: 5ms}
  concurrency_limit: 100
  seed: 3
phases:
  - {name: steady, duration: 400ms, rate: 20}
`

// open parses the scenario with extra YAML appended (a tune: block) and
// opens its emulator.
func open(t *testing.T, extra string) (*scenarios.Scenario, *simdriver.Driver) {
	t.Helper()
	s, err := scenarios.Parse("tune-test.yaml", []byte(emulated+extra))
	if err != nil {
		t.Fatal(err)
	}
	d, err := simdriver.Open(context.Background(), s.Target.Config.(*simdriver.Config))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return s, d
}

// TestOptimumOnEmulator sweeps 4 memory sizes × 2 prewarm levels on the
// emulator and checks the choices of strategies cost and speed against
// answers worked out here from the emulator's model and the price list
// alone, not from the tuner's measurements or cost code:
//
//   - cost: with no prewarm, a request costs the fee plus its billed
//     duration × memory × the GB-second rate. Below 1769 MB the handler
//     runs 1769/memory times slower, so duration × memory is the same
//     except for the rounding up to 1 ms, which makes 1769 MB the
//     cheapest; above it the handler is no faster and memory costs more.
//     Prewarm adds a month of capacity, far more than this traffic's
//     duration costs.
//   - speed: at 100,000 requests a month (one every 26 s) and a 10 s
//     keep-alive, most requests without prewarm start cold (at least
//     exp(−λ·10 s) = 68% of them), so every prewarmed setting is faster
//     than every unprewarmed one; among the prewarmed, 1769 and 3008 MB
//     run the handler equally fast, and the cheaper, 1769 MB, wins. (Speed
//     is judged on the time spent in the function, as the platform
//     reports it, so that the load on this machine cannot reorder two
//     equally fast settings.)
//
// It also checks that the emulator is configured as before the sweep.
func TestOptimumOnEmulator(t *testing.T) {
	t.Parallel()
	s, d := open(t, `
tune:
  memory: [512, 1024, 1769, 3008]
  prewarm: [0, 2]
  samples: {cold: 3, warm: 8}
  strategy: cost
  traffic: {requests_per_month: 100000}
  phases: false
`)
	before := d.Emulator().Config()
	dir := t.TempDir()
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{Scenario: s, Driver: d, Dir: dir, Progress: &progress, Render: report.Files{}})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	t.Logf("progress:\n%s", progress.String())
	if after := d.Emulator().Config(); after != before {
		t.Errorf("emulator config after the sweep:\n%+v\nbefore:\n%+v", after, before)
	}
	rec := res.Tune
	if !rec.Complete || !rec.Restored || len(rec.Settings) != 8 {
		t.Fatalf("complete=%v restored=%v settings=%d", rec.Complete, rec.Restored, len(rec.Settings))
	}

	// The expected answers, from the model.
	model := s.Target.Config.(*simdriver.Config).Emulator()
	table, _ := pricing.Lookup("aws-lambda-x86_64")
	const perMonth = 100_000.0
	onDemand := func(mem int) float64 {
		billed := emulator.BilledDuration(model.HandlerTime(mem)).Seconds()
		return perMonth * (table.PerMillionRequests/1e6 + billed*float64(mem)/1024*table.GBSecond)
	}
	mems := []int{512, 1024, 1769, 3008}
	cheapest, second := 0, 0
	for _, m := range mems {
		switch {
		case cheapest == 0 || onDemand(m) < onDemand(cheapest):
			cheapest, second = m, cheapest
		case second == 0 || onDemand(m) < onDemand(second):
			second = m
		}
	}
	capacity := 2 * float64(mems[0]) / 1024 * cost.Month.Seconds() * table.ProvisionedGBSecond
	if capacity < 10*onDemand(mems[len(mems)-1]) {
		t.Fatalf("test set-up: prewarm capacity $%.2f does not dwarf on-demand costs", capacity)
	}
	if onDemand(second)/onDemand(cheapest) < 1.004 {
		t.Fatalf("test set-up: %d MB and %d MB cost nearly the same", cheapest, second)
	}
	wantCost := results.SettingName(cheapest, 0)
	fastest := model.HandlerTime(mems[len(mems)-1])
	wantSpeed := ""
	for _, m := range mems { // the smallest, hence cheapest, of the equally fast
		if h := model.HandlerTime(m); wantSpeed == "" && float64(h) <= float64(fastest)*(1+SpeedTolerance) {
			wantSpeed = results.SettingName(m, 2)
		}
	}
	if cold := math.Exp(-perMonth / cost.Month.Seconds() * 10); cold < 0.5 {
		t.Fatalf("test set-up: only %.2f of unprewarmed requests start cold", cold)
	}

	if got := rec.Recommendation.Winner; got != wantCost {
		t.Errorf("strategy cost chose %s, the model says %s\n%s", got, wantCost, table4(rec))
	}
	rec.Strategy = scenarios.StrategySpeed
	if got := Recommend(rec).Winner; got != wantSpeed {
		t.Errorf("strategy speed chose %s, the model says %s\n%s", got, wantSpeed, table4(rec))
	}
	t.Logf("cost → %s, speed → %s\n%s", wantCost, wantSpeed, table4(rec))

	// What the record says of the measurements.
	for _, ts := range rec.Settings {
		if ts.Billed.Source != "platform" || ts.TypicalFrom != "platform" || ts.Cold.Count < 3 || ts.Warm.Count < 8 {
			t.Errorf("%s: billed from %s, %d cold, %d warm samples", ts.Name, ts.Billed.Source, ts.Cold.Count, ts.Warm.Count)
		}
		want := ms(emulator.BilledDuration(model.HandlerTime(ts.MemoryMB)))
		if ts.Billed.WarmMeanMs != want || ts.MaxMemoryUsedMB != emulator.MaxMemoryUsed(ts.MemoryMB) {
			t.Errorf("%s: billed %v ms (model %v), memory used %d", ts.Name, ts.Billed.WarmMeanMs, want, ts.MaxMemoryUsedMB)
		}
	}
	for _, f := range []string{results.TuneFile, "report.md", "report.html", "tune-memory.png", "tune-prewarm.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// table4 prints the settings for a failure message.
func table4(rec *results.Tune) string {
	var b strings.Builder
	for _, s := range rec.Settings {
		b.WriteString(strings.Join([]string{s.Name, msText(s.TypicalMs), msText(s.Warm.P50Ms), pct(s.Cost.ColdRate), dollars(s.Cost.Monthly)}, "\t"))
		b.WriteByte('\n')
	}
	return b.String()
}

// cancelOn cancels a context when the progress output shows a line.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	line   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.line) {
		c.cancel()
	}
	return len(p), nil
}

// small is a quick 2 × 2 sweep that runs the scenario's phases too.
const small = `
tune:
  memory: [1024, 1769]
  prewarm: [0, 1]
  samples: {cold: 1, warm: 3}
`

// TestRestoredAfterInterrupt cancels the sweep as the second setting
// starts: the emulator is configured as before, the record says so and
// holds the first setting.
func TestRestoredAfterInterrupt(t *testing.T) {
	t.Parallel()
	s, d := open(t, small)
	before := d.Emulator().Config()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{line: "[2/4]", cancel: cancel}
	dir := t.TempDir()
	res, err := Run(ctx, Config{Scenario: s, Driver: d, Dir: dir, Progress: out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled\n%s", err, out.buf.String())
	}
	if after := d.Emulator().Config(); after != before {
		t.Errorf("emulator config after an interrupt:\n%+v\nbefore:\n%+v", after, before)
	}
	rec, lerr := results.LoadTune(dir)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if rec.Complete || rec.Interrupted == "" || !rec.Restored || !res.Tune.Restored {
		t.Errorf("complete=%v interrupted=%q restored=%v", rec.Complete, rec.Interrupted, rec.Restored)
	}
	if len(rec.Settings) < 1 || !rec.Settings[0].Complete || rec.Recommendation == nil || !rec.Recommendation.Partial {
		t.Errorf("settings %+v, recommendation %+v", rec.Settings, rec.Recommendation)
	}
	if _, err := results.Load(filepath.Join(dir, filepath.FromSlash(rec.Settings[0].RunDir))); err != nil {
		t.Errorf("the first setting's run: %v", err)
	}
}

// failing fails its third Configure: a platform error mid-sweep.
type failing struct {
	*simdriver.Driver
	mu    sync.Mutex
	calls int
}

var errInjected = errors.New("injected: the platform refused the change")

func (f *failing) Configure(ctx context.Context, s drivers.Settings) error {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if n == 3 {
		return errInjected
	}
	return f.Driver.Configure(ctx, s)
}

// TestRestoredAfterFailure: a Configure that fails on the third setting
// stops the sweep with that error, and the emulator is configured as
// before.
func TestRestoredAfterFailure(t *testing.T) {
	t.Parallel()
	s, d := open(t, small+"  phases: false\n")
	before := d.Emulator().Config()
	f := &failing{Driver: d}
	dir := t.TempDir()
	res, err := Run(context.Background(), Config{Scenario: s, Driver: f, Dir: dir})
	if !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	if after := d.Emulator().Config(); after != before {
		t.Errorf("emulator config after a failure:\n%+v\nbefore:\n%+v", after, before)
	}
	rec := res.Tune
	if rec.Complete || !rec.Restored || !strings.Contains(rec.Error, "injected") || len(rec.Settings) != 3 || rec.Settings[2].Error == "" {
		t.Errorf("complete=%v restored=%v error=%q settings=%d", rec.Complete, rec.Restored, rec.Error, len(rec.Settings))
	}
	if f.calls != 4 {
		t.Errorf("%d Configure calls, want 3 and the restore", f.calls)
	}
}

// bare is a driver with no capability at all.
type bare struct{}

func (bare) Invoke(context.Context, *drivers.Call) error { return nil }
func (bare) Close() error                                { return nil }

func TestNotConfigurable(t *testing.T) {
	t.Parallel()
	s, _ := open(t, "")
	_, err := Run(context.Background(), Config{Scenario: s, Driver: bare{}, Dir: t.TempDir()})
	if !errors.Is(err, ErrNotConfigurable) || !strings.Contains(err.Error(), "driver sim") {
		t.Errorf("err = %v", err)
	}
}

// TestKeepWarmSweep: with keep_warm the platform is never asked for
// prewarm; the pings keep the instance warm during the phases and their
// cost is counted.
func TestKeepWarmSweep(t *testing.T) {
	t.Parallel()
	s, d := open(t, `
tune:
  memory: [1769]
  keep_warm: {every: 5s, concurrent: 1}
  samples: {cold: 1, warm: 2}
  traffic: {requests_per_month: 100000}
`)
	res, err := Run(context.Background(), Config{Scenario: s, Driver: d, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if st := d.Emulator().State(); st.MinInstances != 0 {
		t.Errorf("min instances %d after the sweep", st.MinInstances)
	}
	ping := res.Tune.Setting("1769mb-p1")
	none := res.Tune.Setting("1769mb-p0")
	if ping == nil || none == nil || res.Tune.Mechanism != "keep-warm" {
		t.Fatalf("settings %+v", res.Tune.Settings)
	}
	if ping.Cost.Pings <= 0 || !ping.Cost.KeepWarmEffective || ping.Cost.ColdRate >= none.Cost.ColdRate {
		t.Errorf("pings $%v effective=%v cold %v vs %v without", ping.Cost.Pings, ping.Cost.KeepWarmEffective, ping.Cost.ColdRate, none.Cost.ColdRate)
	}
	if time.Duration(res.Tune.KeepWarmS*float64(time.Second)) != 5*time.Second {
		t.Errorf("keep-warm period %v s", res.Tune.KeepWarmS)
	}
}

// TestCurrentFromScenario: tune.current is what the recommendation is
// compared with (measured even when the sweep leaves it out), but what is
// restored is the setting the driver reported before the sweep.
func TestCurrentFromScenario(t *testing.T) {
	t.Parallel()
	s, d := open(t, `
tune:
  memory: [1769]
  samples: {cold: 1, warm: 2}
  current: {memory: 512, prewarm: 0}
  phases: false
`)
	before := d.Emulator().Config()
	res, err := Run(context.Background(), Config{Scenario: s, Driver: d, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rec := res.Tune
	if after := d.Emulator().Config(); after != before || rec.Original.MemoryMB != 1024 || rec.Original.Source != "describe" {
		t.Errorf("restored to %d MB, original %+v", after.MemoryMB, rec.Original)
	}
	cur := rec.Setting("512mb-p0")
	if len(rec.Settings) != 2 || cur == nil || !cur.Current || rec.Recommendation.Before.Setting != "512mb-p0" {
		t.Errorf("settings %d, current %+v, before %+v", len(rec.Settings), cur, rec.Recommendation.Before)
	}
}

// noForce hides the emulator's ForceCold: a platform that cannot force a
// cold start.
type noForce struct{ d *simdriver.Driver }

func (n noForce) Invoke(ctx context.Context, c *drivers.Call) error { return n.d.Invoke(ctx, c) }
func (n noForce) Close() error                                      { return nil }
func (n noForce) Configure(ctx context.Context, s drivers.Settings) error {
	return n.d.Configure(ctx, s)
}
func (n noForce) Describe(ctx context.Context) (drivers.Description, error) { return n.d.Describe(ctx) }

// TestColdByIdleGap: without ForceCold, cold samples come from waiting out
// the keep-alive; with prewarm, the burst beyond the prewarmed instance
// is the one that starts cold.
func TestColdByIdleGap(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Parse("gap.yaml", []byte(`
name: gap
target: {driver: sim, keep_alive: 300ms, handler: 20ms, handler_jitter: 0s, init: {mean: 30ms, stddev: 0s}}
phases: [{name: a, duration: 100ms, rate: 10}]
tune: {memory: [1769], prewarm: [0, 1], samples: {cold: 2, warm: 2}, phases: false, current: {memory: 1769, prewarm: 0}}
`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := simdriver.Open(context.Background(), s.Target.Config.(*simdriver.Config))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{Scenario: s, Driver: noForce{d}, Dir: t.TempDir(), Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "cannot force cold starts") {
		t.Errorf("no warning about waiting:\n%s", out.String())
	}
	for _, ts := range res.Tune.Settings {
		if ts.Cold.Count < 2 || ts.Cold.P50Ms < 45 {
			t.Errorf("%s: %d cold samples, p50 %.1f ms (init 30 ms + handler 20 ms)", ts.Name, ts.Cold.Count, ts.Cold.P50Ms)
		}
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/coldbench/coldbench/internal/telemetry"
	"github.com/coldbench/coldbench/results"
)

// dashboardFile is the Grafana dashboard shipped for the Prometheus
// metrics.
const dashboardFile = "../../deploy/grafana/coldbench.json"

// dashboardLeftOut are metrics served that no panel shows, each with why.
// Empty today: every metric has a panel.
var dashboardLeftOut = map[string]string{}

// TestGrafanaDashboard scrapes the real endpoint of a short run and of a
// `tune --no-phases` (which serves the tune series), after their final
// flush, and checks: both scrapes pass promtool's lint; the tune counted
// its sample requests in invocations; and the dashboard parses, takes its
// data source from the ${DS_PROMETHEUS} variable, queries only metrics
// that were served, and shows every metric served but those left out on
// purpose.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	runDir := filepath.Join(t.TempDir(), "run")
	tuneDir := filepath.Join(t.TempDir(), "tune")
	runScenario, tuneScenario := writeScenario(t, metricsScenario), writeScenario(t, tuneScenarioYAML)
	var run, tune string
	var wg sync.WaitGroup
	wg.Go(func() {
		run = lingerScrape(t, "run", runScenario, "--out", runDir, "--quiet")
	})
	wg.Go(func() {
		tune = lingerScrape(t, "tune", tuneScenario, "--out", tuneDir, "--no-phases",
			"--memory", "512,1024", "--prewarm", "0", "--cold-samples", "2", "--warm-samples", "5")
	})
	wg.Wait()
	if t.Failed() {
		return
	}

	served := map[string]bool{}
	for name, text := range map[string]string{"run": run, "tune": tune} {
		problems, err := promlint.New(strings.NewReader(text)).Lint()
		if err != nil {
			t.Fatalf("%s scrape: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("%s scrape: promlint: %s: %s", name, p.Metric, p.Text)
		}
		for f := range parseScrape(t, text) {
			served[f] = true
		}
	}
	if !served[telemetry.PromTuneCost] || !served[telemetry.PromLatency] {
		t.Fatalf("served %v: want the run's and the tune's metrics", slices.Sorted(maps.Keys(served)))
	}

	// The tune sent only samples: each setting's invocations are its
	// samples, as tune.json counts them.
	rec, err := results.LoadTune(tuneDir)
	if err != nil {
		t.Fatal(err)
	}
	inv := map[string]float64{}
	for _, m := range parseScrape(t, tune)[telemetry.PromInvocations].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "setting" {
				inv[lp.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	for _, s := range rec.Settings {
		want := s.Cold.Count + s.Warm.Count + s.SampleErrors
		if want == 0 || inv[s.Name] != float64(want) {
			t.Errorf("%s: invocations_total %v, tune.json samples %d", s.Name, inv[s.Name], want)
		}
	}

	// A plain run has no setting label anywhere.
	if strings.Contains(run, "setting=") {
		t.Error("the run's series carry a setting label")
	}

	checkDashboard(t, served)
}

// checkDashboard reads the dashboard and checks its queries against the
// metric families served.
func checkDashboard(t *testing.T, served map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct {
			Name, Type, PluginID string
		} `json:"__inputs"`
		Templating struct {
			List []struct {
				Name       string
				Type       string
				Datasource *dsRef
				Query      any
			}
		}
		Panels []dashPanel
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs %+v: want one Prometheus data source input, DS_PROMETHEUS", d.Inputs)
	}
	var exprs []string
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			if v.Datasource == nil || v.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("variable %s: data source %v, want ${DS_PROMETHEUS}", v.Name, v.Datasource)
			}
			q, _ := v.Query.(map[string]any)
			s, _ := q["query"].(string)
			exprs = append(exprs, s)
		}
	}
	var panels []dashPanel
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			panels = append(panels, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	shown := map[string][]string{} // metric → panels
	for _, p := range panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: data source %v, want ${DS_PROMETHEUS}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := metricNames(q.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no coldbench metric", p.Title, q.Expr)
			}
			for _, n := range names {
				shown[n] = append(shown[n], p.Title)
			}
			exprs = append(exprs, q.Expr)
		}
	}
	for _, e := range exprs {
		for _, n := range metricNames(e) {
			if !served[n] {
				t.Errorf("query %q: coldbench serves no %s", e, n)
			}
		}
		if strings.Count(e, "(") != strings.Count(e, ")") || strings.Count(e, "{") != strings.Count(e, "}") {
			t.Errorf("query %q: unbalanced brackets", e)
		}
	}
	for n := range served {
		_, left := dashboardLeftOut[n]
		if len(shown[n]) == 0 && !left {
			t.Errorf("%s is served but in no panel and not listed as left out", n)
		}
	}
	for n := range dashboardLeftOut {
		if len(shown[n]) > 0 {
			t.Errorf("%s is listed as left out but panels %v show it", n, shown[n])
		}
	}
	t.Logf("%d panels, %d metrics served, every one shown", len(panels), len(served))
}

type dsRef struct{ Type, UID string }

type dashPanel struct {
	Title      string
	Type       string
	Datasource *dsRef
	Targets    []struct{ Expr string }
	Panels     []dashPanel
}

var metricName = regexp.MustCompile(`\bcoldbench_[a-z0-9_]+`)

// metricNames are the coldbench metric families a PromQL expression
// names: a histogram's _bucket, _sum and _count series are its family.
func metricNames(expr string) []string {
	var out []string
	for _, n := range metricName.FindAllString(expr, -1) {
		if n == telemetry.PromLatency+"_bucket" || n == telemetry.PromLatency+"_sum" || n == telemetry.PromLatency+"_count" {
			n = telemetry.PromLatency
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// lingerScrape runs coldbench with a Prometheus endpoint that lingers
// after the run, waits for the final values, scrapes them and stops it.
func lingerScrape(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--metrics-listen", "127.0.0.1:0", "--metrics-linger", "1m")...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Error(err)
		return ""
	}
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return ""
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var url, log string
	timeout := time.After(90 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Errorf("coldbench %v ended before its final values:\n%s", args, log)
				return ""
			}
			log += l + "\n"
			if i := strings.Index(l, "serving Prometheus metrics on http://"); i >= 0 {
				url = strings.TrimSpace(l[i+len("serving Prometheus metrics on "):])
			}
			if !strings.Contains(l, "final values published") {
				continue
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return ""
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			go func() {
				for range lines {
				}
			}()
			return string(b)
		case <-timeout:
			t.Errorf("coldbench %v: no final values in 90s:\n%s", args, log)
			return ""
		}
	}
}

// parseScrape parses a scrape in the Prometheus text format.
func parseScrape(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return mf
}

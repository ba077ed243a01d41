package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/coldbench/coldbench/internal/telemetry"
	"github.com/coldbench/coldbench/results"
)

// metricsScenario is short, has cold and warm requests, and a modelled
// memory used of 100 MB + 1 MB per request an instance served.
const metricsScenario = `
name: metrics
target:
  driver: sim
  handler: 5ms
  init: {mean: 30ms, stddev: 3ms}
  memory_mb: 512
  memory_used: {base_mb: 100, per_request_mb: 1}
phases:
  - {name: burst, duration: 1s, burst: {requests: 10}}
  - {name: steady, duration: 2s, rate: 40/s}
`

// otlpReceiver keeps every OTLP export request it is sent.
type otlpReceiver struct {
	colmetricpb.UnimplementedMetricsServiceServer
	mu   sync.Mutex
	reqs []*colmetricpb.ExportMetricsServiceRequest
}

func (r *otlpReceiver) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// last returns the last data point's metric of each name, and the
// resource attributes of the last export.
func (r *otlpReceiver) last(t *testing.T) (map[string]*metricpb.Metric, map[string]string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("the receiver got no export")
	}
	ms := map[string]*metricpb.Metric{}
	res := map[string]string{}
	for _, req := range r.reqs {
		for _, rm := range req.ResourceMetrics {
			for _, kv := range rm.GetResource().GetAttributes() {
				res[kv.Key] = kv.Value.GetStringValue()
			}
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					ms[m.Name] = m
				}
			}
		}
	}
	return ms, res
}

// TestOTLPExportGRPC: a real OTLP/gRPC server on loopback receives the
// run's metrics, with names, units and final totals that match run.json.
func TestOTLPExportGRPC(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := &otlpReceiver{}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, rcv)
	go srv.Serve(ln)
	defer srv.Stop()

	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbench(t, "run", writeScenario(t, metricsScenario), "--out", dir, "--quiet",
		"--otlp-endpoint", ln.Addr().String(), "--otlp-insecure", "--otlp-protocol", "grpc", "--otlp-interval", "500ms")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	checkOTLP(t, rcv, loadRun(t, dir))
}

// TestOTLPExportHTTP: the same over OTLP/HTTP, to an httptest server that
// decodes the protobuf ExportMetricsServiceRequest.
func TestOTLPExportHTTP(t *testing.T) {
	t.Parallel()
	rcv := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/metrics" || r.Header.Get("Content-Type") != "application/x-protobuf" || r.Header.Get("X-Tenant") != "bench" {
			http.Error(w, "unexpected "+r.URL.Path+" "+r.Header.Get("Content-Type"), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		req := &colmetricpb.ExportMetricsServiceRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.Export(r.Context(), req)
		resp, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "run")
	// A push interval longer than the run: the final push is the only one,
	// and it is sent once.
	out, code := coldbench(t, "run", writeScenario(t, metricsScenario), "--out", dir, "--quiet",
		"--otlp-endpoint", srv.URL, "--otlp-protocol", "http", "--otlp-header", "X-Tenant=bench", "--otlp-interval", "1m")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	checkOTLP(t, rcv, loadRun(t, dir))
	if n := len(rcv.reqs); n != 1 {
		t.Errorf("%d exports, want the final one only, once", n)
	}
}

// checkOTLP compares the last exported figures with the run record.
func checkOTLP(t *testing.T, rcv *otlpReceiver, r *results.Run) {
	t.Helper()
	ms, res := rcv.last(t)
	if res["coldbench.scenario"] != r.Scenario || res["coldbench.run_id"] == "" || !strings.HasPrefix(res["coldbench.target"], "sim") {
		t.Errorf("resource attributes %v", res)
	}
	sum := func(name, unit string) int64 {
		m := ms[name]
		if m == nil {
			t.Errorf("no metric %s", name)
			return -1
		}
		if m.Unit != unit {
			t.Errorf("%s: unit %q, want %q", name, m.Unit, unit)
		}
		s := m.GetSum()
		if s == nil || !s.IsMonotonic || s.AggregationTemporality != metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
			t.Errorf("%s: not a cumulative monotonic sum: %v", name, m.Data)
			return -1
		}
		var n int64
		for _, dp := range s.DataPoints {
			n += dp.GetAsInt()
		}
		return n
	}
	tot := r.Totals
	var cold int64
	for _, p := range r.Phases {
		cold += p.SentByTemp.Cold
	}
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{telemetry.NameInvocations, sum(telemetry.NameInvocations, "{invocation}"), tot.Sent},
		{telemetry.NameSuccesses, sum(telemetry.NameSuccesses, "{invocation}"), tot.OK},
		{telemetry.NameDropped, sum(telemetry.NameDropped, "{arrival}"), tot.Dropped},
		{telemetry.NameColdStarts, sum(telemetry.NameColdStarts, "{invocation}"), cold},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, run.json says %d", c.name, c.got, c.want)
		}
	}
	if tot.Sent < 60 || tot.Cold.Count == 0 || tot.Warm.Count == 0 {
		t.Errorf("run: sent %d, cold %d, warm %d: want a run with both", tot.Sent, tot.Cold.Count, tot.Warm.Count)
	}
	lat := ms[telemetry.NameLatency]
	if lat == nil || lat.Unit != "s" || lat.GetHistogram() == nil {
		t.Fatalf("latency: %v", lat)
	}
	counts := map[string]uint64{}
	for _, dp := range lat.GetHistogram().DataPoints {
		var temp string
		for _, kv := range dp.Attributes {
			if kv.Key == "temperature" {
				temp = kv.Value.GetStringValue()
			}
		}
		var b uint64
		for _, c := range dp.BucketCounts {
			b += c
		}
		if b != dp.Count || len(dp.ExplicitBounds) != len(telemetry.LatencyBounds) {
			t.Errorf("%s histogram: buckets add to %d, count %d, %d bounds", temp, b, dp.Count, len(dp.ExplicitBounds))
		}
		counts[temp] = dp.Count
	}
	if counts["cold"] != uint64(tot.Cold.Count) || counts["warm"] != uint64(tot.Warm.Count) {
		t.Errorf("latency counts %v, run.json cold %d warm %d", counts, tot.Cold.Count, tot.Warm.Count)
	}
	mem := ms[telemetry.NameMemoryUsed]
	if tot.MemoryUsed == nil || mem == nil || mem.Unit != "By" || mem.GetGauge().DataPoints[0].GetAsDouble() != float64(tot.MemoryUsed.MaxMB<<20) {
		t.Errorf("memory used: exported %v, run.json %+v", mem, tot.MemoryUsed)
	}
}

// TestPrometheusScrape: the Prometheus endpoint, scraped over and over
// while a run goes and parsed with the Prometheus text parser, shows
// counters that never go down and, after the final flush (--metrics-linger
// keeps the endpoint up), totals that match run.json.
func TestPrometheusScrape(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", writeScenario(t, metricsScenario), "--out", dir, "--quiet",
		"--metrics-listen", "127.0.0.1:0", "--metrics-linger", "30s")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wait := func(prefix string) string {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("coldbench ended before printing %q:\n%s", prefix, stdout.String())
				}
				if strings.Contains(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line in 60s", prefix)
			}
		}
	}
	l := wait("serving Prometheus metrics on ")
	url := l[strings.Index(l, "http://"):]

	// Scrape until the final values are published, checking that no
	// counter ever goes down.
	prev := map[string]float64{}
	scrapes, growing := 0, 0
	final := make(chan string, 1)
	go func() {
		for l := range lines {
			if strings.Contains(l, "final values published") {
				final <- l
			}
		}
	}()
	var last map[string]*dto.MetricFamily
	for done := false; !done; {
		select {
		case <-final:
			done = true
		case <-time.After(250 * time.Millisecond):
		}
		last = scrape(t, url)
		scrapes++
		cur := counters(last)
		for k, v := range cur {
			if v < prev[k] {
				t.Errorf("scrape %d: %s went down from %v to %v", scrapes, k, prev[k], v)
			}
			if v > prev[k] && k == telemetry.PromInvocations {
				growing++
			}
		}
		prev = cur
		if scrapes > 400 {
			t.Fatal("no final flush after 400 scrapes")
		}
	}
	if growing < 2 {
		t.Errorf("invocations grew in %d of %d scrapes: the endpoint did not follow the run", growing, scrapes)
	}

	r := loadRun(t, dir)
	c := counters(last)
	var cold int64
	for _, p := range r.Phases {
		cold += p.SentByTemp.Cold
	}
	for name, want := range map[string]int64{
		telemetry.PromInvocations: r.Totals.Sent,
		telemetry.PromSuccesses:   r.Totals.OK,
		telemetry.PromDropped:     r.Totals.Dropped,
		telemetry.PromColdStarts:  cold,
	} {
		if c[name] != float64(want) {
			t.Errorf("%s = %v, run.json says %d", name, c[name], want)
		}
	}
	h := map[string]uint64{}
	for _, m := range last[telemetry.PromLatency].GetMetric() {
		for _, lp := range m.Label {
			if lp.GetName() == "temperature" {
				h[lp.GetValue()] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	if h["cold"] != uint64(r.Totals.Cold.Count) || h["warm"] != uint64(r.Totals.Warm.Count) {
		t.Errorf("latency histogram counts %v, run.json cold %d warm %d", h, r.Totals.Cold.Count, r.Totals.Warm.Count)
	}
	if in := last[telemetry.PromInFlight].GetMetric()[0].GetGauge().GetValue(); in != 0 {
		t.Errorf("in flight %v after the run", in)
	}
	t.Logf("%d scrapes, invocations grew in %d; final %v", scrapes, growing, c)
}

// scrape fetches and parses the endpoint.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return mf
}

// counters sums every counter family's samples, by family name.
func counters(mf map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for name, f := range mf {
		if f.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range f.Metric {
			out[name] += m.GetCounter().GetValue()
		}
	}
	return out
}

// TestOTLPFinalFlushOnInterrupt: Ctrl-C ends the run early, and the
// figures pushed last still match the partial run.json.
func TestOTLPFinalFlushOnInterrupt(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := &otlpReceiver{}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, rcv)
	go srv.Serve(ln)
	defer srv.Stop()

	dir := filepath.Join(t.TempDir(), "run")
	// A long push interval: only the final flush can carry the end.
	cmd := exec.Command(bin, "run", writeScenario(t, longScenario), "--out", dir, "--quiet",
		"--otlp-endpoint", ln.Addr().String(), "--otlp-insecure", "--otlp-interval", "1m")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err == nil {
		t.Fatalf("an interrupted run exited 0:\n%s", out.String())
	}
	r := loadRun(t, dir)
	if r.Complete {
		t.Fatal("the run is complete")
	}
	checkOTLP(t, rcv, r)
}

// TestTuneExportsSettings: a 2 × 1 tune through the binary exports every
// setting's series over OTLP, with the setting as attributes, its
// invocations matching its samples and its run.json, and its cost per
// million matching
// tune.json; tune.json and the text report show the memory used.
func TestTuneExportsSettings(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := &otlpReceiver{}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, rcv)
	go srv.Serve(ln)
	defer srv.Stop()

	dir := filepath.Join(t.TempDir(), "tune")
	p := writeScenario(t, strings.Replace(tuneScenarioYAML, "keep_alive: 5s}", "keep_alive: 5s, memory_used: {base_mb: 300}}", 1))
	out, code := coldbench(t, "tune", p, "--out", dir, "--memory", "256,1024", "--prewarm", "0",
		"--cold-samples", "1", "--warm-samples", "3", "--otlp-endpoint", ln.Addr().String(), "--otlp-insecure")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, w := range []string{"256mb-p0: 256 MB of 256 MB, no headroom", "1024mb-p0: 300 MB of 1024 MB, 71% headroom"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	rec, err := results.LoadTune(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := rcv.last(t)
	bySetting := func(name string) map[string]float64 {
		out := map[string]float64{}
		m := ms[name]
		if m == nil {
			t.Fatalf("no metric %s", name)
		}
		pts := m.GetSum().GetDataPoints()
		var vals []float64
		for _, dp := range pts {
			vals = append(vals, float64(dp.GetAsInt()))
		}
		for _, dp := range m.GetGauge().GetDataPoints() {
			pts = append(pts, dp)
			vals = append(vals, dp.GetAsDouble())
		}
		for i, dp := range pts {
			for _, kv := range dp.Attributes {
				if kv.Key == "setting" {
					out[kv.Value.GetStringValue()] += vals[i]
				}
			}
		}
		return out
	}
	inv, cost := bySetting(telemetry.NameInvocations), bySetting(telemetry.NameTuneCost)
	for _, s := range rec.Settings {
		r := loadRun(t, filepath.Join(dir, filepath.FromSlash(s.RunDir)))
		// The setting's requests: its samples, then its phases.
		samples := s.Cold.Count + s.Warm.Count + s.SampleErrors
		if s.LatencyFrom != "samples" || samples != 4 {
			t.Errorf("%s: %d samples from %q, want 1 cold and 3 warm", s.Name, samples, s.LatencyFrom)
		}
		if inv[s.Name] != float64(samples+r.Totals.Sent) || cost[s.Name] != s.Cost.PerMillion {
			t.Errorf("%s: exported %v invocations, $%v per million; samples %d and run.json %d, tune.json $%v",
				s.Name, inv[s.Name], cost[s.Name], samples, r.Totals.Sent, s.Cost.PerMillion)
		}
		if s.MemoryUsed == nil || int(s.MemoryUsed.MaxMB) != s.MaxMemoryUsedMB || s.MaxMemoryUsedMB != min(300, s.MemoryMB) {
			t.Errorf("%s: memory used %d, %+v", s.Name, s.MaxMemoryUsedMB, s.MemoryUsed)
		}
	}
	if len(inv) != 2 {
		t.Errorf("invocations by setting %v: want both settings", inv)
	}
	if m := rec.Recommendation.Memory; !strings.Contains(m, "would not fit in 256 MB") {
		t.Errorf("recommendation memory note %q", m)
	}
}

// TestOTLPUnreachableEndpoint: a run pushing to an endpoint nobody
// listens on ends within the final flush's bound of its own end (it used
// to wait 10 s more), exits 0, and tells the cause once.
func TestOTLPUnreachableEndpoint(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(t.TempDir(), "run")
	start := time.Now()
	out, code := coldbench(t, "run", writeScenario(t, metricsScenario), "--out", dir, "--quiet",
		"--otlp-endpoint", addr, "--otlp-insecure", "--otlp-interval", "500ms")
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := loadRun(t, dir)
	// What the process took beyond the run itself: start-up, writing
	// the reports, the final flush. Generous for a loaded machine.
	if extra := took - r.Elapsed(); extra > telemetry.FinalFlushTimeout+4*time.Second {
		t.Errorf("the process took %v beyond the run's %v", extra, r.Elapsed())
	}
	if n := strings.Count(out, "connection refused"); n != 1 {
		t.Errorf("the cause told %d times, want once:\n%s", n, out)
	}
}

// Command benchrun is `make bench`: coldbench against vegeta and
// bombardier (and wrk's closed-loop ceiling) on one loopback HTTP server,
// in interleaved rounds: first at rates every generator sustains, then in
// overload, then long runs for peak memory.
// It prints the results table and writes it into BENCHMARKS.md between
// markers, with the raw numbers in a JSON file beside it.
//
// BENCH_QUICK=1 (or -quick) runs smaller counts and one round, for a look in
// about five minutes; a full run about 40 minutes on two cores (it prints
// its estimate at the start).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/internal/bench"
)

func main() {
	log.SetFlags(log.Ltime)
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "smaller counts and one round (also BENCH_QUICK=1)")
	coldbenchBin := flag.String("coldbench", "bin/tools/coldbench", "coldbench binary")
	vegetaBin := flag.String("vegeta", "bin/tools/vegeta", "vegeta binary")
	bombardierBin := flag.String("bombardier", "bin/tools/bombardier", "bombardier binary")
	wrkBin := flag.String("wrk", "wrk", "wrk binary")
	targetBin := flag.String("target", "bin/tools/benchtarget", "benchtarget binary")
	mdPath := flag.String("out", "BENCHMARKS.md", "Markdown file to write the table into")
	jsonPath := flag.String("json", "BENCHMARKS.json", "raw results")
	rounds := flag.Int("rounds", 0, "rounds of every comparison (default 3, quick 1)")
	rates := flag.String("rates", "5000,10000", "headline rates, comma-separated; lowered to half wrk's ceiling when the machine cannot answer twice as much")
	rateCount := flag.Int64("rate-count", 0, "requests in each headline run (default 100000, quick 30000)")
	bound := flag.Duration("p99", 10*time.Millisecond, "p99 latency bound of a sustained rate in the overload search")
	rssRate := flag.Int("rss-rate", 10_000, "rate of the peak-memory runs")
	rssCounts := flag.String("rss-counts", "", "requests in each peak-memory run, comma-separated (default 1000000,5000000; quick 100000,300000)")
	vegetaRSSMax := flag.Int64("vegeta-rss-max", 1_000_000, "skip vegeta's peak-memory runs above this many requests (its memory grows with the run)")
	flag.Parse()

	c := bench.Config{
		Quick: *quick, Rounds: 3, RateCount: 100_000, Step: 3 * time.Second, P99Bound: *bound,
		RSSRate: *rssRate, RSSCounts: []int64{1_000_000, 5_000_000}, VegetaRSSMax: *vegetaRSSMax,
	}
	if c.Quick {
		c.Rounds, c.RateCount, c.Step = 1, 30_000, 2*time.Second
		c.RSSCounts = []int64{100_000, 300_000}
	}
	if *rounds > 0 {
		c.Rounds = *rounds
	}
	if *rateCount > 0 {
		c.RateCount = *rateCount
	}
	for _, n := range splitInts("-rates", *rates) {
		c.Rates = append(c.Rates, int(n))
	}
	if *rssCounts != "" {
		c.RSSCounts = splitInts("-rss-counts", *rssCounts)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bins := bins{cb: *coldbenchBin, vg: *vegetaBin, bd: *bombardierBin, wrk: *wrkBin, target: *targetBin}
	if err := runBench(ctx, c, bins, *mdPath, *jsonPath); err != nil {
		log.Fatal(err)
	}
}

func splitInts(flagName, s string) []int64 {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n <= 0 {
			log.Fatalf("%s %q: want positive numbers, comma-separated", flagName, s)
		}
		out = append(out, n)
	}
	return out
}

type bins struct{ cb, vg, bd, wrk, target string }

func runBench(ctx context.Context, c bench.Config, b bins, mdPath, jsonPath string) error {
	url, stopTarget, err := startTarget(b.target)
	if err != nil {
		return err
	}
	defer stopTarget()
	tmp, err := os.MkdirTemp("", "coldbench-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cb := &bench.Coldbench{Bin: b.cb, URL: url, Dir: tmp, MaxInFlight: 1000} // the default
	cbn := &bench.Coldbench{Bin: b.cb, URL: url, Dir: tmp, MaxInFlight: 1000, Client: "net/http"}
	vg := &bench.Vegeta{Bin: b.vg, URL: url, Dir: tmp}
	bd := &bench.Bombardier{Bin: b.bd, URL: url, Connections: 128}
	wrk := &bench.Wrk{Bin: b.wrk, URL: url, Threads: 2, Connections: 64}
	gens := []bench.Generator{cb, cbn, vg, bd} // the headline's, in bench.Tools order
	only := func(names []string) []bench.Generator {
		var out []bench.Generator
		for _, g := range gens {
			if slices.Contains(names, g.Name()) {
				out = append(out, g)
			}
		}
		return out
	}
	r := &bench.Report{Machine: bench.ThisMachine(b.wrk), Config: c, Sustained: map[string][]int{}}
	log.Printf("target %s; %d cores, load %s", url, r.Machine.Cores, r.Machine.LoadStart)
	log.Printf("this takes about %s at most (until %s)", c.Estimate().Round(time.Minute), time.Now().Add(c.Estimate()).Format("15:04"))

	// probe runs one generator and keeps going on failure: a run that
	// could not complete is reported, not fatal.
	probe := func(g bench.Generator, rate int, d time.Duration, lag bool) (bench.Probe, bool) {
		p, err := g.Run(ctx, rate, d, lag)
		if err != nil {
			msg := fmt.Sprintf("%s at %d/s for %s: %v", g.Name(), rate, d, err)
			log.Print(msg)
			r.Errors = append(r.Errors, msg)
			return p, false
		}
		log.Printf("%-10s %6d/s %5s: sent %d ok %.4f p99 %s cpu %s rss %v anon %v file %v", g.Name(), rate, d, p.Sent, p.Achieved(),
			p.P99.Round(10*time.Microsecond), p.Usage.CPU.Round(time.Millisecond), p.Usage.MaxRSS, p.Usage.PeakAnon, p.Usage.PeakFile)
		return p, true
	}
	// rotated is gens starting at the i-th, so that each goes first in
	// turn and machine noise hits them all.
	rotated := func(gens []bench.Generator, i int) []bench.Generator {
		i %= len(gens)
		return append(append([]bench.Generator(nil), gens[i:]...), gens[:i]...)
	}

	for round := range c.Rounds {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rps, _, err := wrk.Run(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		log.Printf("round %d: wrk ceiling %.0f req/s", round+1, rps)
		r.Ceiling = append(r.Ceiling, rps)
		if round == 0 {
			r.Config.Rates = bench.AdaptRates(c.Rates, rps)
			log.Printf("headline rates %v", r.Config.Rates)
		}

		// The headline: every generator at rates all of them sustain.
		for i, rate := range r.Config.Rates {
			d := time.Duration(float64(c.RateCount) / float64(rate) * float64(time.Second))
			for _, g := range rotated(gens, round+i) {
				if p, ok := probe(g, rate, d, true); ok {
					r.Rated = append(r.Rated, p)
				}
			}
		}

		// Overload: the searches advance in lockstep.
		order := rotated(only(bench.OverloadTools), round)
		limit := int(2 * rps)
		searches := map[string]*bench.Search{}
		for _, g := range order {
			searches[g.Name()] = bench.NewSearch(2000, max(limit, 4000), bench.SearchProbes, 0.05)
		}
		for more := true; more && ctx.Err() == nil; {
			more = false
			for _, g := range order {
				s := searches[g.Name()]
				rate, ok := s.Next()
				if !ok {
					continue
				}
				more = true
				p, ran := probe(g, rate, c.Step, false)
				s.Report(rate, ran && bench.Passed(p, c.P99Bound))
				r.Search = append(r.Search, p)
			}
		}
		for _, g := range order {
			best := searches[g.Name()].Best()
			r.Sustained[g.Name()] = append(r.Sustained[g.Name()], best)
			log.Printf("round %d: %s sustains %d/s", round+1, g.Name(), best)
		}
	}

	for _, n := range c.RSSCounts {
		d := time.Duration(float64(n) / float64(c.RSSRate) * float64(time.Second))
		for _, g := range only(bench.RSSTools) {
			if !c.Runs(g.Name(), n) {
				continue // vegeta's memory grows with the run
			}
			if p, ok := probe(g, c.RSSRate, d, false); ok {
				r.RSS = append(r.RSS, p)
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.Machine.LoadEnd = bench.LoadAvg()

	table := r.Markdown()
	fmt.Print(table)
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(jsonPath, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	if err := bench.WriteMarkdown(mdPath, table); err != nil {
		return err
	}
	log.Printf("wrote %s and %s", mdPath, jsonPath)
	return nil
}

// startTarget starts benchtarget and reads the URL it prints.
func startTarget(bin string) (string, func(), error) {
	cmd := exec.Command(bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("%s printed no URL: %w", bin, err)
	}
	return strings.TrimSpace(line), stop, nil
}

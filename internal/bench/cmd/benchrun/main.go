// Command benchrun is `make bench`: coldbench against vegeta (and wrk's
// closed-loop ceiling) on one loopback HTTP server, in interleaved rounds.
// It prints the results table and writes it into BENCHMARKS.md between
// markers, with the raw numbers in a JSON file beside it.
//
// BENCH_QUICK=1 (or -quick) runs smaller counts and one round, for a look in
// about three minutes; the full run takes about fifteen on two cores.
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
	wrkBin := flag.String("wrk", "wrk", "wrk binary")
	targetBin := flag.String("target", "bin/tools/benchtarget", "benchtarget binary")
	mdPath := flag.String("out", "BENCHMARKS.md", "Markdown file to write the table into")
	jsonPath := flag.String("json", "BENCHMARKS.json", "raw results")
	rounds := flag.Int("rounds", 0, "search and CPU rounds (default 3, quick 1)")
	bound := flag.Duration("p99", 25*time.Millisecond, "p99 latency bound of a sustained rate")
	cpuRate := flag.Int("cpu-rate", 10_000, "rate of the CPU-per-request runs")
	rssRate := flag.Int("rss-rate", 0, "rate of the peak-memory runs (default 25000, quick 10000)")
	rssCounts := flag.String("rss-counts", "", "requests in each peak-memory run, comma-separated (default 100000,1000000,5000000; quick 20000,100000,300000)")
	flag.Parse()

	c := bench.Config{
		Quick: *quick, Rounds: 3, Step: 3 * time.Second, P99Bound: *bound,
		CPURate: *cpuRate, CPUCount: 100_000,
		LagRates: []int{1000, 5000, 10_000}, LagStep: 5 * time.Second,
		RSSRate: 25_000, RSSCounts: []int64{100_000, 1_000_000, 5_000_000},
	}
	if c.Quick {
		c.Rounds, c.Step, c.CPUCount, c.LagStep = 1, 2*time.Second, 50_000, 2*time.Second
		c.RSSRate, c.RSSCounts = 10_000, []int64{20_000, 100_000, 300_000}
	}
	if *rounds > 0 {
		c.Rounds = *rounds
	}
	if *rssRate > 0 {
		c.RSSRate = *rssRate
	}
	if *rssCounts != "" {
		c.RSSCounts = nil
		for _, f := range strings.Split(*rssCounts, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || n <= 0 {
				log.Fatalf("-rss-counts %q: want positive request counts", *rssCounts)
			}
			c.RSSCounts = append(c.RSSCounts, n)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := runBench(ctx, c, *coldbenchBin, *vegetaBin, *wrkBin, *targetBin, *mdPath, *jsonPath); err != nil {
		log.Fatal(err)
	}
}

func runBench(ctx context.Context, c bench.Config, cbBin, vgBin, wrkBin, targetBin, mdPath, jsonPath string) error {
	url, stopTarget, err := startTarget(targetBin)
	if err != nil {
		return err
	}
	defer stopTarget()
	tmp, err := os.MkdirTemp("", "coldbench-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cb := &bench.Coldbench{Bin: cbBin, URL: url, Dir: tmp, MaxInFlight: 1000} // the default
	vg := &bench.Vegeta{Bin: vgBin, URL: url, Dir: tmp}
	wrk := &bench.Wrk{Bin: wrkBin, URL: url, Threads: 2, Connections: 64}
	gens := []bench.Generator{cb, vg}
	r := &bench.Report{Machine: bench.ThisMachine(wrkBin), Config: c, Sustained: map[string][]int{}}
	log.Printf("target %s; %d cores, load %s", url, r.Machine.Cores, r.Machine.LoadStart)

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
		log.Printf("%-9s %6d/s %5s: sent %d ok %.4f p99 %s cpu %s rss %v", g.Name(), rate, d, p.Sent, p.Achieved(),
			p.P99.Round(10*time.Microsecond), p.Usage.CPU.Round(time.Millisecond), p.Usage.MaxRSS)
		return p, true
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
		// The two searches advance in lockstep, alternating which goes
		// first each round.
		order := gens
		if round%2 == 1 {
			order = []bench.Generator{vg, cb}
		}
		limit := int(2 * rps)
		searches := map[string]*bench.Search{}
		for _, g := range order {
			searches[g.Name()] = bench.NewSearch(2000, max(limit, 4000), 10, 0.05)
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
		for _, g := range gens {
			best := searches[g.Name()].Best()
			r.Sustained[g.Name()] = append(r.Sustained[g.Name()], best)
			log.Printf("round %d: %s sustains %d/s", round+1, g.Name(), best)
		}
	}

	cpuDur := time.Duration(float64(c.CPUCount) / float64(c.CPURate) * float64(time.Second))
	for round := range c.Rounds {
		for i := range gens {
			g := gens[(i+round)%len(gens)]
			if p, ok := probe(g, c.CPURate, cpuDur, false); ok {
				r.CPU = append(r.CPU, p)
			}
		}
	}
	for _, rate := range c.LagRates {
		for _, g := range gens {
			if p, ok := probe(g, rate, c.LagStep, true); ok {
				r.Lag = append(r.Lag, p)
			}
		}
	}
	for _, n := range c.RSSCounts {
		d := time.Duration(float64(n) / float64(c.RSSRate) * float64(time.Second))
		for _, g := range gens {
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

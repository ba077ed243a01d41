package scenarios

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coldbench/coldbench/scenarios/replay"
)

// AzureTrace replays the Azure Functions 2019 public trace: a file of
// invocation counts per function per minute (HashOwner, HashApp,
// HashFunction, Trigger, 1 … 1440). Every invocation of the functions
// selected becomes one request to the scenario's target, spread within its
// minute; the function's hash travels in a header so that the target can
// route it. Zero values mean the default.
//
// The durations and memory files of the trace are not read: coldbench
// measures durations at the target itself, and the memory a function used
// on Azure says nothing about the one under test.
type AzureTrace struct {
	// File is the invocation-count CSV, relative to the scenario file.
	File string `yaml:"file"`
	// At most one of Functions, Top and Rank selects the functions; none
	// replays them all. Rank and Top count invocations over the minutes
	// replayed, ties going to the row earlier in the file.
	Functions []string `yaml:"functions"` // by HashFunction
	Top       int      `yaml:"top"`       // the Top busiest
	Rank      int      `yaml:"rank"`      // only the one of this rank, 1 the busiest
	// Start and End are the minutes replayed, from 1, inclusive (default:
	// the whole file).
	Start int `yaml:"start"`
	End   int `yaml:"end"`
	// Speedup compresses time: a trace minute lasts 60 s / Speedup
	// (default 1, real time).
	Speedup float64 `yaml:"speedup"`
	// Spread places a minute's invocations within it (default equidistant).
	Spread Spread `yaml:"spread"`
	// Header carries the function's hash (default X-Coldbench-Function).
	Header string `yaml:"header"`
}

// RequestLog replays recorded requests, each with its own method, path,
// headers and body, at the log's timing relative to its first request,
// compressed by Speedup. Drivers that do not speak HTTP send the target's
// configured request at the log's times (see drivers.Request).
type RequestLog struct {
	// File is the log, relative to the scenario file.
	File string `yaml:"file"`
	// Format is csv or jsonl (default: by the file's extension).
	Format string `yaml:"format"`
	// Speedup compresses time (default 1, the original timing).
	Speedup float64 `yaml:"speedup"`
}

// Spread is how a trace minute's invocations are placed within it.
type Spread string

// The spreads. Each is deterministic for a scenario seed.
const (
	// Equidistant puts the k-th of c invocations at the middle of the k-th
	// of c equal slots of the minute: evenly, and away from its edges.
	Equidistant Spread = "equidistant"
	// Uniform draws the c+1 gaps between the minute's start, its c
	// invocations and its end uniformly at random, then scales them to
	// fill the minute: random, but more regular than Poisson.
	Uniform Spread = "uniform"
	// Exponential draws the gaps from an exponential distribution, scaled
	// the same way: a Poisson process with exactly c arrivals in the minute.
	Exponential Spread = "exponential"
)

// Spreads lists the valid spreads.
var Spreads = []Spread{Equidistant, Uniform, Exponential}

// DefaultFunctionHeader carries a replayed invocation's function hash.
const DefaultFunctionHeader = "X-Coldbench-Function"

// maxSpeedup keeps a compressed trace minute at 60 µs or more.
const maxSpeedup = 1e6

// speedup is s with the default applied.
func speedup(s float64) float64 {
	if s == 0 {
		return 1
	}
	return s
}

// minute is how long a trace minute lasts at speedup s.
func minute(s float64) time.Duration {
	return time.Duration(math.Round(float64(time.Minute) / speedup(s)))
}

// replayFile resolves a trace or log path against the scenario file's
// directory; a built-in scenario's paths are relative to the working
// directory.
func replayFile(scenarioFile, file string) string {
	if !filepath.IsAbs(file) && scenarioFile != "" && !strings.HasPrefix(scenarioFile, "builtin:") {
		file = filepath.Join(filepath.Dir(scenarioFile), file)
	}
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return file
}

// resolveReplayFiles makes the phases' trace and log paths absolute, so
// that an agent given the scenario reads the same files whatever its
// working directory (agents need the files at the same paths).
func (s *Scenario) resolveReplayFiles() {
	for i := range s.Phases {
		if t := s.Phases[i].AzureTrace; t != nil && t.File != "" {
			t.File = replayFile(s.File, t.File)
		}
		if l := s.Phases[i].RequestLog; l != nil && l.File != "" {
			l.File = replayFile(s.File, l.File)
		}
		if t := s.Phases[i].Targets; t != nil && t.File != "" {
			t.File = replayFile(s.File, t.File)
		}
	}
}

// Trace and log files are read once per set of options and kept, since
// Parse, Validate and every CompileShare of a run need them. A file is
// known by its path, size and modification time, so that an agent daemon
// replaying a file changed in place reads it again.
var (
	replayMu   sync.Mutex
	traceCache = map[string]*replay.Trace{}
	logCache   = map[string][]replay.Entry{}
)

// maxReplayed is how many files a cache keeps; beyond it, it starts over.
const maxReplayed = 16

// readCached returns what read makes of the file at path, from cache when
// the same version of the file was read with the same options before.
func readCached[T any](cache map[string]T, path, options string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	fi, err := os.Stat(path)
	if err != nil {
		return zero, err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%s", path, fi.Size(), fi.ModTime().UnixNano(), options)
	replayMu.Lock()
	defer replayMu.Unlock()
	if v, ok := cache[key]; ok {
		return v, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, err
	}
	if len(cache) >= maxReplayed {
		clear(cache)
	}
	cache[key] = v
	return v, nil
}

// load reads the trace for the scenario file, or returns it from the cache.
func (t *AzureTrace) load(scenarioFile string) (*replay.Trace, error) {
	path := replayFile(scenarioFile, t.File)
	sel := replay.Select{Hashes: t.Functions, Top: t.Top, Rank: t.Rank, Start: t.Start, End: t.End}
	opts := fmt.Sprintf("%q %d %d %d %d", sel.Hashes, sel.Top, sel.Rank, sel.Start, sel.End)
	return readCached(traceCache, path, opts, func(r io.Reader) (*replay.Trace, error) {
		return replay.ReadAzure(path, r, sel)
	})
}

// load reads the log for the scenario file, or returns it from the cache.
func (l *RequestLog) load(scenarioFile string) ([]replay.Entry, error) {
	path := replayFile(scenarioFile, l.File)
	format := l.Format
	if format == "" {
		var ok bool
		if format, ok = replay.FormatOf(path); !ok {
			return nil, fmt.Errorf("%s: cannot tell the format from the extension; set format: csv or jsonl", path)
		}
	}
	return readCached(logCache, path, format, func(r io.Reader) ([]replay.Entry, error) {
		return replay.ReadLog(path, r, format)
	})
}

// replaySpan is how long a replay phase's trace or log lasts, 0 when it
// could not be read (validation says why).
func (p *Phase) replaySpan(scenarioFile string) time.Duration {
	switch {
	case p.AzureTrace != nil:
		tr, err := p.AzureTrace.load(scenarioFile)
		if err != nil {
			return 0
		}
		return time.Duration(tr.End-tr.Start+1) * minute(p.AzureTrace.Speedup)
	case p.RequestLog != nil:
		es, err := p.RequestLog.load(scenarioFile)
		if err != nil {
			return 0
		}
		// Just past the last request, which must fall inside the phase.
		return logOffset(es[len(es)-1], es[0], p.RequestLog.Speedup) + time.Millisecond
	}
	return 0
}

// logOffset is when entry e is due, from the log's first entry.
func logOffset(e, first replay.Entry, s float64) time.Duration {
	return time.Duration(float64(e.Time.Sub(first.Time)) / speedup(s))
}

// replayPhase checks an azure_trace or request_log phase, reading its file.
func (v *validator) replayPhase(path string, p *Phase) {
	before := len(v.errs)
	var file, fpath string
	var err error
	switch {
	case p.AzureTrace != nil:
		file, fpath = p.AzureTrace.File, path+".azure_trace"
		v.azureOptions(fpath, p.AzureTrace)
		if len(v.errs) == before && file != "" {
			_, err = p.AzureTrace.load(v.file)
		}
	case p.RequestLog != nil:
		l := p.RequestLog
		file, fpath = l.File, path+".request_log"
		v.speedup(fpath+".speedup", l.Speedup)
		if l.Format != "" && !slices.Contains(replay.LogFormats, l.Format) {
			v.add(fpath+".format", "unknown format %q (want %s)", l.Format, strings.Join(replay.LogFormats, " or "))
		}
		if len(v.errs) == before && file != "" {
			_, err = l.load(v.file)
		}
	}
	if file == "" {
		v.add(fpath+".file", "is required: a path relative to the scenario file")
	}
	if err != nil {
		v.add(fpath+".file", "%v", err)
	}
	if len(v.errs) > before {
		return
	}
	span := p.replaySpan(v.file)
	switch {
	case span > MaxPhaseDuration:
		v.add(fpath, "replaying takes %s, longer than the maximum phase %s; raise speedup or replay fewer minutes", span, MaxPhaseDuration)
	case p.Duration < 0:
		v.add(path+".duration", "must be positive, got %s", p.Duration)
	case p.Duration != 0 && time.Duration(p.Duration) < span:
		v.add(path+".duration", "%s is shorter than the replay (%s); leave it out to take the replay's length", p.Duration, span)
	case time.Duration(p.Duration) > MaxPhaseDuration:
		v.add(path+".duration", "%s is longer than the maximum %s", p.Duration, MaxPhaseDuration)
	}
}

// azureOptions checks an azure_trace block's options.
func (v *validator) azureOptions(path string, t *AzureTrace) {
	var sel []string
	if t.Functions != nil {
		sel = append(sel, "functions")
		if len(t.Functions) == 0 {
			v.add(path+".functions", "an empty list selects nothing; leave it out to replay every function")
		}
		for i, h := range t.Functions {
			if strings.TrimSpace(h) == "" {
				v.add(fmt.Sprintf("%s.functions[%d]", path, i), "empty function hash")
			}
		}
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"top", t.Top}, {"rank", t.Rank}, {"start", t.Start}, {"end", t.End}} {
		if f.n < 0 {
			v.add(path+"."+f.name, "must be positive, got %d", f.n)
		}
		if f.n != 0 && (f.name == "top" || f.name == "rank") {
			sel = append(sel, f.name)
		}
	}
	if len(sel) > 1 {
		v.add(path+"."+sel[1], "the trace already selects by %s; choose one of functions, top and rank", sel[0])
	}
	if t.End > 0 && t.Start > t.End {
		v.add(path+".start", "minute %d is after the end minute %d", t.Start, t.End)
	}
	v.speedup(path+".speedup", t.Speedup)
	if t.Spread != "" && !slices.Contains(Spreads, t.Spread) {
		v.add(path+".spread", "unknown spread %q (want equidistant, uniform or exponential)", t.Spread)
	}
	if t.Header != "" && strings.ContainsAny(t.Header, " \t\r\n:") {
		v.add(path+".header", "%q is not a header name", t.Header)
	}
}

func (v *validator) speedup(path string, s float64) {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 || s > maxSpeedup {
		v.add(path, "must be a positive number up to %g, got %v", float64(maxSpeedup), s)
	}
}

// ReplayPeak is the highest rate a replay phase asks for, in requests per
// second, for an agent's rate cap: its busiest compressed trace minute, or
// the most requests of the log within any second. It is 0 for other phases
// and for a file that cannot be read (validation says why).
func (p *Phase) ReplayPeak(scenarioFile string) float64 {
	switch {
	case p.AzureTrace != nil:
		tr, err := p.AzureTrace.load(scenarioFile)
		if err != nil {
			return 0
		}
		var peak uint64
		for m := range tr.End - tr.Start + 1 {
			var n uint64
			for _, f := range tr.Functions {
				n += uint64(f.Counts[m])
			}
			peak = max(peak, n)
		}
		return float64(peak) / minute(p.AzureTrace.Speedup).Seconds()
	case p.RequestLog != nil:
		es, err := p.RequestLog.load(scenarioFile)
		if err != nil {
			return 0
		}
		peak, lo := 0, 0
		for hi := range es {
			for logOffset(es[hi], es[lo], p.RequestLog.Speedup) >= time.Second {
				lo++
			}
			peak = max(peak, hi-lo+1)
		}
		return float64(peak)
	}
	return 0
}

package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
)

// DirTimeFormat is the UTC timestamp that starts a default run directory's
// name, as in results/20261125T170102Z-cold-and-warm.
const DirTimeFormat = "20060102T150405Z"

// NewDir makes and returns a new run directory under base named for the
// start time and the scenario: base/20261125T170102Z-NAME, where NAME is the
// scenario name reduced to letters, digits, '.', '_' and '-'. When two runs
// start in the same second the later one gets a -2, -3, ... suffix, so a
// run never writes into another's directory.
func NewDir(base, scenario string, now time.Time) (string, error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("make results directory: %w", err)
	}
	name := now.UTC().Format(DirTimeFormat) + "-" + sanitize(scenario)
	for i := 1; ; i++ {
		dir := filepath.Join(base, name)
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) || i >= 1000 {
			return "", fmt.Errorf("make run directory: %w", err)
		}
	}
}

// sanitize makes a scenario name safe as part of a directory name on any
// file system: runs of other characters become one '-', and the result is
// never empty, never starts with '.' and is at most 64 bytes.
func sanitize(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(c)
		dash = false
	}
	s := strings.Trim(b.String(), "-.")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-.")
	}
	if s == "" {
		return "run"
	}
	return s
}

// Write stores r as dir/run.json, creating dir if needed, atomically: a
// process killed at any moment, even with SIGKILL, leaves either the
// previous complete file or the new one, never a mix.
func Write(dir string, r *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode run record: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, RunFile), append(b, '\n'))
}

// WriteFileAtomic writes data to path so that readers see either the old
// file or the whole new one. The data goes to a temporary file in the same
// directory (hidden, ".NAME.tmp-*"), which is synced and then renamed over
// path; the directory is synced so that the rename survives a power loss.
// A crash between the two leaves the temporary file behind; readers ignore
// it and the next write does not care.
func WriteFileAtomic(path string, data []byte) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Some platforms and file systems
// cannot sync a directory; the rename is then as durable as they allow,
// which is not a reason to fail the write.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}

// Load reads a run record from path, a run directory or the run.json in
// one. It checks the schema version; every error names the file.
func Load(path string) (*Run, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file = filepath.Join(path, RunFile)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load run %s: no run record there: %w", file, err)
		}
		return nil, fmt.Errorf("load run: %w", err)
	}
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("load run %s: not a JSON run record: %w", file, err)
	}
	switch {
	case head.Schema == nil:
		return nil, fmt.Errorf("load run %s: no \"schema\" field: not a coldbench run record", file)
	case *head.Schema != Schema:
		return nil, fmt.Errorf("load run %s: schema %q is not supported (want %q)", file, *head.Schema, Schema)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("load run %s: %w", file, err)
	}
	if err := r.checkHistograms(); err != nil {
		return nil, fmt.Errorf("load run %s: %w", file, err)
	}
	if r.Totals.Errors == nil {
		r.Totals.Errors = map[string]int64{}
	}
	for i := range r.Phases {
		if r.Phases[i].Errors == nil {
			r.Phases[i].Errors = map[string]int64{}
		}
	}
	return &r, nil
}

// HistogramLogTag is the tag of the interval entry for one phase and
// temperature in histograms.hlog, e.g. "phase=warm-up;temp=cold". The log
// format splits fields on commas and spaces, so the two parts are joined
// with ';' and the phase name is reduced as in run directory names.
func HistogramLogTag(phase string, temp drivers.Temperature) string {
	return "phase=" + sanitize(phase) + ";temp=" + temp.String()
}

// WriteHistogramLog writes dir/histograms.hlog, atomically: the HdrHistogram
// interval log (the format of hdrhistogram-go's HistogramLogWriter and of
// Java's HistogramLogWriter) with one entry per phase × temperature, tagged
// with HistogramLogTag, holding the latency of successful requests in
// microseconds. Entries are timed relative to the first phase's start, which
// is the log's base time; a phase still running ends at the time of the
// call, and phases that never began or temperatures with no samples have no
// entry. Tools such as HistogramLogProcessor and HdrHistogramVisualizer read
// it.
func WriteHistogramLog(dir string, t *Tally) error {
	var buf bytes.Buffer
	if err := writeHistogramLog(&buf, t, time.Now()); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, HistogramLogFile), err)
	}
	return WriteFileAtomic(filepath.Join(dir, HistogramLogFile), buf.Bytes())
}

// writeHistogramLog writes the log to buf; phases without an end are taken
// to end at now.
func writeHistogramLog(buf *bytes.Buffer, t *Tally, now time.Time) error {
	var base time.Time
	for _, p := range t.Phases {
		if !p.Start.IsZero() && (base.IsZero() || p.Start.Before(base)) {
			base = p.Start
		}
	}
	baseMs := base.UnixMilli()
	if base.IsZero() {
		baseMs = 0
	}

	w := hdrhistogram.NewHistogramLogWriter(buf)
	w.SetBaseTime(baseMs)
	for _, err := range []error{
		w.OutputLogFormatVersion(),
		w.OutputComment("[coldbench: latency of successful requests from the intended send time, in microseconds; Interval_Max in seconds]"),
		w.OutputStartTime(baseMs),
		w.OutputBaseTime(baseMs),
		w.OutputLegend(),
	} {
		if err != nil {
			return err
		}
	}
	for _, p := range t.Phases {
		if p.Start.IsZero() {
			continue
		}
		end := p.End
		if end.IsZero() || end.Before(p.Start) {
			end = now
		}
		for _, temp := range []drivers.Temperature{drivers.Cold, drivers.Warm, drivers.Unknown} {
			h := p.Hist(HistKey{temp, drivers.OK, Latency})
			if h == nil || h.TotalCount() == 0 {
				continue
			}
			h = h.Clone() // the tally's histogram keeps its own tag and times
			h.SetTag(HistogramLogTag(p.Name, temp))
			h.SetStartTimeMs(p.Start.UnixMilli())
			h.SetEndTimeMs(end.UnixMilli())
			if err := w.OutputIntervalHistogram(h); err != nil {
				return fmt.Errorf("phase %q %s: %w", p.Name, temp, err)
			}
		}
	}
	return nil
}

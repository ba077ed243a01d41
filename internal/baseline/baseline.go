// Package baseline keeps named baseline runs in a directory, for
// `coldbench compare --baseline NAME`: each baseline is a copy of a run
// directory's record (run.json, the scenario beside it) under DIR/NAME/,
// plus baseline.json saying where it came from. The directory is plain
// files, so a CI cache (actions/cache) can carry it from job to job.
package baseline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/coldbench/coldbench/results"
)

// EnvDir is the environment variable that names the baseline directory
// when no --baselines flag does.
const EnvDir = "COLDBENCH_BASELINES"

// DefaultDir is the baseline directory when neither flag nor environment
// names one: beside the project, like a build cache.
const DefaultDir = ".coldbench/baselines"

// InfoFile describes a baseline, beside its run.json.
const InfoFile = "baseline.json"

// Dir resolves the baseline directory: flag, else $COLDBENCH_BASELINES,
// else DefaultDir.
func Dir(flag string) string {
	if flag != "" {
		return flag
	}
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return DefaultDir
}

// Info is what baseline.json records.
type Info struct {
	Name      string    `json:"name"`
	Source    string    `json:"source"` // the run directory it was copied from
	SetAt     time.Time `json:"set_at"` // UTC
	Scenario  string    `json:"scenario"`
	StartedAt time.Time `json:"started_at"` // the run's start
	Requests  int64     `json:"requests"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$`)

// CheckName rejects names that are not one safe path element.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("baseline name %q: use letters, digits, '.', '_' and '-' (not first), at most 100", name)
	}
	return nil
}

// ErrNotFound is returned for a baseline that does not exist.
var ErrNotFound = errors.New("no such baseline")

// Set stores the run in runDir as baseline name in dir, replacing any
// baseline of that name. An incomplete run is refused unless force: a
// partial run is a misleading yardstick.
func Set(dir, name, runDir string, force bool) (Info, error) {
	if err := CheckName(name); err != nil {
		return Info{}, err
	}
	r, err := results.Load(runDir)
	if err != nil {
		return Info{}, err
	}
	if !r.Complete && !force {
		return Info{}, fmt.Errorf("run %s is incomplete (%s): a baseline should be a whole run (force to use it anyway)", runDir, r.Interrupted)
	}
	src := runDir
	if fi, err := os.Stat(runDir); err == nil && !fi.IsDir() {
		src = filepath.Dir(runDir)
	}
	info := Info{Name: name, Source: src, SetAt: time.Now().UTC(), Scenario: r.Scenario, StartedAt: r.StartedAt, Requests: r.Totals.Requests}

	// Build the new baseline beside the old one and swap it in, so that a
	// cache saved at any moment holds one whole baseline or the other.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Info{}, fmt.Errorf("baseline directory: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return Info{}, fmt.Errorf("baseline directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The record is copied byte for byte: nothing a newer coldbench wrote
	// into it is lost on the way.
	for _, f := range []string{results.RunFile, results.ScenarioFile} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if errors.Is(err, fs.ErrNotExist) && f == results.ScenarioFile {
			continue // a run of a scenario built in Go has none
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, f), b, 0o644)
		}
		if err != nil {
			return Info{}, fmt.Errorf("baseline: %w", err)
		}
	}
	b, _ := json.MarshalIndent(info, "", "  ") // plain data: cannot fail
	if err := os.WriteFile(filepath.Join(tmp, InfoFile), append(b, '\n'), 0o644); err != nil {
		return Info{}, fmt.Errorf("baseline: %w", err)
	}
	dst := filepath.Join(dir, name)
	old := tmp + ".old"
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("baseline: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Rename(old, dst) // put the old one back
		return Info{}, fmt.Errorf("baseline: %w", err)
	}
	os.RemoveAll(old)
	return info, nil
}

// Path is the directory of baseline name in dir; ErrNotFound when there
// is none.
func Path(dir, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(filepath.Join(p, results.RunFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("baseline %q in %s: %w", name, dir, ErrNotFound)
		}
		return "", fmt.Errorf("baseline %q: %w", name, err)
	}
	return p, nil
}

// Get loads baseline name from dir.
func Get(dir, name string) (*results.Run, Info, error) {
	p, err := Path(dir, name)
	if err != nil {
		return nil, Info{}, err
	}
	r, err := results.Load(p)
	if err != nil {
		return nil, Info{}, err
	}
	info, err := readInfo(p)
	return r, info, err
}

func readInfo(p string) (Info, error) {
	var info Info
	b, err := os.ReadFile(filepath.Join(p, InfoFile))
	if err != nil {
		return info, fmt.Errorf("baseline: %w", err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("baseline %s: %w", filepath.Join(p, InfoFile), err)
	}
	return info, nil
}

// List returns the baselines in dir, by name; none when dir does not
// exist.
func List(dir string) ([]Info, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("baselines: %w", err)
	}
	var out []Info
	for _, e := range entries {
		if !e.IsDir() || CheckName(e.Name()) != nil {
			continue // temporary directories of an interrupted Set
		}
		info, err := readInfo(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // not a baseline
		}
		info.Name = e.Name()
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes baseline name from dir.
func Remove(dir, name string) error {
	p, err := Path(dir, name)
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}

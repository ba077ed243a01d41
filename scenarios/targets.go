package scenarios

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/scenarios/replay"
)

// VegetaTargets is a vegeta targets file as the requests of a phase: the
// phase's shape (rate, ramp, steps, burst or poisson) paces the arrivals,
// and arrival k sends target k mod N, in the file's order, as vegeta does
// with -lazy off. Each target's method, path and query, headers and body
// replace the target's configured ones; the scheme and host stay the
// scenario target's. Drivers that do not speak HTTP ignore them.
type VegetaTargets struct {
	// File is the targets file, relative to the scenario file.
	File string `yaml:"file"`
	// Format is http (vegeta's default) or json.
	Format string `yaml:"format"`
}

var targetsCache = map[string][]replay.Entry{}

// load reads the targets for the scenario file, or returns them from the
// cache.
func (v *VegetaTargets) load(scenarioFile string) ([]replay.Entry, error) {
	path := replayFile(scenarioFile, v.File)
	format := v.Format
	if format == "" {
		format = replay.VegetaHTTP
	}
	return readCached(targetsCache, path, format, func(r io.Reader) ([]replay.Entry, error) {
		return replay.ReadTargets(path, r, format)
	})
}

// targetsPhase checks a phase's targets block, reading the file.
func (v *validator) targetsPhase(path string, p *Phase) {
	t := p.Targets
	path += ".targets"
	if p.AzureTrace != nil || p.RequestLog != nil || p.Idle {
		v.add(path, "targets need a rate, ramp, steps, burst or poisson shape to pace them")
		return
	}
	if t.Format != "" && !slices.Contains(replay.TargetFormats, t.Format) {
		v.add(path+".format", "unknown format %q (want %s)", t.Format, strings.Join(replay.TargetFormats, " or "))
		return
	}
	if t.File == "" {
		v.add(path+".file", "is required: a path relative to the scenario file")
		return
	}
	if _, err := t.load(v.file); err != nil {
		v.add(path+".file", "%v", err)
	}
}

// targetsSchedule is a schedule whose arrivals carry a targets file's
// requests, round robin over the whole (every agent's share included).
type targetsSchedule struct {
	Schedule
	reqs []drivers.Request
	sh   share
	file string
}

var _ Requester = targetsSchedule{}

func newTargetsSchedule(s Schedule, es []replay.Entry, sh share, file string) targetsSchedule {
	ts := targetsSchedule{Schedule: s, reqs: make([]drivers.Request, len(es)), sh: sh, file: file}
	for i, e := range es {
		ts.reqs[i] = drivers.Request{Method: e.Method, Path: e.Path, Header: e.Header, Body: e.Body}
	}
	return ts
}

// Request is the target arrival n of this share sends.
func (t targetsSchedule) Request(n uint64) *drivers.Request {
	k, ok := t.sh.global(n)
	if !ok {
		return nil
	}
	return &t.reqs[k%uint64(len(t.reqs))]
}

// String describes the schedule, for plans and logs.
func (t targetsSchedule) String() string {
	return fmt.Sprintf("%v, sending the %d vegeta targets of %s in turn", t.Schedule, len(t.reqs), t.file)
}

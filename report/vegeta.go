package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// VegetaFile is the per-request record of a run made with `run
// --requests`: vegeta's JSON results stream, one result a line, so that
// vegeta report, plot and encode read it as they read vegeta's own.
const VegetaFile = "requests.vegeta.json"

// VegetaLog writes one vegeta result per finished request, as an engine
// observer sees them. Each result is the request as coldbench measured
// it: Timestamp is the intended send time and Latency runs from it (no
// coordinated omission, as in run.json); Attack is the phase. A failed
// request carries its class and code as the error, and a failure the
// protocol answered 2xx/3xx to (a Lambda function error) has code 0, so
// that vegeta's success ratio is coldbench's. Dropped arrivals were never
// sent and have no result.
type VegetaLog struct {
	w   *bufio.Writer
	enc vegeta.Encoder
	n   int64
	err error
}

// NewVegetaLog writes to w; Close flushes it.
func NewVegetaLog(w io.Writer) *VegetaLog {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &VegetaLog{w: bw, enc: vegeta.NewJSONEncoder(bw)}
}

// Add writes the result of one finished request. It has the engine
// observer's signature: the engine calls it under its recording lock.
func (l *VegetaLog) Add(c *drivers.Call, s results.Sample) {
	if l.err != nil {
		return
	}
	// Sent + Service is when the request ended (now, near enough, for a
	// driver that does not say when it sent); Latency back from there is
	// when it was due.
	end := time.Now()
	if !c.Sent.IsZero() {
		end = c.Sent.Add(s.Service)
	}
	r := vegeta.Result{
		Attack: c.Phase, Seq: c.Seq, Code: uint16(c.Status),
		Timestamp: end.Add(-s.Latency), Latency: s.Latency, BytesIn: uint64(max(c.BytesIn, 0)),
	}
	if c.Request != nil {
		r.Method = c.Request.Method
	}
	if s.Outcome != drivers.OK {
		r.Error = s.Outcome.String()
		if s.Code != "" {
			r.Error += " " + s.Code
		}
		if r.Code >= 200 && r.Code < 400 {
			r.Code = 0
		}
	}
	l.err = l.enc(&r)
	l.n++
}

// Close flushes what was written and says whether every result was.
func (l *VegetaLog) Close() error {
	if l.err != nil {
		return fmt.Errorf("write %s: %w", VegetaFile, l.err)
	}
	return l.w.Flush()
}

// ErrNoRequests says why a run has no vegeta results: it was not made with
// --requests.
var ErrNoRequests = errors.New("this run kept no per-request records (run it with --requests to keep them, " +
	"in vegeta's results format): a run records HDR histograms per phase, temperature and outcome, " +
	"mergeable across agents and bounded in memory, not requests; --format hgrm gives the latency distribution")

// VegetaResults writes the run in dir's per-request records as vegeta's
// JSON results stream, reading them back through vegeta's decoder so that
// what is written is what vegeta reads. ErrNoRequests when there are none.
func VegetaResults(w io.Writer, dir string) error {
	f, err := os.Open(filepath.Join(dir, VegetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoRequests
	}
	if err != nil {
		return err
	}
	defer f.Close()
	dec := vegeta.NewJSONDecoder(f)
	bw := bufio.NewWriter(w)
	enc := vegeta.NewJSONEncoder(bw)
	for {
		var r vegeta.Result
		if err := dec(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("%s: %w", VegetaFile, err)
		}
		if err := enc(&r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

package results

import (
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one classified, finished request as the engine hands it to a
// Recorder: the sample, its exemplar (Offset is filled in by the recorder,
// from the phase start) and its intended send time.
type Entry struct {
	Phase    int
	Due      time.Time
	Sample   Sample
	Exemplar Exemplar
	// Candidate marks a cold-start inference candidate; Evidence is what
	// labelled it.
	Candidate bool
	Evidence  Evidence
}

// recorderBatch is how many entries wait before the recorder's goroutine
// is woken to apply them; recorderEvery bounds how long a few may wait.
const (
	recorderBatch = 512
	recorderEvery = 50 * time.Millisecond
)

// Recorder keeps a run's Tally while the run goes on. The request path
// only appends an entry to a buffer (Add, a short critical section with no
// histogram work); the entries are applied to the tally — counters, HDR
// histograms, exemplars, timeline — in batches on the recorder's own
// goroutine, and a snapshot copies the tally under the tally's lock, which
// the request path never takes. So a snapshot, however large the tally,
// never stalls a worker, and through it the pacer.
type Recorder struct {
	mu  sync.Mutex // guards buf: held for one append or one swap
	buf []Entry

	tmu   sync.Mutex // guards t and spare: held while a batch is applied or the tally read
	t     *Tally
	spare []Entry

	dropped []atomic.Int64 // per phase: counted by the pacer without any lock
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started bool
}

// NewRecorder records into t.
func NewRecorder(t *Tally) *Recorder {
	return &Recorder{
		t:       t,
		buf:     make([]Entry, 0, recorderBatch),
		spare:   make([]Entry, 0, recorderBatch),
		dropped: make([]atomic.Int64, len(t.Phases)),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Start starts the goroutine that applies entries. Close stops it.
func (r *Recorder) Start() {
	r.started = true
	go func() {
		defer close(r.done)
		tick := time.NewTicker(recorderEvery)
		defer tick.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-r.kick:
			case <-tick.C:
			}
			r.tmu.Lock()
			r.flush()
			r.tmu.Unlock()
		}
	}()
}

// Add records one finished request. It is safe for concurrent use and
// does no histogram work: that happens off the request path.
func (r *Recorder) Add(e Entry) {
	r.mu.Lock()
	r.buf = append(r.buf, e)
	full := len(r.buf) >= recorderBatch
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Drop counts an arrival of phase i not sent because the in-flight bound
// was reached. It takes no lock: the pacer calls it.
func (r *Recorder) Drop(i int) { r.dropped[i].Add(1) }

// DropN counts n arrivals of phase i not sent (a phase that ran past its
// end, engine.overran).
func (r *Recorder) DropN(i int, n int64) { r.dropped[i].Add(n) }

// Do runs f on the tally with every entry added so far applied, under the
// tally's lock; f must not keep the tally. The engine sets phase times
// with it.
func (r *Recorder) Do(f func(t *Tally)) {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	r.flush()
	f(r.t)
}

// Snapshot returns a deep copy of the tally with every entry added so far.
// Recording goes on meanwhile: only the applying goroutine waits.
func (r *Recorder) Snapshot() *Tally {
	var c *Tally
	r.Do(func(t *Tally) { c = t.Clone() })
	return c
}

// Close stops the recorder's goroutine, applies what is left and returns
// the tally, which is then the caller's. No Add may follow.
func (r *Recorder) Close() *Tally {
	if r.started {
		close(r.stop)
		<-r.done
		r.started = false
	}
	r.tmu.Lock()
	defer r.tmu.Unlock()
	r.flush()
	return r.t
}

// flush applies the buffered entries. Called with tmu held, which makes
// the caller the only owner of spare.
func (r *Recorder) flush() {
	r.mu.Lock()
	r.buf, r.spare = r.spare[:0], r.buf
	r.mu.Unlock()
	t := r.t
	for i := range r.spare {
		e := &r.spare[i]
		p := t.Phases[e.Phase]
		p.Record(e.Sample)
		if e.Candidate {
			p.Inference.Add(e.Evidence)
		}
		e.Exemplar.Offset = e.Due.Sub(p.Start)
		p.Exemplars[e.Sample.Temp].Offer(e.Exemplar)
		if t.Timeline != nil {
			t.Timeline.Add(e.Due, e.Sample)
		}
	}
	clear(r.spare) // let the request ids go
	// A burst can grow the buffers; do not keep a burst's worth for ever.
	if cap(r.spare) > 16*recorderBatch {
		r.spare = make([]Entry, 0, recorderBatch)
	}
	for i := range r.dropped {
		t.Phases[i].Dropped = r.dropped[i].Load()
	}
}

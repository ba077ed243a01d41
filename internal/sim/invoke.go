package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Response headers of an invocation: the emulator's equivalent of Lambda's
// REPORT log line. Durations are milliseconds.
const (
	HeaderInstanceID     = "X-Sim-Instance-Id"     // "i-000017"; absent when throttled
	HeaderCold           = "X-Sim-Cold"            // "true" or "false"
	HeaderInitDuration   = "X-Sim-Init-Duration"   // decimal ms, "251.337"; "0" when warm
	HeaderBilledDuration = "X-Sim-Billed-Duration" // integer ms: handler time rounded up, min 1; "0" when throttled
	HeaderMemorySize     = "X-Sim-Memory-Size"     // MB
	HeaderMaxMemoryUsed  = "X-Sim-Max-Memory-Used" // MB; "0" when throttled
	HeaderRequestID      = "X-Request-Id"          // echoed when the request sent it
)

// ControlPrefix starts the paths of the control API; every other path
// invokes the function.
const ControlPrefix = "/_sim/"

var _ http.Handler = (*Emulator)(nil)

// ServeHTTP invokes the function, whatever the path and method, except for
// the control API under ControlPrefix.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim" || strings.HasPrefix(r.URL.Path, ControlPrefix) {
		e.control(w, r)
		return
	}
	e.invoke(w, r)
}

// invokeBody is the function's response.
type invokeBody struct {
	Instance string `json:"instance"`
	Cold     bool   `json:"cold"`
	Seq      uint64 `json:"seq"`
}

// invoke runs one request: take an idle instance or start one (cold), sleep
// through the modelled init and handler time without holding the lock, give
// the instance back, record the truth and answer.
func (e *Emulator) invoke(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	reqID := r.Header.Get(HeaderRequestID)
	if reqID != "" {
		w.Header().Set(HeaderRequestID, reqID)
	}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "", ErrClosed.Error())
		return
	}
	e.seq++
	rec := Record{Seq: e.seq, RequestID: reqID, MemoryMB: e.cfg.MemoryMB, Arrival: arrival}
	// The limit counts busy instances, including ones initializing for a
	// request and ones draining after a recycle, whether or not an idle
	// instance exists: like Lambda's concurrent executions.
	if limit := e.cfg.ConcurrencyLimit; limit > 0 && e.busy >= limit {
		rec.Status = http.StatusTooManyRequests
		e.stats.Throttled++
		e.truth.add(rec)
		e.mu.Unlock()
		writeHeaders(w, rec)
		writeError(w, rec.Status, "", fmt.Sprintf("throttled: concurrency limit %d reached", limit))
		return
	}
	inst := e.takeIdleLocked(arrival)
	if inst == nil {
		inst = e.newInstanceLocked()
		rec.Cold = true
		rec.Init = e.drawInitLocked()
	}
	inst.state = stateBusy
	e.busy++
	rec.InstanceID = inst.id
	rec.MemoryMB = inst.memoryMB // an instance keeps the memory it started with
	rec.Handler = e.drawHandlerLocked(inst.memoryMB)
	rec.MemoryUsed = e.memoryUsedLocked(inst)
	e.wg.Add(1)
	e.mu.Unlock()
	defer e.wg.Done()

	// The instance stays busy for the whole modelled time even if the
	// client gives up, as a real function runs to completion.
	finished := e.sleep(rec.Init + rec.Handler)

	e.mu.Lock()
	// Release before answering, so that a client's next sequential
	// request finds this instance idle.
	e.releaseLocked(inst, time.Now())
	if finished {
		rec.Status = http.StatusOK
		e.stats.Invocations++
		if rec.Cold {
			e.stats.ColdStarts++
		}
		e.truth.add(rec)
	}
	e.mu.Unlock()

	if !finished {
		// Interrupted by Close: not an invocation, so no record.
		writeError(w, http.StatusServiceUnavailable, "", ErrClosed.Error())
		return
	}
	writeHeaders(w, rec)
	writeJSON(w, rec.Status, invokeBody{Instance: rec.InstanceID, Cold: rec.Cold, Seq: rec.Seq})
}

// sleep waits out d of modelled work, or until Close, and reports whether it
// waited the whole time.
//
// The handler is CPU-bound in the model, but here it is a timer: burning CPU
// would make the emulator's own speed depend on the machine and compete with
// the load generator it is measuring, and a 2-core box could not serve 1000
// requests per second of 20 ms work. A timer costs nothing while it waits.
func (e *Emulator) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.done:
		return false
	}
}

// writeHeaders sets the platform headers for rec.
func writeHeaders(w http.ResponseWriter, rec Record) {
	h := w.Header()
	if rec.InstanceID != "" {
		h.Set(HeaderInstanceID, rec.InstanceID)
	}
	h.Set(HeaderCold, strconv.FormatBool(rec.Cold))
	h.Set(HeaderInitDuration, formatMS(rec.Init))
	h.Set(HeaderBilledDuration, strconv.FormatInt(int64(rec.Billed()/time.Millisecond), 10))
	h.Set(HeaderMemorySize, strconv.Itoa(rec.MemoryMB))
	used := 0
	if rec.Status == http.StatusOK {
		used = rec.MemoryUsed
	}
	h.Set(HeaderMaxMemoryUsed, strconv.Itoa(used))
}

// formatMS writes d as decimal milliseconds with microsecond precision, or
// "0".
func formatMS(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return strconv.FormatFloat(ms(d), 'f', 3, 64)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are written, and they always marshal.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// errorBody is every error response's JSON.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"` // the offending config field, for validation errors
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Field: field})
}

package lambdafake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// tailSize is how much of the end of an invocation's log Lambda returns in
// X-Amz-Log-Result.
const tailSize = 4096

// invoke answers POST /2015-03-31/functions/{fn}/invocations. A
// synchronous invocation takes an idle instance of the version (a
// provisioned one first), or starts a new one (a cold start, which sleeps
// the init time), runs the handler, and answers with the function's
// payload, X-Amz-Executed-Version and the base64 tail of its log. mu is
// held on entry and on return, and let go while the function runs.
func (s *Server) invoke(q *request) {
	f := q.f
	typ := q.r.Header.Get("X-Amz-Invocation-Type")
	switch typ {
	case "":
		typ = "RequestResponse"
	case "RequestResponse", "Event", "DryRun":
	default:
		writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", "Invalid InvocationType "+typ)
		return
	}
	ver, pcKey, ok := f.resolve(q.qualifier)
	if !ok {
		writeError(q.w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+f.arn+":"+q.qualifier)
		return
	}
	custom, err := clientCustom(q.r.Header.Get("X-Amz-Client-Context")) // clientcontext.go
	if err != nil {
		writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	payload, err := io.ReadAll(q.r.Body)
	if err != nil {
		writeError(q.w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		writeError(q.w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: Unexpected character")
		return
	}
	switch typ {
	case "DryRun":
		q.w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Asynchronous invocations are accepted and not modelled further:
		// coldbench measures synchronous ones.
		q.w.WriteHeader(http.StatusAccepted)
		return
	}

	reqID := newID()
	in, cold := f.acquire(ver, pcKey, q.now)
	if in == nil {
		s.truth = append(s.truth, Invocation{RequestID: reqID, Function: f.name, Version: ver, Throttled: true})
		writeError(q.w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
		return
	}
	cfg := f.configOf(ver)
	e := logEntry{
		requestID: reqID, version: ver, cold: cold, memory: in.memory, format: cfg.logFormat,
		restore: cold && f.opts.SnapStart && ver != "$LATEST", logBytes: f.opts.LogBytes, region: s.opts.Region,
	}
	provisioned := in.pc != ""

	s.mu.Unlock()
	inv := Invocation{RequestID: reqID, Function: f.name, Version: ver, Instance: in.id, Cold: cold}
	out, ferr, ran := run(q.r.Context(), f.opts, inv, payload, &e)
	s.mu.Lock()

	in.busy = false
	in.lastUsed = time.Now()
	if !ran {
		return // the caller went away; Lambda would have run on, but no one reads the answer
	}
	s.truth = append(s.truth, Invocation{
		RequestID: reqID, Function: f.name, Version: ver, Instance: in.id,
		Cold: cold, Provisioned: provisioned, FuncError: ferr != nil, ClientCustom: custom,
	})
	h := q.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", ver)
	if q.r.Header.Get("X-Amz-Log-Type") == "Tail" && !f.opts.NoTail {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(tail(e.log())))
	}
	if ferr != nil {
		h.Set("X-Amz-Function-Error", "Unhandled")
		out, _ = json.Marshal(map[string]any{"errorType": "Error", "errorMessage": ferr.Error(), "trace": []string{}})
	}
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(out)
}

// run sleeps the init time (when cold) and the handler time, then calls
// the handler; ran is false when ctx ended first.
func run(ctx context.Context, o FunctionOptions, inv Invocation, payload []byte, e *logEntry) (out []byte, ferr error, ran bool) {
	if e.cold {
		start := time.Now()
		if !sleep(ctx, o.Init) {
			return nil, nil, false
		}
		e.init = time.Since(start)
	}
	start := time.Now()
	if !sleep(ctx, o.Handler) {
		return nil, nil, false
	}
	out = []byte(`{"ok":true}`)
	switch {
	case o.HandleInvocation != nil:
		out, ferr = o.HandleInvocation(inv, payload)
	case o.Handle != nil:
		out, ferr = o.Handle(payload)
	}
	e.duration = time.Since(start)
	e.funcErr = ferr
	return out, ferr, true
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tail is the last 4 KB of a log, as Lambda returns it.
func tail(log []byte) []byte {
	if len(log) > tailSize {
		return log[len(log)-tailSize:]
	}
	return log
}

// logEntry is what one invocation's log says.
type logEntry struct {
	requestID, version, format, region string
	cold, restore                      bool // restore: a SnapStart restore rather than an init
	init, duration                     time.Duration
	memory, logBytes                   int
	funcErr                            error
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// billed rounds up to the millisecond, as Lambda bills. On-demand init is
// billed with the invocation; a SnapStart restore is billed on its own
// line.
func (e *logEntry) billed() (billed, billedRestore int) {
	d := e.duration
	if e.cold && !e.restore {
		d += e.init
	}
	billed = int(math.Ceil(ms(d)))
	if e.restore {
		billedRestore = int(math.Ceil(ms(e.init)))
	}
	return billed, billedRestore
}

func (e *logEntry) maxMemoryUsed() int { return min(e.memory, 38+e.memory/32) }

// log renders the whole log of the invocation in the function's format.
func (e *logEntry) log() []byte {
	if e.format == "JSON" {
		return e.jsonLog()
	}
	return e.textLog()
}

// textLog is Lambda's plain-text format: INIT_START on a cold start, START,
// the function's own lines, END and the tab-separated REPORT line.
func (e *logEntry) textLog() []byte {
	var b bytes.Buffer
	ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	runtimeARN := "arn:aws:lambda:" + e.region + "::runtime:0c2f8b3a7d1e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a"
	switch {
	case e.restore:
		fmt.Fprintf(&b, "RESTORE_START Runtime Version: java:21.v32\tRuntime Version ARN: %s\n", runtimeARN)
		fmt.Fprintf(&b, "RESTORE_REPORT Restore Duration: %.2f ms\n", ms(e.init))
	case e.cold:
		fmt.Fprintf(&b, "INIT_START Runtime Version: provided:al2023.v100\tRuntime Version ARN: %s\n", runtimeARN)
	}
	fmt.Fprintf(&b, "START RequestId: %s Version: %s\n", e.requestID, e.version)
	for i := 0; b.Len() < e.logBytes; i++ {
		fmt.Fprintf(&b, "%s\t%s\tINFO\tcoldbench fake function log line %05d %s\n", ts, e.requestID, i, strings.Repeat("x", 40))
	}
	if e.funcErr != nil {
		fmt.Fprintf(&b, "%s\t%s\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":%q}\n", ts, e.requestID, e.funcErr.Error())
	}
	fmt.Fprintf(&b, "END RequestId: %s\n", e.requestID)
	billed, billedRestore := e.billed()
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		e.requestID, ms(e.duration), billed, e.memory, e.maxMemoryUsed())
	switch {
	case e.restore:
		fmt.Fprintf(&b, "Restore Duration: %.2f ms\tBilled Restore Duration: %d ms\t", ms(e.init), billedRestore)
	case e.cold:
		fmt.Fprintf(&b, "Init Duration: %.2f ms\t", ms(e.init))
	}
	b.WriteString("\n")
	return b.Bytes()
}

// jsonLog is Lambda's JSON log format: one JSON object per line, platform
// events (platform.initStart, platform.start, platform.report) between the
// function's own records.
func (e *logEntry) jsonLog() []byte {
	var b bytes.Buffer
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	line := func(v any) {
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteByte('\n')
	}
	type event struct {
		Time   string `json:"time"`
		Type   string `json:"type"`
		Record any    `json:"record"`
	}
	switch {
	case e.restore:
		line(event{now, "platform.restoreStart", map[string]any{"runtimeVersion": "java:21.v32", "functionVersion": e.version}})
	case e.cold:
		line(event{now, "platform.initStart", map[string]any{"initializationType": "on-demand", "phase": "init", "runtimeVersion": "provided:al2023.v100", "functionVersion": e.version}})
	}
	line(event{now, "platform.start", map[string]any{"requestId": e.requestID, "version": e.version}})
	for i := 0; b.Len() < e.logBytes; i++ {
		line(map[string]any{"timestamp": now, "level": "INFO", "requestId": e.requestID, "message": fmt.Sprintf("coldbench fake function log line %05d %s", i, strings.Repeat("x", 40))})
	}
	status := "success"
	if e.funcErr != nil {
		status = "error"
		line(map[string]any{"timestamp": now, "level": "ERROR", "requestId": e.requestID, "message": map[string]any{"errorType": "Error", "errorMessage": e.funcErr.Error()}})
	}
	billed, billedRestore := e.billed()
	metrics := map[string]any{
		"durationMs":       math.Round(ms(e.duration)*100) / 100,
		"billedDurationMs": billed,
		"memorySizeMB":     e.memory,
		"maxMemoryUsedMB":  e.maxMemoryUsed(),
	}
	switch {
	case e.restore:
		metrics["restoreDurationMs"] = math.Round(ms(e.init)*100) / 100
		metrics["billedRestoreDurationMs"] = billedRestore
	case e.cold:
		metrics["initDurationMs"] = math.Round(ms(e.init)*100) / 100
	}
	line(event{now, "platform.report", map[string]any{"requestId": e.requestID, "metrics": metrics, "status": status}})
	return b.Bytes()
}

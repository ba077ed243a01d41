package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Report is what Lambda says about one invocation at the end of its log:
// the REPORT line of the text log format, or the platform.report record of
// the JSON log format.
type Report struct {
	RequestID   string
	Duration    time.Duration // the handler's run
	Billed      time.Duration // billed duration
	MemoryMB    int           // configured memory
	MaxMemoryMB int           // memory used (the instance's peak so far)
	// Init is Init Duration, present only on the first request of an
	// on-demand instance: a cold start.
	Init time.Duration
	// Restore and BilledRestore are SnapStart's Restore Duration and
	// Billed Restore Duration, present only when an instance was restored
	// from a snapshot for this request: a cold start too.
	Restore       time.Duration
	BilledRestore time.Duration
	// Cold is true when Init Duration or Restore Duration is present.
	Cold bool
	// Status is the record's status when it has one: "success", "error",
	// "timeout" (the text format names only failures).
	Status string
}

// Fill copies the report into c, as the platform's own signal of
// temperature. Init holds the init or, for SnapStart, the restore
// duration; Billed adds the billed restore duration to the billed one, as
// both are charged at the duration price.
func (r Report) Fill(c *drivers.Call) {
	c.Temp, c.Source = drivers.Warm, drivers.SourcePlatform
	if r.Cold {
		c.Temp = drivers.Cold
	}
	c.Init = r.Init
	if r.Restore > 0 {
		c.Init = r.Restore
	}
	c.Billed = r.Billed + r.BilledRestore
	c.MemoryMB, c.MaxMemoryMB = r.MemoryMB, r.MaxMemoryMB
}

// ParseLogResult decodes an Invoke LogResult (the base64 X-Amz-Log-Result
// header) and parses it with ParseTail.
func ParseLogResult(b64 string) (Report, bool) {
	tail, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return Report{}, false
	}
	return ParseTail(tail)
}

// ParseTail finds the last REPORT line, or failing that the last
// platform.report record, in the tail of an invocation's log. The tail is
// only the last 4 KB of the log, so it may start mid-line or lack a report
// altogether: then ok is false, and the caller knows nothing about the
// temperature, which is not an error. A REPORT line cut at its start is
// not trusted, since the cut may have taken the fields that matter.
func ParseTail(tail []byte) (r Report, ok bool) {
	if r, ok := parseText(tail); ok {
		return r, true
	}
	if bytes.Contains(tail, []byte(`"platform.report"`)) {
		return parseJSON(tail)
	}
	return Report{}, false
}

// reportField matches one "Name: value unit" field of a REPORT line. The
// alternation is ordered longest first, so "Billed Restore Duration" is
// not read as "Restore Duration".
var reportField = regexp.MustCompile(`(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration): +([0-9]+(?:\.[0-9]+)?) *(ms|MB)`)

// parseText reads the last full line that starts with "REPORT RequestId:".
// Fields are tab-separated in Lambda's logs; spaces are accepted too, as
// copies of log lines often have them.
func parseText(tail []byte) (Report, bool) {
	var line string
	for rest := string(tail); rest != ""; {
		var l string
		l, rest, _ = strings.Cut(rest, "\n")
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "REPORT RequestId:") {
			line = l
		}
	}
	if line == "" {
		return Report{}, false
	}
	var r Report
	if f := strings.Fields(strings.TrimPrefix(line, "REPORT RequestId:")); len(f) > 0 {
		r.RequestID = f[0]
	}
	for _, m := range reportField.FindAllStringSubmatch(line, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		switch m[1] {
		case "Duration":
			r.Duration = millis(v)
		case "Billed Duration":
			r.Billed = millis(v)
		case "Memory Size":
			r.MemoryMB = megabytes(&v)
		case "Max Memory Used":
			r.MaxMemoryMB = megabytes(&v)
		case "Init Duration":
			r.Init, r.Cold = millis(v), true
		case "Restore Duration":
			r.Restore, r.Cold = millis(v), true
		case "Billed Restore Duration":
			r.BilledRestore = millis(v)
		}
	}
	if _, after, ok := strings.Cut(line, "Status: "); ok {
		r.Status = strings.Fields(after + " ")[0]
	}
	return r, true
}

// platformReport is the shape of a platform.report record.
type platformReport struct {
	Type   string `json:"type"`
	Record struct {
		RequestID string `json:"requestId"`
		Status    string `json:"status"`
		Metrics   struct {
			DurationMs              *float64 `json:"durationMs"`
			BilledDurationMs        *float64 `json:"billedDurationMs"`
			MemorySizeMB            *float64 `json:"memorySizeMB"`
			MaxMemoryUsedMB         *float64 `json:"maxMemoryUsedMB"`
			InitDurationMs          *float64 `json:"initDurationMs"`
			RestoreDurationMs       *float64 `json:"restoreDurationMs"`
			BilledRestoreDurationMs *float64 `json:"billedRestoreDurationMs"`
		} `json:"metrics"`
	} `json:"record"`
}

// maxJSONTries bounds the records parseJSON decodes from one tail.
const maxJSONTries = 64

// parseJSON finds the last platform.report record. Records are normally
// one JSON object per line; decoding from each line that starts an object,
// last first, also handles records spread over several lines, and skips
// the one the 4 KB cut went through.
func parseJSON(tail []byte) (Report, bool) {
	var starts []int
	for i := range tail {
		if tail[i] == '{' && (i == 0 || tail[i-1] == '\n') {
			starts = append(starts, i)
		}
	}
	for n, i := 0, len(starts)-1; i >= 0 && n < maxJSONTries; i, n = i-1, n+1 {
		var p platformReport
		if json.NewDecoder(bytes.NewReader(tail[starts[i]:])).Decode(&p) != nil || p.Type != "platform.report" {
			continue
		}
		m := p.Record.Metrics
		r := Report{RequestID: p.Record.RequestID, Status: p.Record.Status}
		set := func(dst *time.Duration, v *float64) {
			if v != nil {
				*dst = millis(*v)
			}
		}
		set(&r.Duration, m.DurationMs)
		set(&r.Billed, m.BilledDurationMs)
		set(&r.Init, m.InitDurationMs)
		set(&r.Restore, m.RestoreDurationMs)
		set(&r.BilledRestore, m.BilledRestoreDurationMs)
		r.MemoryMB, r.MaxMemoryMB = megabytes(m.MemorySizeMB), megabytes(m.MaxMemoryUsedMB)
		r.Cold = m.InitDurationMs != nil || m.RestoreDurationMs != nil
		return r, true
	}
	return Report{}, false
}

// maxMillis bounds what a report may say: more than a day is nonsense
// (Lambda stops functions after 15 minutes) and would overflow.
const maxMillis = 24 * 60 * 60 * 1000

// millis converts (fractional) milliseconds, rounded to the microsecond;
// a negative or absurd value reads as 0.
func millis(ms float64) time.Duration {
	if !(ms >= 0 && ms <= maxMillis) {
		return 0
	}
	return time.Duration(ms*1000+0.5) * time.Microsecond
}

// megabytes reads a memory size; a missing, negative or absurd value reads
// as 0.
func megabytes(mb *float64) int {
	if mb == nil || !(*mb >= 0 && *mb <= 1<<20) {
		return 0
	}
	return int(*mb)
}

package replay

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Entry is one recorded request of a request log.
type Entry struct {
	Line   int // where it is in the file
	Time   time.Time
	Method string            // "" keeps the target's method
	Path   string            // path and query; "" keeps the target URL's
	Header map[string]string // nil when none
	Body   []byte            // nil keeps the target's body; empty is an empty body
}

// The request-log formats.
const (
	CSV       = "csv"   // a header row naming the columns, then one request a row
	JSONLines = "jsonl" // one JSON object a line
)

// LogFormats lists the formats ReadLog reads.
var LogFormats = []string{CSV, JSONLines}

// FormatOf tells a log's format from its file name: .csv is CSV; .jsonl,
// .ndjson and .json are JSON lines.
func FormatOf(name string) (string, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, true
	case ".jsonl", ".ndjson", ".json":
		return JSONLines, true
	}
	return "", false
}

// logColumns are the fields of a log entry, as CSV columns and JSON keys.
var logColumns = []string{"timestamp", "method", "path", "headers", "body"}

// ReadLog reads a request log named name (for errors) in format. Each
// entry needs a timestamp: RFC 3339 ("2019-07-18T10:00:00.250Z") or Unix
// seconds ("1563444000.25"); the other fields are optional. In CSV the
// headers column holds a JSON object ({"Content-Type": "text/plain"}).
// Blank lines of JSON lines are skipped; anything malformed is an error at
// its line. The entries come back in time order (the order of the file for
// equal times), so a log merged from several servers replays in order.
func ReadLog(name string, r io.Reader, format string) ([]Entry, error) {
	var es []Entry
	var err error
	switch format {
	case CSV:
		es, err = readCSVLog(name, r)
	case JSONLines:
		es, err = readJSONLog(name, r)
	default:
		return nil, fmt.Errorf("request log %s: unknown format %q (want %s)", name, format, strings.Join(LogFormats, " or "))
	}
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, errorf(name, 0, "", "no requests in the log")
	}
	slices.SortStableFunc(es, func(a, b Entry) int { return a.Time.Compare(b.Time) })
	return es, nil
}

func readCSVLog(name string, r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errorf(name, 1, "", "empty file: want a header row such as %s", strings.Join(logColumns, ","))
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimPrefix(h, "\ufeff")
		field := fmt.Sprintf("column %d", i+1)
		switch _, dup := col[h]; {
		case !slices.Contains(logColumns, h):
			return nil, errorf(name, 1, field, "unknown column %q (want %s)", h, strings.Join(logColumns, ", "))
		case dup:
			return nil, errorf(name, 1, field, "column %q twice", h)
		}
		col[h] = i
	}
	if _, ok := col["timestamp"]; !ok {
		return nil, errorf(name, 1, "", "no timestamp column (columns: %s)", strings.Join(logColumns, ", "))
	}
	var es []Entry
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return es, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		e := Entry{Line: line}
		get := func(c string) (string, bool) {
			i, ok := col[c]
			if !ok {
				return "", false
			}
			return rec[i], true
		}
		ts, _ := get("timestamp")
		if e.Time, err = parseTime(ts); err != nil {
			return nil, errorf(name, line, "timestamp", "%v", err)
		}
		e.Method, _ = get("method")
		e.Path, _ = get("path")
		if h, _ := get("headers"); h != "" {
			if err := json.Unmarshal([]byte(h), &e.Header); err != nil {
				return nil, errorf(name, line, "headers", "want a JSON object of strings, such as {\"Content-Type\": \"text/plain\"}: %v", err)
			}
		}
		if b, ok := get("body"); ok {
			e.Body = []byte(b)
		}
		if err := e.check(); err != nil {
			err.File, err.Line = name, line
			return nil, err
		}
		es = append(es, e)
	}
}

// jsonEntry is one line of a JSON-lines log.
type jsonEntry struct {
	Timestamp json.RawMessage   `json:"timestamp"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Headers   map[string]string `json:"headers"`
	Body      *string           `json:"body"`
}

// maxLine bounds one line of a JSON-lines log (a request with its body).
const maxLine = 64 << 20

func readJSONLog(name string, r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var es []Entry
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var j jsonEntry
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return nil, jsonError(name, line, err)
		}
		if dec.More() {
			return nil, errorf(name, line, "", "more than one JSON value on the line")
		}
		e := Entry{Line: line, Method: j.Method, Path: j.Path, Header: j.Headers}
		if j.Body != nil {
			e.Body = []byte(*j.Body)
		}
		var err error
		if e.Time, err = jsonTime(j.Timestamp); err != nil {
			return nil, errorf(name, line, "timestamp", "%v", err)
		}
		if err := e.check(); err != nil {
			err.File, err.Line = name, line
			return nil, err
		}
		es = append(es, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: after line %d: %w", name, len(es), err)
	}
	return es, nil
}

// jsonError places a decoding error on its field where it has one.
func jsonError(name string, line int, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return errorf(name, line, te.Field, "want %s, got a JSON %s", te.Type, te.Value)
	case errors.As(err, &se):
		return errorf(name, line, "", "invalid JSON at byte %d: %v", se.Offset, err)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return errorf(name, line, strings.Trim(f, `"`), "unknown field (want %s)", strings.Join(logColumns, ", "))
	}
	return errorf(name, line, "", "invalid JSON: %s", msg)
}

// jsonTime reads a timestamp written as a string or a number.
func jsonTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, errors.New("is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		return parseTime(s)
	}
	return parseTime(string(raw))
}

// parseTime reads RFC 3339 or Unix seconds with up to nine decimals,
// exactly: a float64 would round a nanosecond epoch to a few hundred ns.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("is required")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	const want = `want RFC 3339 ("2019-07-18T10:00:00.25Z") or Unix seconds ("1563444000.25")`
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec < 0 || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" || strings.HasPrefix(whole, "+") {
		return time.Time{}, fmt.Errorf("invalid timestamp %q: %s", s, want)
	}
	var ns int64
	if frac != "" {
		ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	if sec > 1<<33 { // the year 2242: a millisecond epoch, most likely
		return time.Time{}, fmt.Errorf("invalid timestamp %q: beyond the year 2200 in Unix seconds (milliseconds?); %s", s, want)
	}
	return time.Unix(sec, ns).UTC(), nil
}

// check validates the method, path and headers, so that nothing bad
// reaches the wire mid-run.
func (e *Entry) check() *Error {
	if e.Method != "" && !isToken(e.Method) {
		return &Error{Field: "method", Msg: fmt.Sprintf("%q is not an HTTP method", e.Method)}
	}
	if e.Path != "" && (!strings.HasPrefix(e.Path, "/") || strings.ContainsFunc(e.Path, badURLRune)) {
		return &Error{Field: "path", Msg: fmt.Sprintf("%q: want a path starting with / (and a query), without spaces", e.Path)}
	}
	for k, v := range e.Header {
		if !isToken(k) {
			return &Error{Field: "headers", Msg: fmt.Sprintf("%q is not a header name", k)}
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return &Error{Field: "headers", Msg: fmt.Sprintf("header %s: a value must not hold CR, LF or NUL", k)}
		}
	}
	return nil
}

func badURLRune(r rune) bool { return r <= ' ' || r == 0x7f }

// isToken reports whether s is an HTTP token (RFC 9110): a method or a
// header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

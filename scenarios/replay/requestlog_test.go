package replay

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const csvLog = `timestamp,method,path,headers,body
2019-07-18T10:00:00.5Z,POST,/orders?x=1,"{""Content-Type"": ""application/json""}","{""id"": 1}"
2019-07-18T10:00:00Z,GET,/,,
1563444001.25,,,,
`

const jsonLog = `{"timestamp": "2019-07-18T10:00:00.5Z", "method": "POST", "path": "/orders?x=1", "headers": {"Content-Type": "application/json"}, "body": "{\"id\": 1}"}

{"timestamp": "2019-07-18T10:00:00Z", "method": "GET", "path": "/", "body": ""}
{"timestamp": 1563444001.25}
`

func TestReadLog(t *testing.T) {
	t0 := time.Date(2019, 7, 18, 10, 0, 0, 0, time.UTC)
	// Both logs hold the same three requests, the first two out of order.
	want := []Entry{
		{Time: t0, Method: "GET", Path: "/", Body: []byte{}},
		{Time: t0.Add(500 * time.Millisecond), Method: "POST", Path: "/orders?x=1",
			Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"id": 1}`)},
		{Time: t0.Add(1250 * time.Millisecond)},
	}
	tests := []struct {
		name, format, text string
		lines              []int
	}{
		// CSV: the third row leaves method, path and headers out and has
		// an empty body column, which is an empty body.
		{"csv", CSV, csvLog, []int{3, 2, 4}},
		// JSON lines: a blank line is skipped; no body key keeps the
		// target's body.
		{"jsonl", JSONLines, jsonLog, []int{3, 1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadLog("log", strings.NewReader(tt.text), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d entries, want %d", len(got), len(want))
			}
			for i := range want {
				w := want[i]
				w.Line = tt.lines[i]
				if tt.format == CSV && i == 2 {
					w.Body = []byte{}
				}
				if !got[i].Time.Equal(w.Time) {
					t.Errorf("entry %d: time %v, want %v", i, got[i].Time, w.Time)
				}
				got[i].Time = w.Time
				if !reflect.DeepEqual(got[i], w) {
					t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], w)
				}
			}
		})
	}
}

func TestReadLogErrors(t *testing.T) {
	tests := []struct {
		name, format, text, want string
	}{
		// Each field error names the line and the field.
		{"csv bad time", CSV, "timestamp,path\nyesterday,/\n", `log:2: timestamp: invalid timestamp "yesterday": want RFC 3339 ("2019-07-18T10:00:00.25Z") or Unix seconds ("1563444000.25")`},
		{"csv no time", CSV, "timestamp,path\n,/\n", "log:2: timestamp: is required"},
		{"csv millis", CSV, "timestamp\n1563444000250\n", `log:2: timestamp: invalid timestamp "1563444000250": beyond the year 2200 in Unix seconds (milliseconds?); want RFC 3339 ("2019-07-18T10:00:00.25Z") or Unix seconds ("1563444000.25")`},
		{"csv bad path", CSV, "timestamp,path\n1,orders\n", `log:2: path: "orders": want a path starting with / (and a query), without spaces`},
		{"csv bad method", CSV, "timestamp,method\n1,GE T\n", `log:2: method: "GE T" is not an HTTP method`},
		{"csv bad headers", CSV, "timestamp,headers\n1,\"{\"\"a\"\": 1}\"\n", "log:2: headers: want a JSON object of strings, such as {\"Content-Type\": \"text/plain\"}: json: cannot unmarshal number into Go value of type string"},
		{"csv header name", CSV, "timestamp,headers\n1,\"{\"\"a b\"\": \"\"1\"\"}\"\n", `log:2: headers: "a b" is not a header name`},
		{"csv unknown column", CSV, "timestamp,url\n", `log:1: column 2: unknown column "url" (want timestamp, method, path, headers, body)`},
		{"csv no timestamp", CSV, "path\n/\n", "log:1: no timestamp column (columns: timestamp, method, path, headers, body)"},
		{"csv short row", CSV, "timestamp,path\n1\n", "log:2: byte 1 of the line: wrong number of fields"},
		{"csv empty", CSV, "timestamp\n", "log: no requests in the log"},
		{"json syntax", JSONLines, "{\"timestamp\": 1}\n{\"timestamp\": \n", "log:2: invalid JSON: unexpected EOF"},
		{"json unknown", JSONLines, `{"timestamp": 1, "url": "/"}`, "log:1: url: unknown field (want timestamp, method, path, headers, body)"},
		{"json type", JSONLines, `{"timestamp": 1, "method": 3}`, "log:1: method: want string, got a JSON number"},
		{"json no time", JSONLines, `{"path": "/"}`, "log:1: timestamp: is required"},
		{"json two values", JSONLines, `{"timestamp": 1} {"timestamp": 2}`, "log:1: more than one JSON value on the line"},
		{"json bad header value", JSONLines, `{"timestamp": 1, "headers": {"a": "x\ny"}}`, "log:1: headers: header a: a value must not hold CR, LF or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadLog("log", strings.NewReader(tt.text), tt.format)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *replay.Error", err)
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]string{"a.csv": CSV, "a.JSONL": JSONLines, "a.ndjson": JSONLines, "a.json": JSONLines, "a.log": ""} {
		if got, ok := FormatOf(name); got != want || ok != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// FuzzRequestLog: ReadLog never panics, and what it accepts is in time
// order with valid methods and paths. The seed corpus is in
// testdata/fuzz/FuzzRequestLog.
func FuzzRequestLog(f *testing.F) {
	f.Add([]byte(csvLog), true)
	f.Add([]byte(jsonLog), false)
	f.Fuzz(func(t *testing.T, data []byte, isCSV bool) {
		format := JSONLines
		if isCSV {
			format = CSV
		}
		es, err := ReadLog("fuzz", strings.NewReader(string(data)), format)
		if err != nil {
			return
		}
		for i, e := range es {
			if i > 0 && e.Time.Before(es[i-1].Time) {
				t.Fatalf("entry %d before entry %d", i, i-1)
			}
			if err := e.check(); err != nil {
				t.Fatalf("entry %d accepted but %v", i, err)
			}
			if e.Line < 1 {
				t.Fatalf("entry %d at line %d", i, e.Line)
			}
		}
	})
}

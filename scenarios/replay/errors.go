// Package replay reads recorded traffic for coldbench to replay: the Azure
// Functions 2019 public trace's invocation counts per function per minute,
// and request logs (CSV or JSON lines) of timestamp, method, path, headers
// and body. It only reads and checks files; scenarios turns what it reads
// into arrival schedules.
//
// Reading is strict: a malformed row is an error naming file:line and the
// column or field, never skipped.
package replay

import (
	"fmt"
	"strings"
)

// Error is one problem in a trace or log file.
type Error struct {
	File  string
	Line  int    // 1-based; 0 when the problem is the file as a whole
	Field string // the column or field, such as "column 7 (minute 3)" or "timestamp"
	Msg   string
}

// Error formats e as "file:line: field: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func errorf(file string, line int, field, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

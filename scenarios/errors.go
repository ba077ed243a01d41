package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a scenario, at a position in its file. Line and
// Column are 1-based; they are 0 for a scenario built in Go, or for a YAML
// syntax error that the parser reported without a column.
type Error struct {
	File   string // the file name given to Parse, or "builtin:NAME"
	Line   int
	Column int
	Field  string // the field path, such as "phases[2].ramp.from"; empty for the whole file
	Msg    string
}

// Error formats e as "file:line:col: field.path: msg", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a scenario, sorted by position. Parse
// and Validate return it (as an error) when there is at least one.
type Errors []*Error

// Error lists the errors, one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sort orders es by line, then column, keeping the order of equal
// positions (errors without a position keep the order they were found in).
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Column, b.Column)
	})
}

// maxErrors is how many errors a report lists; a file with more (an alias
// expanded a thousand times) ends with a count of the rest.
const maxErrors = 100

// err returns es sorted, as an error, or nil when it is empty (never a
// typed nil). Past maxErrors it keeps the first and counts the rest.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	es.sort()
	if len(es) > maxErrors {
		last := es[maxErrors-1]
		more := &Error{File: last.File, Line: last.Line, Column: last.Column,
			Msg: fmt.Sprintf("and %d more errors", len(es)-maxErrors)}
		es = append(es[:maxErrors:maxErrors], more)
	}
	return es
}

// unknownField words the error for a key that names no field, suggesting
// the closest known name when one is close, else listing them all.
func unknownField(name string, known []string) string {
	if s := closest(name, known); s != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, s)
	}
	if len(known) == 0 {
		return fmt.Sprintf("unknown field %q", name)
	}
	return fmt.Sprintf("unknown field %q (known: %s)", name, strings.Join(known, ", "))
}

// closest returns the known name nearest to name by edit distance (ignoring
// case), or "" when none is near enough to be a likely typo.
func closest(name string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	limit := min(3, max(1, len(name)/3))
	if bestD < 0 || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and transpositions of
// adjacent bytes ("nmae" is one edit from "name") each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

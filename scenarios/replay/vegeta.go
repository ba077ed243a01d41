package replay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The vegeta targets formats (vegeta attack -format).
const (
	VegetaHTTP = "http" // "METHOD URL", then "Header: value" lines and an optional "@body-file"
	VegetaJSON = "json" // one JSON object a line: method, url, header, body (base64)
)

// TargetFormats lists the vegeta targets formats ReadTargets reads.
var TargetFormats = []string{VegetaHTTP, VegetaJSON}

// MaxTargets bounds a targets file: every target is held in memory.
const MaxTargets = 1_000_000

// ReadTargets reads a vegeta targets file named name (for errors and to
// find "@body" files, relative to it) with vegeta's own targeters. Each
// target becomes an Entry (no time: a phase's shape paces them; Line is
// where the target starts) with the
// URL's path and query; its scheme and host are the scenario target's. A
// target without a body sends an empty one, as vegeta does. Errors name
// the file and the line vegeta stopped at.
func ReadTargets(name string, r io.Reader, format string) ([]Entry, error) {
	lr := &lineReader{sc: bufio.NewScanner(r), dir: filepath.Dir(name), http: format == VegetaHTTP}
	lr.sc.Buffer(nil, 4<<20)
	var tr vegeta.Targeter
	switch format {
	case VegetaHTTP:
		tr = vegeta.NewHTTPTargeter(lr, nil, nil)
	case VegetaJSON:
		tr = vegeta.NewJSONTargeter(lr, nil, nil)
	default:
		return nil, fmt.Errorf("vegeta targets %s: unknown format %q (want %s)", name, format, strings.Join(TargetFormats, " or "))
	}
	var es []Entry
	for {
		var t vegeta.Target
		err := tr(&t)
		if errors.Is(err, vegeta.ErrNoTargets) {
			if lr.err != nil {
				return nil, errorf(name, lr.lines+1, "", "%v", lr.err)
			}
			break
		}
		if err != nil {
			return nil, errorf(name, lr.lines, "", "%v", err)
		}
		u, err := url.Parse(t.URL)
		if err != nil {
			return nil, errorf(name, lr.lines, "url", "%v", err)
		}
		line := lr.lines
		if len(es) < len(lr.starts) {
			line = lr.starts[len(es)]
		}
		e := Entry{Line: line, Method: t.Method, Path: u.RequestURI(), Body: t.Body}
		if e.Body == nil {
			e.Body = []byte{}
		}
		for k, vs := range t.Header {
			if e.Header == nil {
				e.Header = map[string]string{}
			}
			e.Header[k] = strings.Join(vs, ", ")
		}
		if len(es) == MaxTargets {
			return nil, errorf(name, lr.lines, "", "more than %d targets", MaxTargets)
		}
		es = append(es, e)
	}
	if len(es) == 0 {
		return nil, errorf(name, 0, "", "no targets in the file")
	}
	return es, nil
}

// lineReader hands a targeter the file a line at a time, counting the
// lines handed out, so that an error is placed at the line the targeter
// had read up to. (vegeta's targeters say what is wrong, not where.) It
// ends every line with a newline, which vegeta's JSON targeter needs, and
// makes "@body" paths relative to the targets file.
type lineReader struct {
	sc    *bufio.Scanner
	dir   string
	http  bool
	buf   []byte
	lines int
	// starts are the lines targets start on, as vegeta tells them: a
	// "METHOD URL" line, or in JSON any line that is not blank.
	starts []int
	err    error // the scanner's, such as a line too long
}

// methodLine is how vegeta's http targeter tells a target's first line.
var methodLine = regexp.MustCompile(`^[A-Z]+\s`)

func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.buf) == 0 {
		if !l.sc.Scan() {
			if l.err = l.sc.Err(); l.err != nil {
				return 0, l.err
			}
			return 0, io.EOF
		}
		line := l.sc.Text()
		if t := strings.TrimSpace(line); l.http && strings.HasPrefix(t, "@") && !filepath.IsAbs(t[1:]) {
			line = "@" + filepath.Join(l.dir, t[1:])
		}
		l.buf = append(l.buf[:0], line...)
		l.buf = append(l.buf, '\n')
		l.lines++
		if t := strings.TrimSpace(line); l.http && methodLine.MatchString(t) || !l.http && t != "" {
			l.starts = append(l.starts, l.lines)
		}
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

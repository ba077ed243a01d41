package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// Load reads a scenario from a YAML file, or else the built-in scenario of
// that name. A path that exists is always read as a file; a name that is
// neither is an error listing the built-ins.
func Load(nameOrPath string) (*Scenario, error) {
	data, err := os.ReadFile(nameOrPath)
	switch {
	case err == nil:
		return Parse(nameOrPath, data)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("load scenario %q: %w", nameOrPath, err)
	}
	if data, ok := builtinSource(nameOrPath); ok {
		return Parse("builtin:"+nameOrPath, data)
	}
	return nil, fmt.Errorf("load scenario %q: no such file, and no built-in scenario of that name (built-ins: %s)",
		nameOrPath, strings.Join(BuiltinNames(), ", "))
}

// Parse decodes and validates a scenario. file names it in errors and
// becomes Scenario.File. Decoding is strict: unknown fields, wrong types and
// invalid values are all reported, each with its file:line:column and field
// path, as an Errors. On success the defaults are applied (see SetDefaults),
// including the driver's defaults under any settings the file leaves out.
func Parse(file string, data []byte) (*Scenario, error) {
	if e := checkText(file, data); e != nil {
		return nil, Errors{e}.err()
	}
	root, errs := parseYAML(file, data)
	if root == nil {
		return nil, errs.err()
	}
	w := newWalker(file)
	s := &Scenario{}
	w.decode(root, reflect.ValueOf(s).Elem(), "")
	errs = append(errs, w.errs...)

	v := &validator{file: file, present: w.present, bad: w.bad}
	v.scenario(s)
	for _, e := range v.errs {
		e.Line, e.Column = w.position(e.Field)
	}
	errs = append(errs, v.errs...)
	if len(errs) > 0 {
		return nil, errs.err()
	}
	s.File = file
	s.Source = data
	s.SetDefaults()
	return s, nil
}

// position finds where the field at path, or the nearest field above it
// that was written, sits in the file.
func (w *walker) position(path string) (line, col int) {
	for p := path; ; p = parent(p) {
		if n, ok := w.nodes[p]; ok {
			return n.Line, n.Column
		}
		if p == "" {
			return 1, 1
		}
	}
}

// parseYAML reads the one YAML document of a scenario file into a node
// tree. A syntax error, an empty file or a second document is an error; on
// error the returned node is nil.
func parseYAML(file string, data []byte) (*yaml.Node, Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty scenario: want a mapping with name, target and phases"}}
		}
		return nil, Errors{syntaxError(file, data, err)}
	}
	root := resolve(&doc)
	if root == nil || isNull(root) {
		return nil, Errors{{File: file, Line: max(1, doc.Line), Column: max(1, doc.Column), Msg: "empty scenario: want a mapping with name, target and phases"}}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Errors{syntaxError(file, data, err)}
	default:
		return nil, Errors{{File: file, Line: max(1, extra.Line), Column: max(1, extra.Column),
			Msg: "a second YAML document: a scenario file holds one (remove the '---' line)"}}
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML syntax error into an Error at its line and
// column, when it has one. yaml.v3 reports only a line ("yaml: line 3: did not find
// expected key"), so the file is parsed again with goccy/go-yaml, whose
// syntax errors carry the offending token's line and column; its position
// and message are used when it finds an error too, and yaml.v3's line
// alone when it does not (the two parsers disagree on a few corner cases).
func syntaxError(file string, data []byte, err error) *Error {
	if line, col, msg, ok := syntaxPosition(data); ok {
		return &Error{File: file, Line: line, Column: col, Msg: "invalid YAML: " + msg}
	}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, perr := strconv.Atoi(m[1]); perr == nil && line >= 1 {
			return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
		}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// syntaxPosition is where goccy/go-yaml finds a syntax error in data, and
// its message; ok is false when it finds none or no position.
func syntaxPosition(data []byte) (line, col int, msg string, ok bool) {
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 || se.Token.Position.Column < 1 {
		return 0, 0, "", false
	}
	return se.Token.Position.Line, se.Token.Position.Column, se.Message, true
}

// checkText rejects what is not a text file before YAML sees it, at the
// first byte that gives it away (a NUL, a control character other than
// tab, newline and carriage return, or invalid UTF-8), and a file above
// MaxScenarioBytes.
func checkText(file string, data []byte) *Error {
	if len(data) > MaxScenarioBytes {
		return &Error{File: file, Msg: fmt.Sprintf("%d bytes, more than the maximum %d for a scenario file", len(data), MaxScenarioBytes)}
	}
	line, col := 1, 1
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		bad := r == utf8.RuneError && size <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
		if bad {
			return &Error{File: file, Line: line, Column: col,
				Msg: fmt.Sprintf("not a text file: byte 0x%02x at offset %d; a scenario is UTF-8 YAML", data[off], off)}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		off += size
	}
	return nil
}

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
		return nil, Errors{syntaxError(file, err)}
	}
	root := resolve(&doc)
	if root == nil || isNull(root) {
		return nil, Errors{{File: file, Line: max(1, doc.Line), Column: max(1, doc.Column), Msg: "empty scenario: want a mapping with name, target and phases"}}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Errors{syntaxError(file, err)}
	default:
		return nil, Errors{{File: file, Line: max(1, extra.Line), Column: max(1, extra.Column),
			Msg: "a second YAML document: a scenario file holds one (remove the '---' line)"}}
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error ("yaml: line 3: did not find
// expected key") into an Error at that line.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, perr := strconv.Atoi(m[1]); perr == nil && line >= 1 {
			return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
		}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

package scenarios

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"gopkg.in/yaml.v3"
)

// This file is the strict YAML decoder behind Parse. There is no encoder:
// a scenario travels as the text it was parsed from (Scenario.Source).

// maxWalk bounds the nodes one Parse visits, so that a file of aliases to
// aliases (a "billion laughs") is an error, not an hour of work.
const maxWalk = 1 << 18

// walker decodes a yaml.Node tree into Go values by reflection, strictly:
// unknown keys, wrong types and bad scalars are errors at their node, and
// decoding goes on after each one so that every problem is reported.
type walker struct {
	file    string
	errs    Errors
	nodes   map[string]*yaml.Node // field path → the node its value came from (null or not)
	present map[string]bool       // field paths given a non-null value
	bad     map[string]bool       // field paths that failed to decode
	steps   int                   // nodes visited, against maxWalk
	depth   int                   // current nesting, against maxDepth
	full    bool                  // the walk budget ran out
}

// maxDepth bounds nesting: the schema is a few levels deep, so only an alias
// that contains itself gets near it.
const maxDepth = 64

func newWalker(file string) *walker {
	return &walker{file: file, nodes: map[string]*yaml.Node{}, present: map[string]bool{}, bad: map[string]bool{}}
}

// errorf records an error at node n for the field path.
func (w *walker) errorf(n *yaml.Node, path, format string, args ...any) {
	w.bad[path] = true
	if len(w.errs) >= 10*maxErrors {
		return // enough to report; Errors.err keeps maxErrors of them
	}
	w.errs = append(w.errs, &Error{File: w.file, Line: n.Line, Column: n.Column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	targetType      = reflect.TypeFor[Target]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode decodes node n into v, which must be settable, at field path.
func (w *walker) decode(n *yaml.Node, v reflect.Value, path string) {
	if !w.enter(n, path) {
		return
	}
	defer func() { w.depth-- }()
	at := n // report errors where the value is written, even if it is an alias
	n = resolve(n)
	if n == nil {
		w.errorf(at, path, "alias to nothing")
		return
	}
	w.nodes[path] = at
	if isNull(n) {
		return // absent: leave the zero value (or the driver's default)
	}
	w.present[path] = true

	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		w.decode(at, v.Elem(), path)
		return
	}
	if v.CanAddr() {
		switch p := v.Addr(); {
		case p.Type().Implements(unmarshalerType):
			if err := p.Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
				w.errorf(at, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			}
			return
		case v.Type() == durationType:
			d, err := durationFromNode(n)
			if err != nil {
				w.errorf(at, path, "%s", err.Error())
				return
			}
			v.SetInt(int64(d))
			return
		case v.Type() == nodeType:
			v.Set(reflect.ValueOf(*n)) // a raw node, for settings decoded later
			return
		case v.Type() == targetType:
			w.target(at, n, p.Interface().(*Target), path)
			return
		case v.Type() == thresholdsType:
			w.thresholds(at, n, p.Interface().(*Thresholds), path) // thresholds.go
			return
		case p.Type().Implements(textType) && v.Kind() != reflect.Struct:
			if n.Kind != yaml.ScalarNode {
				w.errorf(at, path, "expected a string, got %s", describe(n))
				return
			}
			if err := p.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
				w.errorf(at, path, "%s", err.Error())
			}
			return
		}
	}

	switch v.Kind() {
	case reflect.Struct:
		w.structure(at, n, v, path, nil)
	case reflect.Slice:
		w.sequence(at, n, v, path)
	case reflect.Map:
		w.mapping(at, n, v, path)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			w.errorf(at, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		switch {
		case x == nil:
		case reflect.TypeOf(x).AssignableTo(v.Type()):
			v.Set(reflect.ValueOf(x))
		default:
			w.errorf(at, path, "cannot set %s from %s", v.Type(), describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			w.errorf(at, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			w.errorf(at, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.integer(at, n, v, path)
	case reflect.Float32, reflect.Float64:
		tag := n.ShortTag()
		p := reflect.New(v.Type())
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(p.Interface()) != nil {
			w.errorf(at, path, "expected a number, got %s", describe(n))
			return
		}
		v.Set(p.Elem())
	default:
		w.errorf(at, path, "field of type %s cannot be set from YAML", v.Type())
	}
}

// enter counts a step into node n against the budgets; on false the caller
// must not descend (and must not call w.depth--).
func (w *walker) enter(n *yaml.Node, path string) bool {
	w.steps++
	if w.steps > maxWalk || w.depth >= maxDepth {
		if !w.full {
			w.full = true
			w.errorf(n, path, "document nested too deeply or too many alias expansions")
		}
		return false
	}
	w.depth++
	return true
}

// integer decodes an integer scalar, with a range check.
func (w *walker) integer(at, n *yaml.Node, v reflect.Value, path string) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
		w.errorf(at, path, "expected an integer, got %s", describe(n))
		return
	}
	if tag == "!!float" {
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) {
			w.errorf(at, path, "expected an integer, got %s", describe(n))
			return
		}
		if f != float64(int64(f)) {
			w.errorf(at, path, "%s is out of range for %s", n.Value, v.Type())
			return
		}
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		w.errorf(at, path, "%s is out of range for %s", n.Value, v.Type())
		return
	}
	v.Set(p.Elem())
}

// structure decodes a mapping into a struct by its yaml tags. extra are
// keys handled by the caller: allowed, skipped, and offered as suggestions.
func (w *walker) structure(at, n *yaml.Node, v reflect.Value, path string, extra []string) {
	if n.Kind != yaml.MappingNode {
		w.errorf(at, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	kvs := w.pairs(n, path)
	for _, kv := range kvs {
		name := kv.key.Value
		sub := join(path, name)
		if slicesContains(extra, name) {
			continue
		}
		f, ok := fields.byName[name]
		if !ok {
			w.unknown(kv.key, path, name, append(fields.names, extra...), kvs)
			continue
		}
		w.decode(kv.value, v.FieldByIndex(f), sub)
	}
}

// unknown reports a key that names no field. When it looks like a typo of
// a field the mapping leaves out, that field's own errors ("is required")
// would only repeat the point, so it is marked bad to drop them.
func (w *walker) unknown(key *yaml.Node, path, name string, known []string, kvs []pair) {
	w.errorf(key, join(path, name), "%s", unknownField(name, known))
	s := closest(name, known)
	if s == "" {
		return
	}
	for _, kv := range kvs {
		if kv.key.Value == s {
			return
		}
	}
	w.bad[join(path, s)] = true
}

// sequence decodes a list into a slice.
func (w *walker) sequence(at, n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		w.errorf(at, path, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		if r := resolve(item); r != nil && isNull(r) {
			w.errorf(item, sub, "empty list entry")
			continue
		}
		w.decode(item, s.Index(i), sub)
	}
	v.Set(s)
}

// mapping decodes a mapping into a map with string keys.
func (w *walker) mapping(at, n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		w.errorf(at, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		w.errorf(at, path, "map of %s cannot be set from YAML", v.Type())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, kv := range w.pairs(n, path) {
		sub := join(path, kv.key.Value)
		e := reflect.New(v.Type().Elem()).Elem()
		w.decode(kv.value, e, sub)
		v.SetMapIndex(reflect.ValueOf(kv.key.Value).Convert(v.Type().Key()), e)
	}
}

// target decodes a target block: `driver:` into t.Driver, and every other
// key strictly into the configuration the driver's factory makes.
func (w *walker) target(at, n *yaml.Node, t *Target, path string) {
	if n.Kind != yaml.MappingNode {
		w.errorf(at, path, "expected a mapping with driver: and its settings, got %s", describe(n))
		return
	}
	settings := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	var driverNode *yaml.Node
	for _, kv := range w.pairs(n, path) {
		if kv.key.Value == "driver" {
			driverNode = kv.value
			w.decode(kv.value, reflect.ValueOf(&t.Driver).Elem(), join(path, "driver"))
			continue
		}
		settings.Content = append(settings.Content, kv.key, kv.value)
	}
	if t.Driver == "" {
		// Validation reports the missing driver; without it the settings
		// cannot be checked, except for a misspelled driver: key.
		for i := 0; i+1 < len(settings.Content); i += 2 {
			if k := settings.Content[i]; closest(k.Value, []string{"driver"}) != "" {
				w.unknown(k, path, k.Value, []string{"driver"}, nil)
			}
		}
		return
	}
	f, err := drivers.Lookup(t.Driver)
	if err != nil {
		msg := err.Error()
		if s := closest(t.Driver, drivers.Names()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		w.errorf(driverNode, join(path, "driver"), "%s", msg)
		return
	}
	cfg := f.Config()
	cv := reflect.ValueOf(cfg)
	if cv.Kind() != reflect.Pointer || cv.IsNil() {
		w.errorf(at, path, "driver %q: Config returned %T, not a pointer", t.Driver, cfg)
		return
	}
	switch {
	case len(settings.Content) == 0:
		// Nothing to decode: the driver's defaults stand.
	case cv.Elem().Kind() == reflect.Struct && !cv.Type().Implements(unmarshalerType):
		w.structure(settings, settings, cv.Elem(), path, []string{"driver"})
	default:
		w.decode(settings, cv.Elem(), path)
	}
	t.Config = cfg
}

// pair is one key: value of a mapping.
type pair struct{ key, value *yaml.Node }

// pairs lists a mapping's entries with merge keys (<<: *base) expanded;
// keys written in the mapping win over merged ones. A key written twice, or
// a key that is not a string, is an error.
func (w *walker) pairs(n *yaml.Node, path string) []pair {
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, w.merge(val, path)...)
			continue
		}
		if rk := resolve(k); rk == nil || rk.Kind != yaml.ScalarNode {
			w.errorf(k, path, "a key must be a string, got %s", describe(k))
			continue
		} else {
			k = rk
		}
		if first, dup := seen[k.Value]; dup {
			w.errorf(k, join(path, k.Value), "%q is set twice (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, kv := range merged {
		if _, ok := seen[kv.key.Value]; !ok {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out
}

// merge returns the entries a merge key brings in: a mapping, or a list of
// mappings (earlier ones win).
func (w *walker) merge(v *yaml.Node, path string) []pair {
	if !w.enter(v, path) {
		return nil
	}
	defer func() { w.depth-- }()
	at := v
	if v = resolve(v); v == nil {
		w.errorf(at, path, "alias to nothing")
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return w.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			out = append(out, w.merge(item, path)...)
		}
		return out
	}
	w.errorf(at, path, "merge (<<) wants a mapping or a list of mappings, got %s", describe(v))
	return nil
}

// fields is a struct type's yaml keys.
type fields struct {
	byName map[string][]int // key → field index path
	names  []string         // keys in field order
}

// fieldsOf lists the yaml keys of a struct type, following yaml.v3's rules:
// the tag's name, else the lower-cased field name; "-" skips a field;
// ",inline" flattens an embedded struct.
func fieldsOf(t reflect.Type) fields {
	fs := fields{byName: map[string][]int{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if _, dup := fs.byName[name]; !dup {
				fs.byName[name] = idx
				fs.names = append(fs.names, name)
			}
		}
	}
	walk(t, nil)
	return fs
}

// resolve follows aliases; it returns nil for a dangling one and unwraps a
// document node.
func resolve(n *yaml.Node) *yaml.Node {
	for range 64 {
		switch {
		case n == nil:
			return nil
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

// isNull reports whether n is an explicit or empty null (`key:`, `~`).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

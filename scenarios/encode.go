package scenarios

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// YAML is s as scenario YAML that Parse reads back into the same scenario:
// what a controller sends to agents in other processes. It is the text s
// was parsed from while nothing changed s since (SetTarget marks it
// changed); else s is encoded afresh by Encode.
func (s *Scenario) YAML() ([]byte, error) {
	if len(s.Source) > 0 && !s.changed {
		return s.Source, nil
	}
	return Encode(s)
}

// Encode writes s as scenario YAML that Parse reads back into the same
// scenario, overrides and changes made in Go included (a --target URL).
//
// Fields are written by their yaml tags. Nil pointers and empty slices and
// maps are left out, and so are zero durations outside the target block,
// because the strict decoder reads an absent field as the zero value but
// checks a written one (a written "steps: []" would be a second arrival
// shape, a written "duration: 0s" an error). The target block is the
// driver's name beside its configuration, whose zero durations are kept:
// there an absent field takes the driver's default, which may not be zero.
func Encode(s *Scenario) ([]byte, error) {
	n, omit, err := encodeValue(reflect.ValueOf(s).Elem(), false)
	if err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	if omit {
		return nil, fmt.Errorf("encode scenario %s: empty", s.Name)
	}
	out, err := yaml.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	return out, nil
}

// The decoder's types (decode.go), and these.
var (
	scenarioDurType = reflect.TypeFor[Duration]()
	marshalerType   = reflect.TypeFor[yaml.Marshaler]()
)

// encodeValue encodes v as a YAML node, or says to leave it out; inTarget
// is set below the target block.
func encodeValue(v reflect.Value, inTarget bool) (n *yaml.Node, omit bool, err error) {
	if k := v.Kind(); k == reflect.Pointer || k == reflect.Interface {
		if v.IsNil() {
			return nil, true, nil
		}
		return encodeValue(v.Elem(), inTarget)
	}
	switch {
	case v.Type() == scenarioDurType || v.Type() == durationType:
		if v.Int() == 0 && !inTarget {
			return nil, true, nil
		}
		return scalarNode(time.Duration(v.Int()).String()), false, nil
	case v.Type() == targetType:
		return encodeTarget(v.Interface().(Target))
	case v.Type().Implements(marshalerType):
		return encodeAny(v.Interface())
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.Len() == 0 {
			return nil, true, nil
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range v.Len() {
			e, omit, err := encodeValue(v.Index(i), inTarget)
			if err != nil {
				return nil, false, err
			}
			if omit {
				e = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
			seq.Content = append(seq.Content, e)
		}
		return seq, false, nil
	case reflect.Map:
		if v.Len() == 0 {
			return nil, true, nil
		}
		return encodeAny(v.Interface())
	case reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" && strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
				// Its fields stand beside the struct's own, as the
				// decoder reads them (fieldsOf).
				e, omit, err := encodeValue(v.Field(i), inTarget)
				if err != nil {
					return nil, false, err
				}
				if !omit {
					m.Content = append(m.Content, e.Content...)
				}
				continue
			}
			if name == "" {
				continue
			}
			e, omit, err := encodeValue(v.Field(i), inTarget)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", name, err)
			}
			if !omit {
				m.Content = append(m.Content, scalarNode(name), e)
			}
		}
		return m, len(m.Content) == 0, nil
	}
	return encodeAny(v.Interface())
}

// encodeTarget writes driver: beside the driver's whole configuration.
func encodeTarget(t Target) (*yaml.Node, bool, error) {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, scalarNode("driver"), scalarNode(t.Driver))
	if t.Config == nil {
		return m, false, nil
	}
	cfg, omit, err := encodeValue(reflect.ValueOf(t.Config), true)
	if err != nil {
		return nil, false, fmt.Errorf("target: %w", err)
	}
	if omit {
		return m, false, nil
	}
	if cfg.Kind != yaml.MappingNode {
		return nil, false, fmt.Errorf("target: driver %s's configuration %T is not a mapping", t.Driver, t.Config)
	}
	m.Content = append(m.Content, cfg.Content...)
	return m, false, nil
}

func encodeAny(x any) (*yaml.Node, bool, error) {
	var n yaml.Node
	if err := n.Encode(x); err != nil {
		return nil, false, err
	}
	return &n, false, nil
}

func scalarNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

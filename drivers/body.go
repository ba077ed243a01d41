package drivers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// BodyMarkers name the JSON fields of a response body that carry the cold
// flag and the instance id, as functions written for benchmarks commonly
// return them ({"cold": true, "instance": "i-1"}). Each is a path: a JSON
// pointer ("/meta/cold", RFC 6901) or dotted keys ("meta.cold"); an array
// element is named by its index. Empty means not read.
type BodyMarkers struct {
	Cold     string `json:"cold,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// ColdBodySetter is implemented by configurations of drivers that can read
// cold-start markers from the response body (the http driver, the drivers
// built on it, lambda's Invoke payload). A scenario's cold.body block is
// applied through it, beside ColdHeaderSetter.
type ColdBodySetter interface {
	SetColdBody(m BodyMarkers)
}

// ParseBodyPath splits a marker path into its keys.
func ParseBodyPath(p string) ([]string, error) {
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	if strings.HasPrefix(p, "/") {
		keys := strings.Split(p[1:], "/")
		for i, k := range keys {
			// RFC 6901: ~1 is "/" and ~0 is "~", in that order.
			keys[i] = strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~")
		}
		return keys, nil
	}
	keys := strings.Split(p, ".")
	for _, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("%q has an empty key; write a.b, or a JSON pointer such as /a/b", p)
		}
	}
	return keys, nil
}

// BodyReader reads BodyMarkers from response bodies. A nil *BodyReader
// reads nothing, so that a driver without markers pays only a nil check.
type BodyReader struct {
	cold, instance []string
}

// NewBodyReader compiles m; it returns nil when m names no field.
func NewBodyReader(m BodyMarkers) (*BodyReader, error) {
	if m == (BodyMarkers{}) {
		return nil, nil
	}
	r := &BodyReader{}
	var err error
	if m.Cold != "" {
		if r.cold, err = ParseBodyPath(m.Cold); err != nil {
			return nil, fmt.Errorf("cold.body.cold: %w", err)
		}
	}
	if m.Instance != "" {
		if r.instance, err = ParseBodyPath(m.Instance); err != nil {
			return nil, fmt.Errorf("cold.body.instance: %w", err)
		}
	}
	return r, nil
}

// Read fills in c's temperature and instance id from a response body, when
// the platform and the headers left them unknown: the body ranks below
// them. A cold flag found sets Temp with SourceBody; an instance id found
// sets InstanceID and marks Source SourceBody, so that the engine's
// first-seen-instance rule records the body as the source. A body that is
// not JSON, or lacks the fields, leaves c as it was.
func (r *BodyReader) Read(body []byte, c *Call) {
	if r == nil || c.Temp != Unknown || c.InstanceID != "" || len(body) == 0 {
		return
	}
	// Both fields usually sit in the same top-level object: it is
	// decoded once for both.
	doc := json.RawMessage(body)
	var top map[string]json.RawMessage
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		if json.Unmarshal(b, &top) != nil {
			return
		}
	}
	find := func(keys []string) (json.RawMessage, bool) {
		if top == nil {
			return lookup(doc, keys)
		}
		v, ok := top[keys[0]]
		if !ok {
			return nil, false
		}
		return lookup(v, keys[1:])
	}
	if r.cold != nil {
		if v, ok := find(r.cold); ok {
			if t := coldValue(v); t != Unknown {
				c.Temp, c.Source = t, SourceBody
			}
		}
	}
	if r.instance != nil {
		if v, ok := find(r.instance); ok {
			if id := scalarText(v); id != "" {
				c.InstanceID = id
				c.Source = SourceBody
			}
		}
	}
}

// lookup follows keys down a JSON document, decoding one level at a time
// so that only the objects on the path are unpacked.
func lookup(doc []byte, keys []string) (json.RawMessage, bool) {
	v := json.RawMessage(doc)
	for _, k := range keys {
		v = bytes.TrimSpace(v)
		if len(v) == 0 {
			return nil, false
		}
		switch v[0] {
		case '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(v, &m) != nil {
				return nil, false
			}
			next, ok := m[k]
			if !ok {
				return nil, false
			}
			v = next
		case '[':
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 {
				return nil, false
			}
			var a []json.RawMessage
			if json.Unmarshal(v, &a) != nil || i >= len(a) {
				return nil, false
			}
			v = a[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// coldValue reads a cold flag: true, a non-zero number, or a string that
// ParseCold reads as cold; false, 0 and other strings are warm; null and
// anything else say nothing.
func coldValue(v json.RawMessage) Temperature {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return Unknown
	}
	switch x := x.(type) {
	case bool:
		if x {
			return Cold
		}
		return Warm
	case float64:
		if x != 0 {
			return Cold
		}
		return Warm
	case string:
		return ParseCold(x)
	}
	return Unknown
}

// scalarText is a string's value or a number's text; "" for anything else.
func scalarText(v json.RawMessage) string {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return ""
	}
	switch x := x.(type) {
	case string:
		return x
	case float64:
		return string(bytes.TrimSpace(v))
	}
	return ""
}

// ParseCold reads a cold-start flag written as text: "true", "1", "yes"
// and "cold" mean cold; anything else means warm.
func ParseCold(v string) Temperature {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "cold":
		return Cold
	}
	return Warm
}

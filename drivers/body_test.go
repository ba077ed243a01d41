package drivers_test

import (
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

func TestParseBodyPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want []string
		bad  bool
	}{
		{"cold", []string{"cold"}, false},                       // one key
		{"meta.cold", []string{"meta", "cold"}, false},          // dotted
		{"/meta/cold", []string{"meta", "cold"}, false},         // JSON pointer
		{"/a~1b/c~0d", []string{"a/b", "c~d"}, false},           // pointer escapes, ~1 before ~0
		{"/a~01", []string{"a~1"}, false},                       // ~01 is "~1", not "/"
		{"items.0.cold", []string{"items", "0", "cold"}, false}, // an array index
		{"", nil, true},      // nothing
		{"a..b", nil, true},  // an empty dotted key
		{"meta.", nil, true}, // a trailing dot
	} {
		got, err := drivers.ParseBodyPath(tc.path)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v, want error %v", tc.path, err, tc.bad)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %q, want %q", tc.path, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: %q, want %q", tc.path, got, tc.want)
			}
		}
	}
}

func TestBodyReaderRead(t *testing.T) {
	both := drivers.BodyMarkers{Cold: "cold", Instance: "instance"}
	for _, tc := range []struct {
		name     string
		m        drivers.BodyMarkers
		body     string
		pre      drivers.Call // what the platform or headers already said
		temp     drivers.Temperature
		source   drivers.ColdSource
		instance string
	}{
		{"cold true", both, `{"cold": true, "instance": "i-1"}`, drivers.Call{}, drivers.Cold, drivers.SourceBody, "i-1"},
		{"cold false", both, `{"cold": false, "instance": "i-1"}`, drivers.Call{}, drivers.Warm, drivers.SourceBody, "i-1"},
		{"cold as string", both, `{"cold": "yes"}`, drivers.Call{}, drivers.Cold, drivers.SourceBody, ""},
		{"cold as number", both, `{"cold": 1, "instance": 7}`, drivers.Call{}, drivers.Cold, drivers.SourceBody, "7"},
		{"zero is warm", both, `{"cold": 0}`, drivers.Call{}, drivers.Warm, drivers.SourceBody, ""},
		{"null says nothing", both, `{"cold": null}`, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		{"instance only: the engine decides", drivers.BodyMarkers{Instance: "instance"}, `{"cold": true, "instance": "i-2"}`, drivers.Call{}, drivers.Unknown, drivers.SourceBody, "i-2"},
		{"nested pointer", drivers.BodyMarkers{Cold: "/meta/cold", Instance: "/meta/env/id"}, `{"meta": {"cold": true, "env": {"id": "abc"}}}`, drivers.Call{}, drivers.Cold, drivers.SourceBody, "abc"},
		{"array index", drivers.BodyMarkers{Cold: "r.1.c"}, `{"r": [{"c": false}, {"c": true}]}`, drivers.Call{}, drivers.Cold, drivers.SourceBody, ""},
		{"index out of range", drivers.BodyMarkers{Cold: "r.2.c"}, `{"r": [{"c": false}]}`, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		{"missing field", both, `{"ok": true}`, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		{"not JSON", both, `cold`, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		{"truncated JSON", both, `{"cold": true, "inst`, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		{"empty body", both, ``, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		{"instance object is no id", both, `{"instance": {"id": 1}}`, drivers.Call{}, drivers.Unknown, drivers.SourceNone, ""},
		// The platform and the headers rank above the body: it is not read.
		{"platform said", both, `{"cold": true, "instance": "i-1"}`, drivers.Call{Temp: drivers.Warm, Source: drivers.SourcePlatform}, drivers.Warm, drivers.SourcePlatform, ""},
		{"instance header said", both, `{"cold": true, "instance": "i-1"}`, drivers.Call{InstanceID: "h-1"}, drivers.Unknown, drivers.SourceNone, "h-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := drivers.NewBodyReader(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			c := tc.pre
			r.Read([]byte(tc.body), &c)
			if c.Temp != tc.temp || c.Source != tc.source || c.InstanceID != tc.instance {
				t.Errorf("got %v/%v/%q, want %v/%v/%q", c.Temp, c.Source, c.InstanceID, tc.temp, tc.source, tc.instance)
			}
		})
	}
}

func TestBodyReaderNone(t *testing.T) {
	r, err := drivers.NewBodyReader(drivers.BodyMarkers{})
	if err != nil || r != nil {
		t.Fatalf("no markers: %v, %v; want a nil reader", r, err)
	}
	var c drivers.Call
	r.Read([]byte(`{"cold": true}`), &c) // a nil reader reads nothing
	if c.Temp != drivers.Unknown {
		t.Fatalf("nil reader set %v", c.Temp)
	}
	if _, err := drivers.NewBodyReader(drivers.BodyMarkers{Cold: "a..b"}); err == nil {
		t.Fatal("a bad path was accepted")
	}
}

// BenchmarkBodyReaderRead is the cost of reading markers from a typical
// benchmark function's answer, paid only when cold.body is set.
func BenchmarkBodyReaderRead(b *testing.B) {
	r, _ := drivers.NewBodyReader(drivers.BodyMarkers{Cold: "cold", Instance: "instance"})
	body := []byte(`{"ok": true, "cold": false, "instance": "2f9c1a", "seq": 12345, "data": "some payload text"}`)
	b.ReportAllocs()
	for b.Loop() {
		var c drivers.Call
		r.Read(body, &c)
	}
}

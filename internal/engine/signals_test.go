package engine

import (
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

// TestTemperatureOrder: the sources in their order, each only when
// believed, and the body's instance id feeding the same first-seen rule.
func TestTemperatureOrder(t *testing.T) {
	all := AllSignals
	noPlatform := Detection{Header: true, Infer: true} // cold.ignore_platform
	type want struct {
		temp drivers.Temperature
		src  drivers.ColdSource
	}
	for _, tc := range []struct {
		name   string
		d      Detection
		seen   []string // instance ids already served
		call   drivers.Call
		expect want
	}{
		{"platform", all, nil, drivers.Call{Temp: drivers.Cold, Source: drivers.SourcePlatform, InstanceID: "i"}, want{drivers.Cold, drivers.SourcePlatform}},
		{"platform ignored: its instance id too", noPlatform, nil, drivers.Call{Temp: drivers.Cold, Source: drivers.SourcePlatform, InstanceID: "i"}, want{drivers.Unknown, drivers.SourceNone}},
		{"header", all, []string{"i"}, drivers.Call{Temp: drivers.Cold, Source: drivers.SourceHeader, InstanceID: "i"}, want{drivers.Cold, drivers.SourceHeader}},
		{"instance header, first", all, nil, drivers.Call{InstanceID: "i"}, want{drivers.Cold, drivers.SourceInstance}},
		{"instance header, seen", all, []string{"i"}, drivers.Call{InstanceID: "i"}, want{drivers.Warm, drivers.SourceInstance}},
		{"body cold flag", all, []string{"i"}, drivers.Call{Temp: drivers.Cold, Source: drivers.SourceBody, InstanceID: "i"}, want{drivers.Cold, drivers.SourceBody}},
		{"body cold flag, platform ignored", noPlatform, nil, drivers.Call{Temp: drivers.Warm, Source: drivers.SourceBody}, want{drivers.Warm, drivers.SourceBody}},
		{"body instance, first", noPlatform, nil, drivers.Call{Source: drivers.SourceBody, InstanceID: "b"}, want{drivers.Cold, drivers.SourceBody}},
		{"body instance, seen", all, []string{"b"}, drivers.Call{Source: drivers.SourceBody, InstanceID: "b"}, want{drivers.Warm, drivers.SourceBody}},
		{"nothing", all, nil, drivers.Call{}, want{drivers.Unknown, drivers.SourceNone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]struct{}{}
			for _, id := range tc.seen {
				seen[id] = struct{}{}
			}
			c := tc.call
			temp, src := tc.d.Temperature(&c, seen)
			if (want{temp, src}) != tc.expect {
				t.Errorf("got %v from %v, want %v from %v", temp, src, tc.expect.temp, tc.expect.src)
			}
		})
	}
	// A body cold flag records its instance as seen: the next request on
	// it, with only the instance id, is warm.
	seen := map[string]struct{}{}
	all.Temperature(&drivers.Call{Temp: drivers.Cold, Source: drivers.SourceBody, InstanceID: "x"}, seen)
	if temp, src := all.Temperature(&drivers.Call{Source: drivers.SourceBody, InstanceID: "x"}, seen); temp != drivers.Warm || src != drivers.SourceBody {
		t.Errorf("after a cold body flag on x: %v from %v, want warm from body", temp, src)
	}
}

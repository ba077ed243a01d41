package fleet

import (
	"reflect"
	"testing"

	"github.com/coldbench/coldbench/scenarios"
)

// TestEncodeScenarioTrace: the trace: block reaches agents as written.
func TestEncodeScenarioTrace(t *testing.T) {
	t.Parallel()
	for _, block := range []string{
		"trace: {enabled: false, sampled: 0.1, tracestate: \"a=b,c@d=e\"}\n",
		"trace: {sampled: false}\n",
		"",
	} {
		s, err := scenarios.Parse("t.yaml", []byte("name: t\ntarget: {driver: http, url: \"http://127.0.0.1:9/\"}\n"+block+"phases: [{name: a, duration: 1s, rate: 1}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := scenarios.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := scenarios.Parse("sent.yaml", b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if !reflect.DeepEqual(back.Trace, s.Trace) || Trace(back.Trace) != Trace(s.Trace) {
			t.Errorf("%q: sent %+v, got %+v", block, Trace(s.Trace), Trace(back.Trace))
		}
	}
}

package fleet

import (
	"reflect"
	"testing"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/scenarios"
)

// TestSendScenarioTrace: the trace: block reaches agents as written.
func TestSendScenarioTrace(t *testing.T) {
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
		asg := &pb.Assignment{}
		sendScenario(asg, s)
		back, err := receiveScenario(asg)
		if err != nil {
			t.Fatalf("%v\n%s", err, asg.GetScenarioYaml())
		}
		if !reflect.DeepEqual(back.Trace, s.Trace) || Trace(back.Trace) != Trace(s.Trace) {
			t.Errorf("%q: sent %+v, got %+v", block, Trace(s.Trace), Trace(back.Trace))
		}
	}
}

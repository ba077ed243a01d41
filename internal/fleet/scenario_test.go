package fleet

import (
	"fmt"
	"reflect"
	"testing"

	_ "github.com/coldbench/coldbench/drivers/http"
	_ "github.com/coldbench/coldbench/drivers/openfaas"
	_ "github.com/coldbench/coldbench/drivers/sim"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/scenarios"
)

// TestSendScenarioRoundTrip: what a controller sends an agent in another
// process (sendScenario) reads back (receiveScenario) into the scenario the
// controller holds, for every built-in, for scenarios using every arrival
// shape and inline block, and with the --target override; the text sent is
// the source, byte for byte.
func TestSendScenarioRoundTrip(t *testing.T) {
	t.Parallel()
	var cases []*scenarios.Scenario
	for _, name := range scenarios.BuiltinNames() {
		s, err := scenarios.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, s)
	}
	every, err := scenarios.Parse("every.yaml", []byte(`
name: every-shape
target:
  driver: http
  url: http://127.0.0.1:9/fn
  method: POST
  headers: {Content-Type: application/json}
  body: '{"seq": {{.Seq}}}'
  timeout: 3s
cold: {headers: [X-Cold], instance_header: X-Instance, infer: false, body: {cold: meta.cold, instance: /meta/id}}
on_agent_loss: rebalance
seed: 9
phases:
  - {name: burst, duration: 1s, burst: {requests: 7, within: 250ms}}
  - {name: at-once, duration: 1s, burst: {requests: 3}}
  - {name: rate, duration: 2s, rate: 20/m}
  - {name: ramp, duration: 2s, ramp: {from: 0, to: 50}}
  - {name: steps, steps: [{rate: 5, duration: 1s}, {rate: 10, duration: 1s}]}
  - {name: rest, duration: 1s, idle: true}
  - {name: random, duration: 1s, poisson: 40/s}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, every)
	// Inline blocks: a platform driver's invocation settings and a
	// pricing table's overrides stand beside their neighbours.
	inline, err := scenarios.Parse("inline.yaml", []byte(`
name: inline
target: {driver: openfaas, gateway: "http://127.0.0.1:9", function: f, method: PUT, body: "{}", headers: {A: b}, timeout: 5s}
phases: [{name: a, duration: 1s, rate: 1}]
tune: {memory: [512], pricing: {table: cloud-run, gb_second: 0.5, granularity: 10ms}}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, inline)
	changed, err := scenarios.Load("smoke")
	if err != nil {
		t.Fatal(err)
	}
	if err := scenarios.SetTarget(changed, "http://127.0.0.1:8080/"); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, changed)

	// A driver without a URL of its own: --target makes it the http
	// driver, on the agent as on the controller.
	switched, err := scenarios.Parse("switched.yaml", []byte("name: switched\ntarget: {driver: sim}\nphases: [{name: a, duration: 1s, rate: 1}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := scenarios.SetTarget(switched, "http://127.0.0.1:8081/x"); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, switched)

	for _, s := range cases {
		t.Run(s.Name, func(t *testing.T) {
			asg := &pb.Assignment{Seed: s.Seed}
			sendScenario(asg, s)
			if asg.GetScenarioYaml() != string(s.Source) || asg.GetTargetUrl() != s.TargetURL {
				t.Errorf("sent %q with target %q, want the source and %q", asg.GetScenarioYaml(), asg.GetTargetUrl(), s.TargetURL)
			}
			back, err := receiveScenario(asg)
			if err != nil {
				t.Fatalf("%v\n%s", err, asg.GetScenarioYaml())
			}
			if d := diffFields(back, s); d != "" {
				t.Errorf("round trip changed the scenario:\n%s\n%s", d, asg.GetScenarioYaml())
			}
		})
	}
}

// diffFields lists the exported top-level fields of two scenarios that
// differ, with the driver configuration and phases compared one by one;
// empty when they are the same.
func diffFields(got, want *scenarios.Scenario) string {
	var out string
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		if !g.Type().Field(i).IsExported() {
			continue
		}
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			out += fmt.Sprintf("%s:\n got %+v\nwant %+v\n", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface())
		}
	}
	if !reflect.DeepEqual(got.Target.Config, want.Target.Config) {
		gc, wc := reflect.ValueOf(got.Target.Config), reflect.ValueOf(want.Target.Config)
		if gc.Kind() == reflect.Pointer && gc.Type() == wc.Type() && gc.Elem().Kind() == reflect.Struct {
			for i := range gc.Elem().NumField() {
				gf, wf := gc.Elem().Field(i), wc.Elem().Field(i)
				if gf.CanInterface() && !reflect.DeepEqual(gf.Interface(), wf.Interface()) {
					out += fmt.Sprintf("target.%s:\n got %#v\nwant %#v\n", gc.Elem().Type().Field(i).Name, gf.Interface(), wf.Interface())
				}
			}
		}
	}
	for i := range min(len(got.Phases), len(want.Phases)) {
		if !reflect.DeepEqual(got.Phases[i], want.Phases[i]) {
			out += fmt.Sprintf("phases[%d]:\n got %+v\nwant %+v\n", i, got.Phases[i], want.Phases[i])
		}
	}
	return out
}

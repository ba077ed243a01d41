package grpcdriver_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	grpcdriver "github.com/coldbench/coldbench/drivers/grpc"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// TestErrorCodesKept: a target answering UNAVAILABLE and RESOURCE_EXHAUSTED
// has those codes kept beside the classes (5xx, throttled) in run.json,
// counted, and named in the report.
func TestErrorCodesKept(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	// The echo server answers a request whose text is "code:N" with status
	// N: the first 10 requests get UNAVAILABLE (14), the other 5
	// RESOURCE_EXHAUSTED (8).
	s, err := scenarios.Parse("grpc.yaml", []byte(fmt.Sprintf(`
name: grpc-codes
target:
  driver: grpc
  address: %s
  method: /coldbench.test.v1.Echo/Say
  request: '{"text": "code:{{if lt .Seq 10}}14{{else}}8{{end}}"}'
  plaintext: true
  timeout: 5s
phases:
  - {name: all, duration: 1s, burst: {requests: 15}}
`, e.addr)))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := runner.Run(context.Background(), runner.Config{Scenario: s, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	r, err := results.Load(dir) // as stored in run.json
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{"5xx": {"UNAVAILABLE": 10}, "throttled": {"RESOURCE_EXHAUSTED": 5}}
	for _, st := range []*results.Stats{&r.Totals, &r.Phases[0].Stats} {
		if !maps.EqualFunc(st.ErrorCodes, want, maps.Equal) {
			t.Errorf("error codes %v, want %v (errors %v)", st.ErrorCodes, want, st.Errors)
		}
	}
	var md, text bytes.Buffer
	if err := report.Render(&md, r, "md"); err != nil {
		t.Fatal(err)
	}
	if err := report.Render(&text, r, "text"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"| `5xx` | 10 | 66.7% | UNAVAILABLE 10 |", "| `throttled` | 5 | 33.3% | RESOURCE\\_EXHAUSTED 5 |"} { // Markdown escapes _
		if !strings.Contains(md.String(), w) {
			t.Errorf("report.md lacks %q:\n%s", w, md.String())
		}
	}
	if w := "Errors by code (top 2): 5xx UNAVAILABLE 10, throttled RESOURCE_EXHAUSTED 5."; !strings.Contains(text.String(), w) {
		t.Errorf("text report lacks %q:\n%s", w, text.String())
	}
}

// TestCodeName: codes as the gRPC specification writes them.
func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.OK:                "OK",
		codes.Unavailable:       "UNAVAILABLE",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
		codes.DeadlineExceeded:  "DEADLINE_EXCEEDED",
		codes.Code(99):          "CODE(99)",
	} {
		if got := grpcdriver.CodeName(c); got != want {
			t.Errorf("CodeName(%d) = %q, want %q", c, got, want)
		}
	}
}

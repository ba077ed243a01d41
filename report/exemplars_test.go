package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

// TestExemplarsShown: the slowest request of a phase × temperature is shown
// with its trace id beside the percentiles in the text, Markdown and HTML
// reports; an unsampled one is marked; a run without exemplars shows none.
func TestExemplarsShown(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	slow := results.Exemplar{RequestID: "ab12-7", Latency: 812300 * time.Microsecond, Service: 800 * time.Millisecond, Offset: 1500 * time.Millisecond, Sampled: true}
	copy(slow.TraceID[:], []byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36})
	slow.SpanID[7] = 1
	second := slow
	second.RequestID, second.Latency, second.Sampled = "ab12-9", 20*time.Millisecond, false
	r.Phases[0].Exemplars = &results.PhaseExemplars{Cold: &results.Exemplars{Slowest: []results.Exemplar{slow, second}}}
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"

	var text, md, html bytes.Buffer
	if err := Text(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, out string
		want      []string
	}{
		{"text", text.String(), []string{"slowest cold:", "812.3 ms", "trace " + id, "request ab12-7"}},
		{"markdown", md.String(), []string{"| cold #1 | 812.3 | 800.0 | +1.5s | `" + id + "` | `ab12-7` |", id + " (unsampled)", exemplarNote}},
		{"html", html.String(), []string{`<td class="text">cold #1</td>`, id, "ab12-9", "(unsampled)"}},
	} {
		for _, w := range tt.want {
			if !strings.Contains(tt.out, w) {
				t.Errorf("%s report lacks %q", tt.name, w)
			}
		}
	}

	text.Reset()
	if err := Text(&text, fixture(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "Slowest requests") {
		t.Error("a run without exemplars shows a slowest-requests section")
	}
}

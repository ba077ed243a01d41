package lambda

import "testing"

func TestIsErrorPayload(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    bool
	}{
		{`{"errorMessage":"boom","errorType":"errorString"}`, true},                              // the Go runtime's
		{`{"errorMessage":"boom","errorType":"Error","stackTrace":["at f (index.js:1)"]}`, true}, // Node's, with a trace
		{`{"errorType":"Error","errorMessage":"boom","trace":[]}`, true},                         // Python's
		{`{"errorMessage":"boom"}`, false},                                                       // no type: a function's own answer
		{`{"errorMessage":"boom","errorType":"E","statusCode":500}`, false},                      // more fields: the function's answer
		{`{"cold":true,"instance":"i-1"}`, false},                                                // a success
		{`"errorMessage"`, false},                                                                // not an object
		{``, false},                                                                              // empty
		{`{"errorMessage":`, false},                                                              // cut short
	} {
		if got := isErrorPayload([]byte(tc.payload)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.payload, got, tc.want)
		}
	}
}

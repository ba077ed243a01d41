package lambda_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda"
)

const reqID = "8f5ad2d1-7a4b-4e5b-9c1a-2b3f7d8e9a10"

// appLines is n lines of function output in the text format.
func appLines(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("2025-03-01T10:00:00.000Z\t" + reqID + "\tINFO\tprocessing item " + strings.Repeat("x", 60) + string(rune('a'+i%26)) + "\n")
	}
	return b.String()
}

// jsonAppLines is n lines of function output in the JSON format.
func jsonAppLines(n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(`{"timestamp":"2025-03-01T10:00:00.000Z","level":"INFO","requestId":"` + reqID + `","message":"processing item ` + strings.Repeat("x", 60) + `"}` + "\n")
	}
	return b.String()
}

// last4K cuts a log to its last 4 KB, as X-Amz-Log-Result does.
func last4K(s string) string {
	if len(s) > 4096 {
		return s[len(s)-4096:]
	}
	return s
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func TestParseTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tail string
		ok   bool
		want lambda.Report
	}{
		// A warm invocation: the classic tab-separated REPORT with a trailing tab.
		{"text warm", "START RequestId: " + reqID + " Version: $LATEST\nEND RequestId: " + reqID + "\nREPORT RequestId: " + reqID + "\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(12.34), Billed: ms(13), MemoryMB: 128, MaxMemoryMB: 18}},
		// A cold start: INIT_START, then Init Duration in the REPORT line.
		{"text cold", "INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:abc\nSTART RequestId: " + reqID + " Version: 7\nEND RequestId: " + reqID + "\nREPORT RequestId: " + reqID + "\tDuration: 2.71 ms\tBilled Duration: 155 ms\tMemory Size: 1024 MB\tMax Memory Used: 69 MB\tInit Duration: 151.73 ms\t\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(2.71), Billed: ms(155), MemoryMB: 1024, MaxMemoryMB: 69, Init: ms(151.73), Cold: true}},
		// An older line: a space before a tab, no trailing newline.
		{"text old spacing", "REPORT RequestId: " + reqID + "\tDuration: 1.79 ms\tBilled Duration: 100 ms \tMemory Size: 128 MB\tMax Memory Used: 46 MB",
			true, lambda.Report{RequestID: reqID, Duration: ms(1.79), Billed: ms(100), MemoryMB: 128, MaxMemoryMB: 46}},
		// Copied with spaces instead of tabs, and X-Ray's line after it.
		{"text spaces and xray", "REPORT RequestId: " + reqID + " Duration: 158.15 ms Billed Duration: 159 ms Memory Size: 256 MB Max Memory Used: 38 MB Init Duration: 310.5 ms\nXRAY TraceId: 1-5e1b4151-5ac6c58f5b5daa6532e4f2e8 SegmentId: 6b5b4d7c0f2b3c2d Sampled: true\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(158.15), Billed: ms(159), MemoryMB: 256, MaxMemoryMB: 38, Init: ms(310.5), Cold: true}},
		// SnapStart: a restore instead of an init, billed on its own.
		{"text snapstart restore", "RESTORE_START Runtime Version: java:21.v32\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:def\nRESTORE_REPORT Restore Duration: 282.63 ms\nSTART RequestId: " + reqID + " Version: 3\nEND RequestId: " + reqID + "\nREPORT RequestId: " + reqID + "\tDuration: 7.27 ms\tBilled Duration: 124 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\tRestore Duration: 282.63 ms\tBilled Restore Duration: 117 ms\t\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(7.27), Billed: ms(124), MemoryMB: 512, MaxMemoryMB: 90, Restore: ms(282.63), BilledRestore: ms(117), Cold: true}},
		// A function that timed out on a cold start.
		{"text timeout", "START RequestId: " + reqID + " Version: $LATEST\n2025-03-01T10:00:03.012Z " + reqID + " Task timed out after 3.00 seconds\n\nEND RequestId: " + reqID + "\nREPORT RequestId: " + reqID + "\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\tInit Duration: 180.02 ms\tStatus: timeout\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(3000), Billed: ms(3000), MemoryMB: 128, MaxMemoryMB: 50, Init: ms(180.02), Cold: true, Status: "timeout"}},
		// A runtime that crashed: error lines, then a REPORT with a status.
		{"text runtime error", "START RequestId: " + reqID + " Version: $LATEST\n2025-03-01T10:00:00.100Z\t" + reqID + "\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"}\nRequestId: " + reqID + " Error: Runtime exited with error: exit status 1\nRuntime.ExitError\nEND RequestId: " + reqID + "\nREPORT RequestId: " + reqID + "\tDuration: 25.01 ms\tBilled Duration: 26 ms\tMemory Size: 128 MB\tMax Memory Used: 43 MB\tStatus: error\tError Type: Runtime.ExitError\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(25.01), Billed: ms(26), MemoryMB: 128, MaxMemoryMB: 43, Status: "error"}},
		// A chatty function: the 4 KB cut falls mid-line, the REPORT survives.
		{"text truncated 4 KB", last4K("START RequestId: " + reqID + " Version: $LATEST\n" + appLines(200) + "END RequestId: " + reqID + "\nREPORT RequestId: " + reqID + "\tDuration: 40.00 ms\tBilled Duration: 40 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tInit Duration: 99.99 ms\t\n"),
			true, lambda.Report{RequestID: reqID, Duration: ms(40), Billed: ms(40), MemoryMB: 128, MaxMemoryMB: 60, Init: ms(99.99), Cold: true}},
		// A truncated tail with no REPORT line: nothing known, no error.
		{"text truncated no report", last4K(appLines(200)), false, lambda.Report{}},
		// The cut went through the REPORT line itself: not trusted.
		{"text report cut at start", "ation: 3.2 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tInit Duration: 120.00 ms\t\n", false, lambda.Report{}},
		// Nothing at all.
		{"empty", "", false, lambda.Report{}},

		// JSON log format, warm.
		{"json warm", `{"time":"2025-03-01T10:00:00.000Z","type":"platform.start","record":{"requestId":"` + reqID + `","version":"$LATEST"}}` + "\n" +
			`{"time":"2025-03-01T10:00:00.003Z","type":"platform.report","record":{"requestId":"` + reqID + `","metrics":{"durationMs":2.53,"billedDurationMs":3,"memorySizeMB":128,"maxMemoryUsedMB":68},"status":"success"}}` + "\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(2.53), Billed: ms(3), MemoryMB: 128, MaxMemoryMB: 68, Status: "success"}},
		// JSON log format, cold: initDurationMs.
		{"json cold", `{"time":"2025-03-01T10:00:00.000Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"nodejs:20.v22","runtimeVersionArn":"arn:aws:lambda:us-east-1::runtime:abc"}}` + "\n" +
			`{"time":"2025-03-01T10:00:00.200Z","type":"platform.start","record":{"requestId":"` + reqID + `","version":"$LATEST"}}` + "\n" +
			`{"time":"2025-03-01T10:00:00.203Z","type":"platform.report","record":{"requestId":"` + reqID + `","metrics":{"durationMs":2.53,"billedDurationMs":214,"memorySizeMB":128,"maxMemoryUsedMB":68,"initDurationMs":210.64},"status":"success"}}` + "\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(2.53), Billed: ms(214), MemoryMB: 128, MaxMemoryMB: 68, Init: ms(210.64), Cold: true, Status: "success"}},
		// JSON log format, SnapStart restore.
		{"json snapstart restore", `{"time":"2025-03-01T10:00:00.000Z","type":"platform.restoreStart","record":{"runtimeVersion":"java:21.v32"}}` + "\n" +
			`{"time":"2025-03-01T10:00:00.300Z","type":"platform.report","record":{"requestId":"` + reqID + `","metrics":{"durationMs":7.27,"billedDurationMs":124,"memorySizeMB":512,"maxMemoryUsedMB":90,"restoreDurationMs":282.63,"billedRestoreDurationMs":117},"status":"success"}}`,
			true, lambda.Report{RequestID: reqID, Duration: ms(7.27), Billed: ms(124), MemoryMB: 512, MaxMemoryMB: 90, Restore: ms(282.63), BilledRestore: ms(117), Cold: true, Status: "success"}},
		// JSON log format, a function error and its error record.
		{"json error", `{"timestamp":"2025-03-01T10:00:00.100Z","level":"ERROR","requestId":"` + reqID + `","message":{"errorType":"Error","errorMessage":"boom","stackTrace":["at handler (index.js:3)"]}}` + "\n" +
			`{"time":"2025-03-01T10:00:00.101Z","type":"platform.report","record":{"requestId":"` + reqID + `","metrics":{"durationMs":101.2,"billedDurationMs":102,"memorySizeMB":128,"maxMemoryUsedMB":70},"status":"error","errorType":"Error"}}` + "\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(101.2), Billed: ms(102), MemoryMB: 128, MaxMemoryMB: 70, Status: "error"}},
		// JSON log format, a timeout after a cold start.
		{"json timeout", `{"time":"2025-03-01T10:00:03.000Z","type":"platform.report","record":{"requestId":"` + reqID + `","metrics":{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":50,"initDurationMs":180.02},"status":"timeout","errorType":"Sandbox.Timedout"}}`,
			true, lambda.Report{RequestID: reqID, Duration: ms(3000), Billed: ms(3000), MemoryMB: 128, MaxMemoryMB: 50, Init: ms(180.02), Cold: true, Status: "timeout"}},
		// A record spread over several lines.
		{"json pretty", "{\n  \"time\": \"2025-03-01T10:00:00.000Z\",\n  \"type\": \"platform.report\",\n  \"record\": {\n    \"requestId\": \"" + reqID + "\",\n    \"metrics\": {\"durationMs\": 1.5, \"billedDurationMs\": 2, \"memorySizeMB\": 128, \"maxMemoryUsedMB\": 40}\n  }\n}\n",
			true, lambda.Report{RequestID: reqID, Duration: ms(1.5), Billed: ms(2), MemoryMB: 128, MaxMemoryMB: 40}},
		// A chatty function in JSON: the first record is cut, the report survives.
		{"json truncated 4 KB", last4K(jsonAppLines(100) + `{"time":"2025-03-01T10:00:00.050Z","type":"platform.report","record":{"requestId":"` + reqID + `","metrics":{"durationMs":50,"billedDurationMs":50,"memorySizeMB":128,"maxMemoryUsedMB":80,"initDurationMs":120.5},"status":"success"}}` + "\n"),
			true, lambda.Report{RequestID: reqID, Duration: ms(50), Billed: ms(50), MemoryMB: 128, MaxMemoryMB: 80, Init: ms(120.5), Cold: true, Status: "success"}},
		// JSON tail with no report at all.
		{"json truncated no report", last4K(jsonAppLines(100)), false, lambda.Report{}},
		// The cut went through the report record.
		{"json report cut", `Ms":2.53,"billedDurationMs":3,"memorySizeMB":128,"maxMemoryUsedMB":68,"initDurationMs":210.64},"status":"success"},"type":"platform.report"}` + "\n", false, lambda.Report{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := lambda.ParseTail([]byte(tt.tail))
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseTail = %+v, %v\nwant        %+v, %v", got, ok, tt.want, tt.ok)
			}
			// The same through the base64 of X-Amz-Log-Result.
			if got2, ok2 := lambda.ParseLogResult(base64.StdEncoding.EncodeToString([]byte(tt.tail))); got2 != got || ok2 != ok {
				t.Errorf("ParseLogResult differs from ParseTail: %+v, %v", got2, ok2)
			}
		})
	}
	if _, ok := lambda.ParseLogResult("not base64!"); ok {
		t.Error("ParseLogResult accepted bad base64")
	}
}

// TestReportFill checks what a report puts in a call.
func TestReportFill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    lambda.Report
		want drivers.Call
	}{
		// Warm: no init.
		{"warm", lambda.Report{Billed: ms(13), MemoryMB: 128, MaxMemoryMB: 18},
			drivers.Call{Temp: drivers.Warm, Source: drivers.SourcePlatform, Billed: ms(13), MemoryMB: 128, MaxMemoryMB: 18}},
		// Cold: Init Duration is the init.
		{"cold", lambda.Report{Billed: ms(155), MemoryMB: 1024, MaxMemoryMB: 69, Init: ms(151.73), Cold: true},
			drivers.Call{Temp: drivers.Cold, Source: drivers.SourcePlatform, Init: ms(151.73), Billed: ms(155), MemoryMB: 1024, MaxMemoryMB: 69}},
		// SnapStart: the restore is the init, and both billed durations count.
		{"restore", lambda.Report{Billed: ms(124), MemoryMB: 512, MaxMemoryMB: 90, Restore: ms(282.63), BilledRestore: ms(117), Cold: true},
			drivers.Call{Temp: drivers.Cold, Source: drivers.SourcePlatform, Init: ms(282.63), Billed: ms(241), MemoryMB: 512, MaxMemoryMB: 90}},
	}
	for _, tt := range tests {
		var c drivers.Call
		tt.r.Fill(&c)
		if c != tt.want {
			t.Errorf("%s: Fill = %+v\nwant %+v", tt.name, c, tt.want)
		}
	}
}

// FuzzParseTail: any tail parses without panicking into a report with no
// negative field, cold whenever it has an init or restore duration.
func FuzzParseTail(f *testing.F) {
	f.Add([]byte("REPORT RequestId: x\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 0.50 ms\t"))
	f.Add([]byte(`{"type":"platform.report","record":{"metrics":{"durationMs":1,"initDurationMs":2}}}`))
	f.Add([]byte("{\n{\"type\":\"platform.report\"\n"))
	f.Add([]byte(last4K(appLines(100))))
	f.Fuzz(func(t *testing.T, tail []byte) {
		r, ok := lambda.ParseTail(tail)
		if !ok && r != (lambda.Report{}) {
			t.Errorf("not ok but %+v", r)
		}
		if r.Duration < 0 || r.Billed < 0 || r.Init < 0 || r.Restore < 0 || r.BilledRestore < 0 || r.MemoryMB < 0 || r.MaxMemoryMB < 0 {
			t.Errorf("negative field in %+v", r)
		}
		if (r.Init > 0 || r.Restore > 0) && !r.Cold {
			t.Errorf("init or restore without Cold: %+v", r)
		}
	})
}

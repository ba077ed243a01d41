package fleet

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAllowList(t *testing.T) {
	t.Parallel()
	l, err := ParseAllowList([]string{"*.lambda-url.*.on.aws", "127.0.0.1:*", "[::1]:8080", "api.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"abc123.lambda-url.eu-west-1.on.aws:443", true}, // glob over the id and the region
		{"ABC.Lambda-URL.us-east-1.on.aws:443", true},    // host names ignore case
		{"lambda-url.eu-west-1.on.aws:443", false},       // the first star needs its dot
		{"evil.com:443", false},                          // not listed
		{"abc.lambda-url.eu-west-1.on.aws.evil.com:443", false},
		{"127.0.0.1:8080", true},            // any port
		{"127.0.0.2:8080", false},           // another address
		{"[::1]:8080", true},                // IPv6 with its port
		{"[::1]:9090", false},               // the wrong port
		{"api.example.com:443", true},       // a pattern without a port allows any
		{"api.example.com.evil:443", false}, // no star, no suffix match
		{"x.api.example.com:443", false},    // nor a prefix one
	}
	for _, tt := range tests {
		if got := l.Allows(tt.host); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
	if !AllowList(nil).Allows("anything:1") {
		t.Error("an empty list must allow everything")
	}
	for _, bad := range []string{"", "http://x.com/", "a b"} {
		if _, err := ParseAllowList([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestTargetHostAndPeakRate(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `
name: h
target: {driver: http, url: "https://fn.example.com/path"}
phases:
  - {name: a, duration: 1s, rate: 100}
  - {name: b, duration: 2s, ramp: {from: 10, to: 400}}
  - {name: c, duration: 1s, burst: {requests: 50, within: 250ms}}
  - {name: d, steps: [{rate: 5, duration: 1s}, {rate: 30, duration: 1s}]}
`)
	if h, err := TargetHost(s); err != nil || h != "fn.example.com:443" {
		t.Errorf("TargetHost = %q, %v; want fn.example.com:443", h, err)
	}
	if r := PeakRate(s, 4); math.Abs(r-100) > 1e-9 {
		t.Errorf("PeakRate over 4 parts = %g, want the ramp's top 400/4", r)
	}
	if err := AllowList([]string{"*.example.com"}).CheckTarget(s); err != nil {
		t.Errorf("allowed target refused: %v", err)
	}
	err := AllowList([]string{"127.0.0.1:*"}).CheckTarget(s)
	if err == nil || !strings.Contains(err.Error(), "fn.example.com:443 not allowed") {
		t.Errorf("CheckTarget: %v", err)
	}
	sim := mustParse(t, "name: s\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 1}\n")
	if err := AllowList([]string{"127.0.0.1:*"}).CheckTarget(sim); err != nil {
		t.Errorf("the in-process emulator refused: %v", err)
	}
}

func TestResolveAndLoopback(t *testing.T) {
	t.Parallel()
	addrs, err := Resolve(context.Background(), []string{"127.0.0.2:7070", " dns:///localhost:7071 "})
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) < 2 || addrs[0] != (Addr{"127.0.0.2:7070", "127.0.0.2"}) || addrs[1].ServerName != "localhost" {
		t.Errorf("Resolve = %v", addrs)
	}
	for _, bad := range [][]string{{"no-port"}, {"dns:///no-port"}, {"a:1", "a:1"}, {""}} {
		if _, err := Resolve(context.Background(), bad); err == nil {
			t.Errorf("Resolve(%q) succeeded", bad)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "127.9.8.7": true, "::1": true, "[::1]": true, "localhost": true,
		"0.0.0.0": false, "": false, "10.0.0.1": false, "example.com": false} {
		if IsLoopback(host) != want {
			t.Errorf("IsLoopback(%q) = %v", host, !want)
		}
	}
	if _, err := Dial([]Addr{{Addr: "192.0.2.1:7070"}}, nil); err == nil {
		t.Error("plaintext dial to a remote address allowed")
	}
}

// TestEstimateClock: the offset comes from the probe with the smallest
// round trip, even when slower probes are lopsided.
func TestEstimateClock(t *testing.T) {
	t.Parallel()
	base := time.Now()
	const offset = 250 * time.Millisecond // the agent runs ahead
	probe := func(sent, out, back time.Duration) probeSample {
		s := base.Add(sent)
		return probeSample{sent: s, received: s.Add(out + back), agent: s.Add(out).Add(offset).Round(0)}
	}
	samples := []probeSample{
		probe(0, 40*time.Millisecond, 2*time.Millisecond),                       // queued on the way out
		probe(100*time.Millisecond, 300*time.Microsecond, 300*time.Microsecond), // the quick, symmetric one
		probe(200*time.Millisecond, time.Millisecond, 30*time.Millisecond),      // queued on the way back
	}
	got, rtt := estimateClock(samples)
	if rtt != 600*time.Microsecond || got != offset {
		t.Errorf("offset %v rtt %v, want %v and 600µs", got, rtt, offset)
	}
}

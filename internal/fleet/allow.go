package fleet

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"

	"github.com/coldbench/coldbench/scenarios"
)

// An agent is otherwise an open relay for traffic, so it can be told which
// targets it may send to (--allow-target) and how fast (--max-rate). Both
// are checked when an assignment arrives, before the target is opened:
// a refused assignment has sent nothing.

// TargetHoster is implemented by driver configurations that can say which
// host (host or host:port) their requests go to, for agents with an
// allow-list. Configurations with a string URL field need not implement
// it: the URL's host and port are used.
type TargetHoster interface {
	TargetHost() string
}

// localDrivers send nowhere but to something the agent itself starts: the
// built-in emulator. An allow-list does not restrict them.
var localDrivers = map[string]bool{"sim": true}

// AllowList is a set of host patterns. A pattern is a host name or
// address, optionally with ":port", where '*' matches any run of
// characters: "*.lambda-url.*.on.aws", "127.0.0.1:*", "[::1]:8080". A
// pattern without a port matches any port. Host names compare without
// regard to case. An empty AllowList allows every host.
type AllowList []string

// ParseAllowList checks patterns.
func ParseAllowList(patterns []string) (AllowList, error) {
	for _, p := range patterns {
		if strings.TrimSpace(p) == "" || strings.ContainsAny(p, "/ ") {
			return nil, fmt.Errorf("allow-target %q: want a host pattern such as *.example.com or 127.0.0.1:*", p)
		}
	}
	return AllowList(patterns), nil
}

// Allows reports whether hostport (host:port, or a host alone) matches a
// pattern.
func (l AllowList) Allows(hostport string) bool {
	if len(l) == 0 {
		return true
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	host = strings.ToLower(host)
	for _, p := range l {
		ph, pp, err := net.SplitHostPort(p)
		if err != nil {
			ph, pp = strings.Trim(p, "[]"), "*"
		}
		if glob(strings.ToLower(ph), host) && glob(pp, port) {
			return true
		}
	}
	return false
}

// glob matches s against pattern, where '*' matches any run of characters
// (patterns are short, so trying every split is cheap).
func glob(pattern, s string) bool {
	before, after, star := strings.Cut(pattern, "*")
	if !star {
		return pattern == s
	}
	if !strings.HasPrefix(s, before) {
		return false
	}
	s = s[len(before):]
	for i := 0; i <= len(s); i++ {
		if glob(after, s[i:]) {
			return true
		}
	}
	return false
}

// CheckTarget refuses a scenario whose target the allow-list does not
// allow, with an error that names the host and the patterns.
func (l AllowList) CheckTarget(s *scenarios.Scenario) error {
	if len(l) == 0 || localDrivers[s.Target.Driver] {
		return nil
	}
	host, err := TargetHost(s)
	if err != nil {
		return fmt.Errorf("target not allowed: %v, and this agent only sends to %s (--allow-target)", err, strings.Join(l, ", "))
	}
	if !l.Allows(host) {
		return fmt.Errorf("target %s not allowed: this agent only sends to %s (--allow-target)", host, strings.Join(l, ", "))
	}
	return nil
}

// TargetHost says which host:port a scenario's requests go to.
func TargetHost(s *scenarios.Scenario) (string, error) {
	if h, ok := s.Target.Config.(TargetHoster); ok {
		return h.TargetHost(), nil
	}
	v := reflect.ValueOf(s.Target.Config)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("URL"); f.IsValid() && f.Kind() == reflect.String {
			return urlHost(f.String())
		}
	}
	return "", fmt.Errorf("cannot tell which host driver %s sends to", s.Target.Driver)
}

// urlHost is the host:port of a URL, with the scheme's default port.
func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("target URL %q has no host", raw)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// PeakRate is the highest rate, in requests per second, that part of parts
// of s asks for in any phase: the top of a ramp or the fastest step, a
// burst's count over its window (or per second when it has none).
func PeakRate(s *scenarios.Scenario, parts int) float64 {
	var peak float64
	for _, p := range s.Phases {
		var r float64
		switch {
		case p.Rate != nil:
			r = float64(*p.Rate)
		case p.Poisson != nil:
			r = float64(*p.Poisson)
		case p.Ramp != nil:
			r = max(float64(p.Ramp.From), float64(p.Ramp.To))
		case p.Steps != nil:
			for _, st := range p.Steps {
				r = max(r, float64(st.Rate))
			}
		case p.AzureTrace != nil || p.RequestLog != nil:
			r = p.ReplayPeak(s.File)
		case p.Burst != nil:
			r = float64(p.Burst.Requests)
			if w := p.Burst.Within; w > 0 {
				r /= durationSeconds(w)
			}
		}
		peak = max(peak, r)
	}
	return peak / float64(max(parts, 1))
}

func durationSeconds(d scenarios.Duration) float64 { return float64(d) / 1e9 }

package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldbench/coldbench/internal/fleet"
	"github.com/coldbench/coldbench/results"
)

// TestFleet runs real `coldbench agent` processes on loopback addresses
// 127.0.0.x (Linux routes all of 127/8 to lo), each case on addresses of
// its own, against targets that count what reaches them. The three-agent
// run goes first and alone, since it measures start skew; the failure
// cases then run together. All of it finishes before the package's
// parallel tests start, so that its load does not disturb the timing those
// measure.
func TestFleet(t *testing.T) {
	t.Run("three agents", fleetThreeAgents)
	t.Run("target override", fleetTargetOverride)
	t.Run("failures", func(t *testing.T) {
		for name, f := range map[string]func(*testing.T){
			"controller killed": fleetControllerKilled,
			"agent killed":      fleetAgentKilled,
			"security":          agentSecurity,
			"version skew":      fleetVersionSkew,
			"rebalance resumes": fleetRebalanceResume,
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f(t)
			})
		}
	})
}

// fleetScenario is a constant rate against url. The target sends no
// cold-start signal and inference is on (the default): every request is in
// the agent's next snapshot whatever its temperature, so a lost agent keeps
// its data up to its last snapshot.
func fleetScenario(t *testing.T, url string, rate int, d time.Duration, extra string) string {
	t.Helper()
	return writeScenario(t, fmt.Sprintf(`
name: fleet
target: {driver: http, url: %q, timeout: 5s}
%s
phases:
  - {name: steady, duration: %s, rate: %d/s}
`, url, extra, d, rate))
}

// within reports whether got is within frac of want.
func within(got, want, frac float64) bool {
	return got >= want*(1-frac) && got <= want*(1+frac)
}

// fleetThreeAgents: three agents share 1200 requests/s for 10 s. The
// target sees the whole schedule, each agent sends its share, the merged
// percentiles are those of the union of the agents' histograms and the
// agents start together.
func fleetThreeAgents(t *testing.T) {
	// The target is the emulator in a process of its own (not built with
	// the race detector, unlike this test): 1200 requests/s in this
	// process would load the machine more than the fleet under test.
	emu := startEmulator(t)
	agents := []*agentProc{
		startAgent(t, "127.0.0.2", "--insecure"),
		startAgent(t, "127.0.0.3", "--insecure"),
		startAgent(t, "127.0.0.4", "--insecure"),
	}
	dir := t.TempDir() + "/run"
	out, code := coldbench(t, "run", fleetScenario(t, emu.url+"/fn", 1200, 10*time.Second, ""),
		"--agents", agentAddrs(agents...), "--insecure", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	t.Logf("\n%s", out)
	r := loadRun(t, dir)
	if n := emu.requests(t); !within(float64(n), 12000, 0.01) {
		t.Errorf("%d requests at the target, want 12000 ± 1%%", n)
	}
	if !within(float64(r.Totals.Requests), 12000, 0.01) || r.Degraded || !r.Complete {
		t.Errorf("run: %d requests, degraded %v, complete %v", r.Totals.Requests, r.Degraded, r.Complete)
	}
	if len(r.Agents) != 3 {
		t.Fatalf("%d agents in the record, want 3", len(r.Agents))
	}
	union := results.NewHistogram()
	var skews []float64
	for _, a := range r.Agents {
		if !within(float64(a.Requests), 4000, 0.01) || a.Status != "done" {
			t.Errorf("agent %s: %d requests, status %s; want 4000 ± 1%%, done", a.Name, a.Requests, a.Status)
		}
		h, err := a.Latency.Decode()
		if err != nil {
			t.Fatal(err)
		}
		union.Merge(h)
		if a.StartSkewMs == nil {
			t.Fatalf("agent %s: no start skew", a.Name)
		}
		skews = append(skews, *a.StartSkewMs)
		t.Logf("agent %s: offset %.3f ms, rtt %.3f ms, start skew %.3f ms, %d snapshots, %d bytes (%.0f B/s)",
			a.Name, a.ClockOffsetMs, a.RTTMs, *a.StartSkewMs, a.Snapshots, a.SnapshotBytes, float64(a.SnapshotBytes)/10)
	}
	// The run's latency of successful requests is the union of its
	// temperatures; it must equal the union of the agents'.
	merged := results.NewHistogram()
	for _, p := range []*results.Percentiles{&r.Totals.Cold, &r.Totals.Warm, r.Totals.Unknown} {
		if p == nil {
			continue
		}
		h, err := p.Decode()
		if err != nil {
			t.Fatal(err)
		}
		merged.Merge(h)
	}
	if !merged.Equals(union) {
		t.Errorf("merged histogram (%d) differs from the union of the agents' (%d)", merged.TotalCount(), union.TotalCount())
	}
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		if a, b := merged.ValueAtQuantile(q), union.ValueAtQuantile(q); a != b {
			t.Errorf("p%g: merged %d µs, union %d µs", q, a, b)
		}
	}
	spread := slices.Max(skews) - slices.Min(skews)
	t.Logf("start skew across agents: %.3f ms", spread)
	if spread > 10 {
		t.Errorf("start skew across agents %.3f ms, want ≤ 10 ms", spread)
	}
}

// fleetControllerKilled: when the controller dies mid-run, every agent
// stops sending within its lease (3 s) + 1 s, as counted at the target:
// killed, its connections close; frozen (SIGSTOP), they stay open and only
// the dead-man lease stops the agents.
func fleetControllerKilled(t *testing.T) {
	tests := []struct {
		name   string
		signal syscall.Signal
		hosts  []string
	}{
		{"SIGKILL", syscall.SIGKILL, []string{"127.0.0.5", "127.0.0.6"}},
		{"SIGSTOP", syscall.SIGSTOP, []string{"127.0.0.7", "127.0.0.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			var agents []*agentProc
			for _, h := range tt.hosts {
				agents = append(agents, startAgent(t, h, "--insecure"))
			}
			ctl := startController(t, "run", fleetScenario(t, tg.URL, 100, 30*time.Second, ""),
				"--agents", agentAddrs(agents...), "--insecure", "--out", t.TempDir()+"/run", "--quiet")
			first := tg.waitFirst(t, 15*time.Second)
			time.Sleep(time.Until(first.Add(2 * time.Second)))
			if err := ctl.cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			at := time.Now()
			const limit = 3*time.Second + time.Second // lease + 1 s
			time.Sleep(limit + time.Second)
			arr := tg.arrivals()
			last := arr[len(arr)-1]
			t.Logf("%d requests; the last %v after the controller was %s", len(arr), last.Sub(at), tt.name)
			if last.After(at.Add(limit)) {
				t.Errorf("requests still arrived %v after the controller was %s, want none after %v", last.Sub(at), tt.name, limit)
			}
			for _, a := range agents {
				if log := a.log.String(); !strings.Contains(log, "run over") || strings.Contains(log, `interrupted=""`) {
					t.Errorf("agent %s did not log why it stopped:\n%s", a.addr, log)
				}
			}
			ctl.cmd.Process.Kill()
		})
	}
}

// fleetAgentKilled: an agent killed mid-run under each policy. Under
// continue and rebalance the run completes (exit 0, with a warning),
// marked degraded with the agent named and its data up to its last
// snapshot; under rebalance the survivors keep the total rate within 5% of
// the target. Under abort the survivors stop and the run exits 3.
func fleetAgentKilled(t *testing.T) {
	tests := []struct {
		policy string
		hosts  []string
		flag   bool // policy by --on-agent-loss rather than in the scenario
	}{
		{"continue", []string{"127.0.0.9", "127.0.0.10", "127.0.0.11"}, false},
		{"rebalance", []string{"127.0.0.12", "127.0.0.13", "127.0.0.14"}, true},
		{"abort", []string{"127.0.0.15", "127.0.0.16", "127.0.0.17"}, false},
	}
	const rate, duration = 150, 8 * time.Second
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			var agents []*agentProc
			for _, h := range tt.hosts {
				agents = append(agents, startAgent(t, h, "--insecure"))
			}
			extra, args := "on_agent_loss: "+tt.policy, []string{}
			if tt.flag {
				extra, args = "on_agent_loss: abort", []string{"--on-agent-loss", tt.policy}
			}
			dir := t.TempDir() + "/run"
			ctl := startController(t, append([]string{"run", fleetScenario(t, tg.URL, rate, duration, extra),
				"--agents", agentAddrs(agents...), "--insecure", "--out", dir, "--quiet"}, args...)...)
			first := tg.waitFirst(t, 15*time.Second)
			time.Sleep(time.Until(first.Add(3 * time.Second)))
			lost := agents[2]
			lost.cmd.Process.Kill()
			killed := time.Now()
			code := ctl.wait(t, 30*time.Second)
			r := loadRun(t, dir)
			if !r.Degraded || !strings.Contains(strings.Join(r.DegradedReasons, "\n"), lost.addr) {
				t.Errorf("degraded %v, reasons %q: want degraded, naming %s", r.Degraded, r.DegradedReasons, lost.addr)
			}
			if tt.policy == "abort" {
				// The survivors are stopped: the run is incomplete, exit 3.
				if code != exitIncomplete || r.Complete || !strings.Contains(r.Interrupted, "aborted") {
					t.Errorf("exit %d, complete %v, interrupted %q: want %d, incomplete, aborted\n%s", code, r.Complete, r.Interrupted, exitIncomplete, ctl.out)
				}
				if n := tg.between(killed.Add(time.Second), time.Now()); n != 0 {
					t.Errorf("%d requests more than a second after the loss", n)
				}
				return
			}
			if code != 0 || !r.Complete {
				t.Fatalf("exit %d, complete %v; want 0 and complete for a degraded run that completed:\n%s", code, r.Complete, ctl.out)
			}
			if !strings.Contains(ctl.out.String(), "warning: the run is degraded") {
				t.Errorf("no degraded warning:\n%s", ctl.out)
			}
			la := r.Agents[2]
			// Killed 3 s in, with a snapshot every second: at least two
			// seconds of its share are on record.
			if la.Name != lost.addr || la.Status != "lost" || la.Requests < 2*rate/3 || la.Requests > 4*rate/3 {
				t.Errorf("lost agent %s: status %s, %d requests kept; want lost, with its data up to its last snapshot", la.Name, la.Status, la.Requests)
			}
			var sum int64
			for _, a := range r.Agents {
				sum += a.Requests
			}
			if sum != r.Totals.Requests {
				t.Errorf("agents' requests add up to %d, the run's to %d", sum, r.Totals.Requests)
			}
			end := first.Add(duration)
			after := tg.between(killed.Add(time.Second), end.Add(-100*time.Millisecond))
			window := end.Add(-100 * time.Millisecond).Sub(killed.Add(time.Second)).Seconds()
			got := float64(after) / window
			t.Logf("%s: %d requests at the target, %d kept for the lost agent; after the loss %.1f requests/s (target %d); reasons %q",
				tt.policy, len(tg.arrivals()), la.Requests, got, rate, r.DegradedReasons)
			switch tt.policy {
			case "rebalance":
				if !within(got, rate, 0.05) {
					t.Errorf("rate after the loss %.1f/s, want %d ± 5%%", got, rate)
				}
			case "continue":
				if !within(got, rate*2/3, 0.05) {
					t.Errorf("rate after the loss %.1f/s, want the survivors' share %d ± 5%%", got, rate*2/3)
				}
			}
		})
	}
}

// pki makes a CA in a temporary directory with the coldbench command, and
// certificates "agent" (for hosts) and "controller", and returns the
// directory.
func pki(t *testing.T, hosts ...string) string {
	t.Helper()
	dir := t.TempDir()
	steps := [][]string{
		{"certs", "init", "--dir", dir},
		append([]string{"certs", "issue", "agent", "--dir", dir}, hostFlags(hosts)...),
		{"certs", "issue", "controller", "--dir", dir},
	}
	for _, args := range steps {
		if out, code := coldbench(t, args...); code != 0 {
			t.Fatalf("coldbench %v: exit %d\n%s", args, code, out)
		}
	}
	return dir
}

func hostFlags(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, "--host", h)
	}
	return out
}

// agentSecurity: an mTLS agent serves a controller with a certificate
// from its CA and refuses one without a certificate or with another CA's;
// plaintext is refused off loopback; a target outside the allow-list is
// refused at the controller before any request is sent.
func agentSecurity(t *testing.T) {
	ca, other := pki(t, "127.0.0.20"), pki(t, "127.0.0.20")
	f := func(dir, name string) string { return dir + "/" + name }
	tg := newTarget(t)
	scen := fleetScenario(t, tg.URL, 20, time.Second, "")
	agent := startAgent(t, "127.0.0.20", "--ca", f(ca, "ca.crt"), "--cert", f(ca, "agent.crt"), "--key", f(ca, "agent.key"))

	t.Run("controller with a certificate from the agent's CA", func(t *testing.T) {
		dir := t.TempDir() + "/run"
		out, code := coldbench(t, "run", scen, "--agents", agent.addr, "--out", dir, "--quiet",
			"--ca", f(ca, "ca.crt"), "--cert", f(ca, "controller.crt"), "--key", f(ca, "controller.key"))
		if code != 0 || loadRun(t, dir).Totals.Requests != 20 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	before := len(tg.arrivals())
	refusals := []struct {
		name string
		args []string
		want string
	}{
		// The controller trusts the agent but presents another CA's
		// certificate: the agent refuses the handshake.
		{"certificate from another CA", []string{"--ca", f(ca, "ca.crt"), "--cert", f(other, "controller.crt"), "--key", f(other, "controller.key")}, "mutual TLS"},
		// Plaintext to a TLS agent goes nowhere.
		{"plaintext", []string{"--insecure"}, "agents"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			out, code := coldbench(t, append([]string{"run", scen, "--agents", agent.addr, "--out", t.TempDir() + "/run", "--quiet"}, tt.args...)...)
			if code == 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want a refusal mentioning %q:\n%s", code, tt.want, out)
			}
		})
	}
	t.Run("no client certificate", func(t *testing.T) {
		// The coldbench command always presents its certificate, so a bare
		// client stands in for a controller without one.
		if err := infoWithoutCert(f(ca, "ca.crt"), agent.addr); err == nil {
			t.Error("the agent answered a client without a certificate")
		} else {
			t.Logf("refused: %v", err)
		}
	})
	if n := len(tg.arrivals()); n != before {
		t.Errorf("%d requests reached the target from refused controllers", n-before)
	}

	t.Run("insecure off loopback", func(t *testing.T) {
		for _, listen := range []string{"0.0.0.0:0", ":0"} {
			out, code := coldbench(t, "agent", "--listen", listen, "--insecure")
			if code != exitUsage || !strings.Contains(out, "loopback") {
				t.Errorf("agent --listen %s --insecure: exit %d, want %d and a refusal:\n%s", listen, code, exitUsage, out)
			}
		}
		out, code := coldbench(t, "run", scen, "--agents", "192.0.2.1:7070", "--insecure")
		if code != exitUsage || !strings.Contains(out, "loopback") {
			t.Errorf("run --insecure to a remote agent: exit %d, want %d:\n%s", code, exitUsage, out)
		}
		// Plaintext without an allow-list: any local user's controller
		// could send anywhere through it.
		if out, code := coldbench(t, "agent", "--listen", "127.0.0.1:0", "--insecure"); code != exitUsage || !strings.Contains(out, "--allow-target") {
			t.Errorf("agent --insecure without --allow-target: exit %d, want %d:\n%s", code, exitUsage, out)
		}
		if out, code := coldbench(t, "agent", "--listen", "127.0.0.1:0"); code != exitUsage || !strings.Contains(out, "--ca") {
			t.Errorf("agent without TLS material or --insecure: exit %d\n%s", code, out)
		}
	})

	t.Run("target outside the allow-list", func(t *testing.T) {
		tg := newTarget(t)
		scen := fleetScenario(t, tg.URL, 50, 2*time.Second, "")
		a := startAgent(t, "127.0.0.21", "--insecure", "--allow-target", "*.example.com", "--allow-target", "10.0.0.1:*")
		b := startAgent(t, "127.0.0.22", "--insecure") // willing, but must not send either
		out, code := coldbench(t, "run", scen, "--agents", agentAddrs(b, a), "--insecure", "--out", t.TempDir()+"/run", "--quiet")
		// Refused before the start, for the assignment itself: exit 2.
		if code != exitUsage || !strings.Contains(out, "not allowed") || !strings.Contains(out, "--allow-target") || !strings.Contains(out, a.addr) {
			t.Errorf("exit %d, want %d and the agent's refusal:\n%s", code, exitUsage, out)
		}
		time.Sleep(time.Second)
		if n := len(tg.arrivals()); n != 0 {
			t.Errorf("%d requests reached the target after the refusal", n)
		}
	})
}

// fleetVersionSkew: a controller and an agent that speak different
// protocol versions fail at connect, before anything is sent, exit 2,
// naming both versions and what to upgrade.
func fleetVersionSkew(t *testing.T) {
	tg := newTarget(t)
	for _, v := range []string{"0", "99"} { // an agent from before versioning; one from the future
		a := startAgentEnv(t, []string{"COLDBENCH_TEST_PROTOCOL_VERSION=" + v}, "127.0.0.23", "--insecure")
		out, code := coldbench(t, "run", fleetScenario(t, tg.URL, 20, time.Second, ""), "--agents", a.addr, "--insecure", "--out", t.TempDir()+"/run", "--quiet")
		want := []string{a.addr, "protocol " + v, fmt.Sprintf("controller protocol %d", fleet.ProtocolVersion), "upgrade the"}
		for _, w := range want {
			if code != exitUsage || !strings.Contains(out, w) {
				t.Errorf("agent on protocol %s: exit %d, want %d and %q:\n%s", v, code, exitUsage, w, out)
			}
		}
		t.Logf("agent on protocol %s: %s", v, strings.TrimSpace(out))
	}
	if n := len(tg.arrivals()); n != 0 {
		t.Errorf("%d requests reached the target", n)
	}
}

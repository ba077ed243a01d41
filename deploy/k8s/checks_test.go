package k8s_test

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	httpdriver "github.com/coldbench/coldbench/drivers/http" // also registers the http driver
	"github.com/coldbench/coldbench/scenarios"
)

// checkKustomization: kustomization.yaml lists every manifest here and
// nothing else, and puts them in the one namespace.
func checkKustomization(t *testing.T, m *manifests) {
	if m.kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || m.kust.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: apiVersion/kind = %s/%s, want kustomize.config.k8s.io/v1beta1/Kustomization",
			m.kust.APIVersion, m.kust.Kind)
	}
	if m.kust.Namespace != namespace {
		t.Errorf("kustomization.yaml: namespace = %q, want %q", m.kust.Namespace, namespace)
	}
	for _, f := range m.files {
		if !slices.Contains(m.kust.Resources, f) {
			t.Errorf("kustomization.yaml: resources does not list %s", f)
		}
	}
	for _, r := range m.kust.Resources {
		if !slices.Contains(m.files, r) {
			t.Errorf("kustomization.yaml: resources lists %s, which is not a manifest here", r)
		}
	}
}

func checkNamespace(t *testing.T, m *manifests) {
	if _, ok := m.find("Namespace", namespace); !ok {
		t.Errorf("no Namespace %s in %s", namespace, strings.Join(m.files, ", "))
	}
	for _, o := range m.objects {
		if o.kind != "Namespace" && o.meta.GetNamespace() != namespace {
			t.Errorf("%s", o.at("metadata.namespace = %q, want %q", o.meta.GetNamespace(), namespace))
		}
	}
}

func checkLabelsAndSelectors(t *testing.T, m *manifests) {
	d, svc := m.deployment(), m.svc()
	agentLabels := labels.Set(m.agentPod().Labels)
	for k, v := range map[string]string{"app.kubernetes.io/name": "coldbench", "app.kubernetes.io/component": "agent"} {
		if agentLabels[k] != v {
			t.Errorf("%s", m.agent.at("spec.template.metadata.labels[%s] = %q, want %q", k, agentLabels[k], v))
		}
	}

	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	switch {
	case err != nil:
		t.Errorf("%s", m.agent.at("spec.selector: %v", err))
	case sel.Empty() || !sel.Matches(agentLabels):
		t.Errorf("%s", m.agent.at("spec.selector %s does not match spec.template.metadata.labels %s", sel, agentLabels))
	}
	for i, c := range m.agentPod().Spec.TopologySpreadConstraints {
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil || !sel.Matches(agentLabels) {
			t.Errorf("%s", m.agent.at("spec.template.spec.topologySpreadConstraints[%d].labelSelector %v does not match the pod labels %s", i, sel, agentLabels))
		}
	}

	svcSel := labels.SelectorFromSet(svc.Spec.Selector)
	if len(svc.Spec.Selector) == 0 || !svcSel.Matches(agentLabels) {
		t.Errorf("%s", m.service.at("spec.selector %s does not match the agent pod labels %s (%s)", svcSel, agentLabels, m.agent))
	}
	// The controller must not be resolved as an agent.
	if svcSel.Matches(labels.Set(m.jobPod().Labels)) {
		t.Errorf("%s", m.service.at("spec.selector %s also matches the controller pod labels %s (%s)", svcSel, labels.Set(m.jobPod().Labels), m.job))
	}
}

func checkPortsAndService(t *testing.T, m *manifests) {
	c := m.agents().main(t)
	svc := m.svc()

	named := map[string]corev1.ContainerPort{}
	for _, p := range c.Ports {
		named[p.Name] = p
	}
	grpc, ok := named["grpc"]
	if !ok {
		t.Fatalf("%s", m.agent.at("containers[agent].ports: no port named grpc"))
	}

	where := m.agent.at("containers[agent].args")
	a := parseArgs(c.Args)
	if a.cmd != "agent" {
		t.Errorf("%s: subcommand %q, want agent", where, a.cmd)
	}
	if _, port, err := net.SplitHostPort(a.one(t, where, "--listen")); err != nil || port != strconv.Itoa(int(grpc.ContainerPort)) {
		t.Errorf("%s: --listen %v does not listen on the grpc containerPort %d", where, a.flags["--listen"], grpc.ContainerPort)
	}

	for _, p := range []struct {
		field string
		probe *corev1.Probe
	}{
		{"readinessProbe", c.ReadinessProbe},
		{"livenessProbe", c.LivenessProbe},
	} {
		switch {
		case p.probe == nil || p.probe.TCPSocket == nil:
			t.Errorf("%s", m.agent.at("containers[agent].%s: want a tcpSocket probe", p.field))
		case p.probe.TCPSocket.Port.String() != "grpc":
			t.Errorf("%s", m.agent.at("containers[agent].%s.tcpSocket.port = %s, want grpc", p.field, p.probe.TCPSocket.Port.String()))
		}
	}

	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s", m.service.at("spec.clusterIP = %q, want None (headless: DNS names every agent)", svc.Spec.ClusterIP))
	}
	if svc.Spec.PublishNotReadyAddresses {
		t.Errorf("%s", m.service.at("spec.publishNotReadyAddresses is true: agents that are not ready would be handed work"))
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("%s", m.service.at("spec.ports: %d ports, want 1", len(svc.Spec.Ports)))
	}
	sp := svc.Spec.Ports[0]
	if sp.Name != "grpc" {
		t.Errorf("%s", m.service.at("spec.ports[0].name = %q, want grpc", sp.Name))
	}
	if tp := sp.TargetPort.String(); tp != grpc.Name && tp != strconv.Itoa(int(grpc.ContainerPort)) {
		t.Errorf("%s", m.service.at("spec.ports[0].targetPort = %s, want the agent's grpc port (%s)", tp, m.agent))
	}
	if sp.Protocol != grpc.Protocol {
		t.Errorf("%s", m.service.at("spec.ports[0].protocol = %s, agent's grpc port is %s", sp.Protocol, grpc.Protocol))
	}
	// Headless: DNS hands out pod addresses and clients dial the pod's
	// port directly, so the Service port must be the container's.
	if sp.Port != grpc.ContainerPort {
		t.Errorf("%s", m.service.at("spec.ports[0].port = %d, want the agent's containerPort %d (a headless Service maps no ports)", sp.Port, grpc.ContainerPort))
	}

	job := parseArgs(m.controller().main(t).Args)
	jwhere := m.job.at("containers[controller].args")
	want := fmt.Sprintf("dns:///%s.%s.svc.cluster.local:%d", svc.Name, svc.Namespace, grpc.ContainerPort)
	if got := job.one(t, jwhere, "--agents"); got != want {
		t.Errorf("%s: --agents %q, want %q (%s)", jwhere, got, want, m.service)
	}
}

func checkJob(t *testing.T, m *manifests) {
	j := m.batchJob()
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
		t.Errorf("%s", m.job.at("spec.backoffLimit: want 0 (a failed run is not re-run)"))
	}
	if j.Spec.TTLSecondsAfterFinished == nil || *j.Spec.TTLSecondsAfterFinished <= 0 {
		t.Errorf("%s", m.job.at("spec.ttlSecondsAfterFinished: want a positive number of seconds"))
	}
	if rp := j.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever {
		t.Errorf("%s", m.job.at("spec.template.spec.restartPolicy = %q, want Never", rp))
	}
	a := parseArgs(m.controller().main(t).Args)
	if a.cmd != "run" || len(a.positional) != 1 {
		t.Errorf("%s", m.job.at("containers[controller].args: want run SCENARIO, got %q %q", a.cmd, a.positional))
	}
	if ai, ji := m.agents().main(t).Image, m.controller().main(t).Image; ai != ji {
		t.Errorf("%s", m.job.at("containers[controller].image = %s, but the agents run %s: both ends of the stream should be one build", ji, ai))
	}
}

// checkSecurityAndResources: the namespace enforces the "restricted" Pod
// Security Standard, so a pod that breaks it would never start; and a load
// generator without requests gets no CPU it can count on.
func checkSecurityAndResources(t *testing.T, m *manifests) {
	ns, _ := m.find("Namespace", namespace)
	if ns.meta != nil && ns.meta.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("%s", ns.at("metadata.labels[pod-security.kubernetes.io/enforce]: want restricted"))
	}
	for _, p := range m.pods() {
		ps := p.spec.Spec.SecurityContext
		for _, c := range p.spec.Spec.Containers {
			at := func(field string, a ...any) string {
				return p.owner.at("containers[%s]."+field, append([]any{c.Name}, a...)...)
			}
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s", at("securityContext: missing"))
				continue
			}
			nonRoot := sc.RunAsNonRoot
			if nonRoot == nil && ps != nil {
				nonRoot = ps.RunAsNonRoot
			}
			seccomp := sc.SeccompProfile
			if seccomp == nil && ps != nil {
				seccomp = ps.SeccompProfile
			}
			for _, check := range []struct {
				ok    bool
				field string
			}{
				{nonRoot != nil && *nonRoot, "securityContext.runAsNonRoot (or the pod's): want true"},
				{sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "securityContext.readOnlyRootFilesystem: want true"},
				{sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "securityContext.allowPrivilegeEscalation: want false"},
				{sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL") && len(sc.Capabilities.Add) == 0,
					"securityContext.capabilities: want drop [ALL] and nothing added"},
				{seccomp != nil && seccomp.Type == corev1.SeccompProfileTypeRuntimeDefault,
					"securityContext.seccompProfile (or the pod's): want RuntimeDefault"},
			} {
				if !check.ok {
					t.Errorf("%s", at(check.field))
				}
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[r]
				lim, hasLim := c.Resources.Limits[r]
				switch {
				case !hasReq || !hasLim:
					t.Errorf("%s", at("resources: want requests and limits for %s", r))
				case req.Cmp(lim) > 0:
					t.Errorf("%s", at("resources.requests[%s] %s is above limits[%s] %s", r, req.String(), r, lim.String()))
				}
			}
		}
	}
}

// checkScenario parses the ConfigMap's scenario as coldbench would, and
// checks that the agents' --allow-target lets its target through.
func checkScenario(t *testing.T, m *manifests) {
	cm := m.configMap()
	where := m.scenario.at("data[%s]", scenarioKey)
	data, ok := cm.Data[scenarioKey]
	if !ok {
		t.Fatalf("%s: missing", where)
	}
	s, err := scenarios.Parse(where, []byte(data))
	if err != nil {
		t.Fatalf("%v", err)
	}
	if s.Target.Driver != "http" {
		t.Fatalf("%s: target.driver = %q, want http", where, s.Target.Driver)
	}
	cfg, ok := s.Target.Config.(*httpdriver.Config)
	if !ok {
		t.Fatalf("%s: target config is %T, want *http.Config", where, s.Target.Config)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatalf("%s: target.url: %v", where, err)
	}

	// Patterns are taken as host globs; a plain host matches itself.
	allow := parseArgs(m.agents().main(t).Args).flags["--allow-target"]
	if len(allow) == 0 {
		t.Fatalf("%s", m.agent.at("containers[agent].args: no --allow-target: the agent would send anywhere"))
	}
	if !slices.ContainsFunc(allow, func(p string) bool { ok, _ := path.Match(p, u.Hostname()); return ok }) {
		t.Errorf("%s", m.agent.at("containers[agent].args --allow-target %q: none matches the scenario's target host %q (%s)", allow, u.Hostname(), where))
	}
}

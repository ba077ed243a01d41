package k8s_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/coldbench/coldbench/scenarios"
)

// selects reports whether sel matches exactly the pods labelled want
// among the agent and controller pods: it selects want's pods and not
// the others.
func selects(t *testing.T, sel *metav1.LabelSelector, want map[string]string, others ...map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	if !s.Matches(labels.Set(want)) {
		return false
	}
	for _, o := range others {
		if s.Matches(labels.Set(o)) {
			return false
		}
	}
	return true
}

// checkDeadline: the Job has an activeDeadlineSeconds, longer than its
// scenario lasts (with room for start-up), so a stuck run is stopped and
// a sound one is not.
func checkDeadline(t *testing.T, m *manifests) {
	j := m.batchJob()
	if j.Spec.ActiveDeadlineSeconds == nil {
		t.Fatalf("%s", m.job.at("spec.activeDeadlineSeconds: missing (a stuck run would hold its pod for ever)"))
	}
	deadline := time.Duration(*j.Spec.ActiveDeadlineSeconds) * time.Second
	s, err := scenarios.Parse("scenario", []byte(m.configMap().Data[scenarioKey]))
	if err != nil {
		t.Fatal(err)
	}
	var length time.Duration
	for _, ph := range s.Phases {
		d := time.Duration(ph.Duration)
		if d == 0 {
			for _, st := range ph.Steps {
				d += time.Duration(st.Duration)
			}
		}
		length += d
	}
	if length == 0 || deadline < length+5*time.Minute {
		t.Errorf("%s", m.job.at("spec.activeDeadlineSeconds %v: the scenario lasts %v; want at least 5 minutes more", deadline, length))
	}
}

// checkDisruptionBudget: a PodDisruptionBudget covers exactly the agent
// pods and lets a drain take one at a time.
func checkDisruptionBudget(t *testing.T, m *manifests) {
	var found bool
	for _, o := range m.objects {
		pdb, ok := o.obj.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		found = true
		if !selects(t, pdb.Spec.Selector, m.agentPod().Labels, m.jobPod().Labels) {
			t.Errorf("%s", o.at("spec.selector %v: want the agent pods, only them", pdb.Spec.Selector))
		}
		if mu := pdb.Spec.MaxUnavailable; mu == nil || mu.Type != intstr.Int || mu.IntVal != 1 || pdb.Spec.MinAvailable != nil {
			t.Errorf("%s", o.at("spec: want maxUnavailable 1 (drains take one agent at a time, and are never blocked)"))
		}
	}
	if !found {
		t.Error("no PodDisruptionBudget for the agents")
	}
}

// checkNetworkPolicy: a NetworkPolicy on the agent pods admits ingress
// only from the controller pods, only to the agents' gRPC port.
func checkNetworkPolicy(t *testing.T, m *manifests) {
	var np *networkingv1.NetworkPolicy
	var o object
	for _, x := range m.objects {
		if p, ok := x.obj.(*networkingv1.NetworkPolicy); ok {
			np, o = p, x
		}
	}
	if np == nil {
		t.Fatal("no NetworkPolicy for the agents")
	}
	if !selects(t, &np.Spec.PodSelector, m.agentPod().Labels, m.jobPod().Labels) {
		t.Errorf("%s", o.at("spec.podSelector %v: want the agent pods, only them", np.Spec.PodSelector))
	}
	if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("%s", o.at("spec.policyTypes %v: want [Ingress]", np.Spec.PolicyTypes))
	}
	grpc := m.agents().main(t).Ports[0]
	if len(np.Spec.Ingress) != 1 {
		t.Fatalf("%s", o.at("spec.ingress: %d rules, want one (from the controller)", len(np.Spec.Ingress)))
	}
	rule := np.Spec.Ingress[0]
	if len(rule.From) != 1 || rule.From[0].PodSelector == nil || rule.From[0].NamespaceSelector != nil || rule.From[0].IPBlock != nil ||
		!selects(t, rule.From[0].PodSelector, m.jobPod().Labels, m.agentPod().Labels) {
		t.Errorf("%s", o.at("spec.ingress[0].from %v: want the controller pods of this namespace, only them", rule.From))
	}
	if len(rule.Ports) != 1 || rule.Ports[0].Port == nil ||
		(rule.Ports[0].Port.String() != grpc.Name && rule.Ports[0].Port.IntValue() != int(grpc.ContainerPort)) {
		t.Errorf("%s", o.at("spec.ingress[0].ports %v: want the agents' port %s (%d) only", rule.Ports, grpc.Name, grpc.ContainerPort))
	}
}

// checkControllerMetrics: the controller serves Prometheus metrics on
// the port it declares, lingering after the run for a last scrape, and a
// Service points at that port of the controller pods.
func checkControllerMetrics(t *testing.T, m *manifests) {
	c := m.controller().main(t)
	where := m.job.at("containers[controller]")
	listen := parseArgs(c.Args).one(t, where+".args", "--metrics-listen")
	if parseArgs(c.Args).one(t, where+".args", "--metrics-linger") == "" {
		return
	}
	var port int32
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			port = p.ContainerPort
		}
	}
	if port == 0 || !strings.HasSuffix(listen, ":"+strconv.Itoa(int(port))) {
		t.Fatalf("%s: --metrics-listen %q and the container port named metrics (%d) disagree", where, listen, port)
	}
	var found bool
	for _, o := range m.objects {
		if o.kind != "Service" || o.meta.GetName() == agentName {
			continue
		}
		svc := o.obj.(*corev1.Service)
		if !selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, m.jobPod().Labels, m.agentPod().Labels) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.String() == "metrics" || p.TargetPort.IntValue() == int(port) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no Service selects the controller pods' metrics port")
	}
}

// checkImage: every container names the image without a tag, and
// kustomization.yaml's images: gives the one tag.
func checkImage(t *testing.T, m *manifests) {
	if len(m.kust.Images) != 1 || m.kust.Images[0].NewTag == "" && m.kust.Images[0].Digest == "" {
		t.Fatalf("kustomization.yaml: images %+v: want one entry with the tag (or digest) every pod runs", m.kust.Images)
	}
	name := m.kust.Images[0].Name
	for _, p := range m.pods() {
		if img := p.main(t).Image; img != name {
			t.Errorf("%s", p.owner.at("containers[%s].image %q: want %q, the tag left to kustomization.yaml", p.container, img, name))
		}
	}
	if !strings.Contains(m.readme, "make image") {
		t.Error("README.md does not say how to build the image (make image)")
	}
}

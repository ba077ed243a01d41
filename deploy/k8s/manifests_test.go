// Package k8s_test checks the Kubernetes manifests in this directory without
// a cluster: every document decodes strictly into the k8s.io/api types (a
// misspelt field fails), and the names, labels, ports, mounts and paths that
// tie the agents, their Service and the controller Job together agree.
package k8s_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The names the manifests, the README and the coldbench flags agree on.
const (
	namespace     = "coldbench"
	agentName     = "coldbench-agent" // the Deployment and its headless Service
	scenarioName  = "coldbench-scenario"
	scenarioKey   = "scenario.yaml"
	resultsName   = "coldbench-results"
	jobName       = "coldbench-run"
	agentTLS      = "coldbench-agent-tls"
	controllerTLS = "coldbench-controller-tls"
)

// externalSecrets are made by hand with kubectl, never kept in the
// manifests (they hold private keys): README.md must show how, with these
// keys.
var externalSecrets = map[string][]string{
	agentTLS:      {"ca.crt", "tls.crt", "tls.key"},
	controllerTLS: {"ca.crt", "tls.crt", "tls.key"},
}

// object is one decoded manifest document.
type object struct {
	file string
	doc  int // 1-based document number within the file
	kind string
	obj  runtime.Object
	meta metav1.Object
}

func (o object) String() string {
	return fmt.Sprintf("%s (document %d): %s %s", o.file, o.doc, o.kind, o.meta.GetName())
}

// at names a field of the object in an error message.
func (o object) at(field string, a ...any) string {
	return o.String() + ": " + fmt.Sprintf(field, a...)
}

// kustomization is the part of kustomization.yaml these manifests use;
// decoded strictly, so a field it does not name fails the test.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
		Digest  string `json:"digest"`
	} `json:"images"`
}

// manifests is everything in the directory, with the objects the checks
// are about picked out.
type manifests struct {
	objects []object
	files   []string // every *.yaml but kustomization.yaml
	kust    kustomization
	readme  string

	agent, service, scenario, results, job object
}

var decoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}()

// decodeDocs decodes every document of one file strictly into its typed
// k8s.io/api struct: unknown or duplicate fields, wrong types and unknown
// kinds are errors.
func decodeDocs(file string, data []byte) ([]object, error) {
	var objs []object
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s (document %d): %w", file, n, err)
		}
		if j, err := k8syaml.ToJSON(doc); err == nil && string(j) == "null" {
			n-- // only comments
			continue
		}
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s (document %d): %w", file, n, err)
		}
		meta, ok := obj.(metav1.Object)
		if !ok {
			return nil, fmt.Errorf("%s (document %d): %s has no object metadata", file, n, gvk.Kind)
		}
		objs = append(objs, object{file: file, doc: n, kind: gvk.Kind, obj: obj, meta: meta})
	}
}

func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{}
	paths, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if p == "kustomization.yaml" {
			if err := k8syaml.UnmarshalStrict(data, &m.kust); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			continue
		}
		m.files = append(m.files, p)
		objs, err := decodeDocs(p, data)
		if err != nil {
			t.Fatal(err)
		}
		m.objects = append(m.objects, objs...)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m.readme = string(readme)

	for _, want := range []struct {
		dst        *object
		kind, name string
	}{
		{&m.agent, "Deployment", agentName},
		{&m.service, "Service", agentName},
		{&m.scenario, "ConfigMap", scenarioName},
		{&m.results, "PersistentVolumeClaim", resultsName},
		{&m.job, "Job", jobName},
	} {
		o, ok := m.find(want.kind, want.name)
		if !ok {
			t.Fatalf("no %s %s in %s", want.kind, want.name, strings.Join(m.files, ", "))
		}
		*want.dst = o
	}
	return m
}

func (m *manifests) find(kind, name string) (object, bool) {
	for _, o := range m.objects {
		if o.kind == kind && o.meta.GetName() == name {
			return o, true
		}
	}
	return object{}, false
}

func (m *manifests) deployment() *appsv1.Deployment    { return m.agent.obj.(*appsv1.Deployment) }
func (m *manifests) svc() *corev1.Service              { return m.service.obj.(*corev1.Service) }
func (m *manifests) configMap() *corev1.ConfigMap      { return m.scenario.obj.(*corev1.ConfigMap) }
func (m *manifests) batchJob() *batchv1.Job            { return m.job.obj.(*batchv1.Job) }
func (m *manifests) agentPod() *corev1.PodTemplateSpec { return &m.deployment().Spec.Template }
func (m *manifests) jobPod() *corev1.PodTemplateSpec   { return &m.batchJob().Spec.Template }

// pod is one pod template and the object that holds it.
type pod struct {
	owner     object
	spec      *corev1.PodTemplateSpec
	container string
}

func (m *manifests) agents() pod     { return pod{m.agent, m.agentPod(), "agent"} }
func (m *manifests) controller() pod { return pod{m.job, m.jobPod(), "controller"} }
func (m *manifests) pods() []pod     { return []pod{m.agents(), m.controller()} }

// main returns the pod's one named container.
func (p pod) main(t *testing.T) *corev1.Container {
	t.Helper()
	for i := range p.spec.Spec.Containers {
		if c := &p.spec.Spec.Containers[i]; c.Name == p.container {
			return c
		}
	}
	t.Fatalf("%s", p.owner.at("spec.template.spec.containers: no container %q", p.container))
	return nil
}

// args is a container's argument list: a subcommand, positional arguments
// and --flag value (or --flag=value) pairs; flags may repeat.
type args struct {
	cmd        string
	positional []string
	flags      map[string][]string
}

func parseArgs(list []string) args {
	a := args{flags: map[string][]string{}}
	for i := 0; i < len(list); i++ {
		s := list[i]
		switch {
		case !strings.HasPrefix(s, "-") && a.cmd == "":
			a.cmd = s
		case !strings.HasPrefix(s, "-"):
			a.positional = append(a.positional, s)
		case strings.Contains(s, "="):
			k, v, _ := strings.Cut(s, "=")
			a.flags[k] = append(a.flags[k], v)
		case i+1 < len(list) && !strings.HasPrefix(list[i+1], "-"):
			a.flags[s] = append(a.flags[s], list[i+1])
			i++
		default:
			a.flags[s] = append(a.flags[s], "true")
		}
	}
	return a
}

// one returns the single value of a flag, failing when it is absent or
// given more than once.
func (a args) one(t *testing.T, where, flag string) string {
	t.Helper()
	switch v := a.flags[flag]; len(v) {
	case 1:
		return v[0]
	case 0:
		t.Errorf("%s: no %s", where, flag)
	default:
		t.Errorf("%s: %s given %d times", where, flag, len(v))
	}
	return ""
}

// TestManifests loads the directory once and runs every cross-check on it;
// each failure names the file, the object and the field.
func TestManifests(t *testing.T) {
	m := load(t)
	for _, tc := range []struct {
		name  string
		check func(*testing.T, *manifests)
	}{
		{"kustomization", checkKustomization},   // lists every manifest, and only those
		{"namespace", checkNamespace},           // one namespace for all
		{"labels", checkLabelsAndSelectors},     // Service and Deployment select the agent pods, only them
		{"ports", checkPortsAndService},         // --listen, container port, probes, Service, --agents agree
		{"job", checkJob},                       // runs once, cleans up, same image as the agents
		{"mounts", checkMounts},                 // volumes exist, args paths lie under the right mounts
		{"security", checkSecurityAndResources}, // restricted Pod Security, requests and limits
		{"scenario", checkScenario},             // the ConfigMap's scenario parses; agents allow its target
		{"deadline", checkDeadline},             // the Job is stopped when stuck, not before the scenario ends
		{"disruption", checkDisruptionBudget},   // agents are drained one at a time
		{"network", checkNetworkPolicy},         // only the controller reaches the agents' port
		{"metrics", checkControllerMetrics},     // the controller's /metrics is exposed, port and Service agree
		{"image", checkImage},                   // the image's tag comes from kustomization.yaml only
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, m) })
	}
}

// TestStrictDecoding makes sure the decoder the other tests rely on does
// fail on the mistakes it is there to catch.
func TestStrictDecoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
	}{
		// a misspelt field deep in a pod template
		{"typo", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      contianers: []\n"},
		// a field given twice: the second would silently win
		{"duplicate", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIP: None, clusterIP: 10.0.0.1}\n"},
		// a wrong type
		{"type", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: grpc}]}\n"},
		// a kind the test does not know cannot be checked
		{"kind", "apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n"},
	} {
		if _, err := decodeDocs(tc.name+".yaml", []byte(tc.doc)); err == nil {
			t.Errorf("%s: decoded without error:\n%s", tc.name, tc.doc)
		}
	}
}

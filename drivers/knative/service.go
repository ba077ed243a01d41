package knative

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Knative Serving resources the driver reads and writes.
var (
	// ServicesResource is serving.knative.dev/v1 services.
	ServicesResource = schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "services"}
	// RevisionsResource is serving.knative.dev/v1 revisions.
	RevisionsResource = schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "revisions"}
)

// Annotations and labels of Knative Serving, and coldbench's own.
const (
	// AnnotationMinScale keeps a minimum number of pods per revision.
	AnnotationMinScale = "autoscaling.knative.dev/min-scale"
	// annotationMinScaleOld is the deprecated spelling, still honoured.
	annotationMinScaleOld = "autoscaling.knative.dev/minScale"
	// AnnotationNonce is set by ForceCold to roll a new revision.
	AnnotationNonce = "coldbench.dev/force-cold"
	// LabelService is set by Knative on a Service's revisions.
	LabelService = "serving.knative.dev/service"
)

// templateAnnotations are spec.template.metadata.annotations.
func templateAnnotations(svc *unstructured.Unstructured) map[string]string {
	m, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "template", "metadata", "annotations")
	return m
}

// setTemplateAnnotation sets (or, with ok false, removes) one annotation of
// the revision template.
func setTemplateAnnotation(svc *unstructured.Unstructured, key, value string, ok bool) error {
	m := templateAnnotations(svc)
	if m == nil {
		m = map[string]string{}
	}
	if ok {
		m[key] = value
	} else {
		delete(m, key)
	}
	if len(m) == 0 {
		unstructured.RemoveNestedField(svc.Object, "spec", "template", "metadata", "annotations")
		return nil
	}
	return unstructured.SetNestedStringMap(svc.Object, m, "spec", "template", "metadata", "annotations")
}

// minScale reads the min-scale annotation from annotations; 0 when absent.
func minScale(annotations map[string]string) int {
	v, ok := annotations[AnnotationMinScale]
	if !ok {
		v = annotations[annotationMinScaleOld]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// containerMemory reads the first container's memory limit and request;
// has tells which are set.
func containerMemory(svc *unstructured.Unstructured) (limit, request string, hasLimit, hasRequest bool) {
	cs, _, _ := unstructured.NestedSlice(svc.Object, "spec", "template", "spec", "containers")
	if len(cs) == 0 {
		return "", "", false, false
	}
	c, _ := cs[0].(map[string]any)
	limit, hasLimit, _ = unstructured.NestedString(c, "resources", "limits", "memory")
	request, hasRequest, _ = unstructured.NestedString(c, "resources", "requests", "memory")
	return limit, request, hasLimit, hasRequest
}

// setContainerMemory sets (or removes) the first container's memory limit
// and request.
func setContainerMemory(svc *unstructured.Unstructured, limit, request string, hasLimit, hasRequest bool) error {
	cs, _, err := unstructured.NestedSlice(svc.Object, "spec", "template", "spec", "containers")
	if err != nil || len(cs) == 0 {
		return fmt.Errorf("spec.template.spec.containers: no container to size")
	}
	c, ok := cs[0].(map[string]any)
	if !ok {
		return fmt.Errorf("spec.template.spec.containers[0] is not an object")
	}
	for _, f := range []struct {
		kind, value string
		set         bool
	}{{"limits", limit, hasLimit}, {"requests", request, hasRequest}} {
		if f.set {
			if err := unstructured.SetNestedField(c, f.value, "resources", f.kind, "memory"); err != nil {
				return err
			}
			continue
		}
		unstructured.RemoveNestedField(c, "resources", f.kind, "memory")
		if m, _, _ := unstructured.NestedMap(c, "resources", f.kind); len(m) == 0 {
			unstructured.RemoveNestedField(c, "resources", f.kind)
		}
	}
	if m, _, _ := unstructured.NestedMap(c, "resources"); len(m) == 0 {
		unstructured.RemoveNestedField(c, "resources")
	}
	cs[0] = c
	return unstructured.SetNestedSlice(svc.Object, cs, "spec", "template", "spec", "containers")
}

// memoryMiB reads a Kubernetes quantity as MiB, rounded; 0 when it does not
// parse.
func memoryMiB(s string) int {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0
	}
	return int((q.Value() + 1<<19) >> 20)
}

// serviceState is what the Service's status says about its rollout.
type serviceState struct {
	Generation, Observed int64
	LatestReady, Created string
	URL                  string
	Ready                string // the Ready condition's status: "True", "False", "Unknown" or ""
	Reason, Message      string // the Ready condition's, when it is not True
}

func stateOf(svc *unstructured.Unstructured) serviceState {
	st := serviceState{Generation: svc.GetGeneration()}
	st.Observed, _, _ = unstructured.NestedInt64(svc.Object, "status", "observedGeneration")
	st.LatestReady, _, _ = unstructured.NestedString(svc.Object, "status", "latestReadyRevisionName")
	st.Created, _, _ = unstructured.NestedString(svc.Object, "status", "latestCreatedRevisionName")
	st.URL, _, _ = unstructured.NestedString(svc.Object, "status", "url")
	conds, _, _ := unstructured.NestedSlice(svc.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != "Ready" {
			continue
		}
		st.Ready, _ = m["status"].(string)
		st.Reason, _ = m["reason"].(string)
		st.Message, _ = m["message"].(string)
	}
	return st
}

// rolledOut reports whether the Service's latest generation is observed,
// ready, and served by its latest revision.
func (st serviceState) rolledOut(gen int64) bool {
	return st.Observed >= gen && st.Ready == "True" && st.LatestReady != "" && st.LatestReady == st.Created
}

// failed reports whether the controller gave up on generation gen.
func (st serviceState) failed(gen int64) bool {
	return st.Observed >= gen && st.Ready == "False"
}

func (st serviceState) String() string {
	s := fmt.Sprintf("generation %d observed %d, Ready=%s, latest created %q ready %q", st.Generation, st.Observed, st.Ready, st.Created, st.LatestReady)
	if st.Reason != "" {
		s += ": " + st.Reason
	}
	if st.Message != "" {
		s += ": " + st.Message
	}
	return s
}

// actualReplicas reads a ready revision's status.actualReplicas; ok is
// false when the revision is not Ready yet (its count may still be the one
// from before its pods started) or the field is absent (an older Knative).
func actualReplicas(rev *unstructured.Unstructured) (n int, ok bool) {
	if !conditionTrue(rev, "Ready") {
		return 0, false
	}
	v, ok, _ := unstructured.NestedFieldNoCopy(rev.Object, "status", "actualReplicas")
	switch x := v.(type) {
	case int64:
		return int(x), ok
	case float64:
		return int(x), ok
	case int32:
		return int(x), ok
	case int:
		return x, ok
	}
	return 0, false
}

// conditionTrue reports whether the object's status has condition typ True.
func conditionTrue(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, _ := c.(map[string]any); m["type"] == typ {
			return m["status"] == "True"
		}
	}
	return false
}

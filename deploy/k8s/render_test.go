package k8s_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// render is `kustomize build` of this directory, with the kustomize
// library kubectl embeds, decoded strictly.
func render(t *testing.T) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeDocs("kustomize build", y)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// restricted evaluates a pod against the restricted Pod Security
// Standard, latest version, as the namespace's admission would.
func restricted(t *testing.T, tmpl *corev1.PodTemplateSpec) policy.AggregateCheckResult {
	t.Helper()
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	return policy.AggregateCheckResults(eval.EvaluatePod(lv, &tmpl.ObjectMeta, &tmpl.Spec))
}

// TestRenderedPodSecurity renders the kustomization and checks every pod
// template in the output against restricted Pod Security, and that every
// container runs the image kustomization.yaml's images: names. A control
// pod, the agent's with its security context taken away, must be refused,
// so the check can fail.
func TestRenderedPodSecurity(t *testing.T) {
	t.Parallel()
	m := load(t)
	objs := render(t)
	wantImage := m.kust.Images[0].Name + ":" + m.kust.Images[0].NewTag
	var pods int
	for _, o := range objs {
		var tmpl *corev1.PodTemplateSpec
		switch x := o.obj.(type) {
		case *appsv1.Deployment:
			tmpl = &x.Spec.Template
		case *batchv1.Job:
			tmpl = &x.Spec.Template
		case *corev1.Namespace:
			if x.Labels[api.EnforceLevelLabel] != string(api.LevelRestricted) {
				t.Errorf("%s: label %s = %q, want restricted", o, api.EnforceLevelLabel, x.Labels[api.EnforceLevelLabel])
			}
			continue
		default:
			if o.meta.GetNamespace() != namespace {
				t.Errorf("%s: namespace %q, want %q", o, o.meta.GetNamespace(), namespace)
			}
			continue
		}
		pods++
		if r := restricted(t, tmpl); !r.Allowed {
			t.Errorf("%s: restricted Pod Security refuses its pods: %s: %s", o, r.ForbiddenReason(), r.ForbiddenDetail())
		}
		for _, c := range tmpl.Spec.Containers {
			if c.Image != wantImage {
				t.Errorf("%s: containers[%s].image %q, want %q (kustomization.yaml images:)", o, c.Name, c.Image, wantImage)
			}
		}
	}
	if pods != 2 {
		t.Errorf("%d pod templates rendered, want the agents' and the controller's", pods)
	}

	// The control: the agent pod without any security context.
	bare := m.agentPod().DeepCopy()
	bare.Spec.SecurityContext = nil
	for i := range bare.Spec.Containers {
		bare.Spec.Containers[i].SecurityContext = nil
	}
	if r := restricted(t, bare); r.Allowed {
		t.Error("the control pod without a security context passed restricted Pod Security: the check cannot fail")
	}
}

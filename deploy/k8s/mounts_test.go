package k8s_test

import (
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkMounts checks every pod's volumes and mounts, and that every path
// given in args lies under the mount that provides it.
func checkMounts(t *testing.T, m *manifests) {
	for _, p := range m.pods() {
		t.Run(p.container, func(t *testing.T) {
			m.checkVolumes(t, p)
		})
	}

	agent := m.agents()
	ctl := m.controller()
	agentArgs := parseArgs(agent.main(t).Args)
	ctlArgs := parseArgs(ctl.main(t).Args)
	scenarioPath := ""
	if len(ctlArgs.positional) > 0 {
		scenarioPath = ctlArgs.positional[0]
	}
	for _, tc := range []struct {
		pod      pod
		arg      string // the flag, or a name for a positional argument
		value    string
		kind     string // Secret, ConfigMap or PersistentVolumeClaim
		name     string
		writable bool
	}{
		// the agent's certificates, from its Secret
		{agent, "--ca", agentArgs.one(t, "agent args", "--ca"), "Secret", agentTLS, false},
		{agent, "--cert", agentArgs.one(t, "agent args", "--cert"), "Secret", agentTLS, false},
		{agent, "--key", agentArgs.one(t, "agent args", "--key"), "Secret", agentTLS, false},
		// the controller's, from another
		{ctl, "--ca", ctlArgs.one(t, "controller args", "--ca"), "Secret", controllerTLS, false},
		{ctl, "--cert", ctlArgs.one(t, "controller args", "--cert"), "Secret", controllerTLS, false},
		{ctl, "--key", ctlArgs.one(t, "controller args", "--key"), "Secret", controllerTLS, false},
		// the scenario, a key of the ConfigMap
		{ctl, "scenario argument", scenarioPath, "ConfigMap", scenarioName, false},
		// the run directory, on the results volume
		{ctl, "--out", ctlArgs.one(t, "controller args", "--out"), "PersistentVolumeClaim", resultsName, true},
	} {
		where := tc.pod.owner.at("containers[%s].args %s %s", tc.pod.container, tc.arg, tc.value)
		c := tc.pod.main(t)
		mount, vol, rel := mountFor(c, &tc.pod.spec.Spec, tc.value)
		if mount == nil {
			t.Errorf("%s: lies under no volumeMount of a declared volume", where)
			continue
		}
		kind, name := volumeSource(vol)
		if kind != tc.kind || name != tc.name {
			t.Errorf("%s: lies under volumeMount %s (%s %s), want the %s %s", where, mount.MountPath, kind, name, tc.kind, tc.name)
			continue
		}
		if mount.ReadOnly == tc.writable {
			t.Errorf("%s: volumeMount %s readOnly = %v, want %v", where, mount.MountPath, mount.ReadOnly, !tc.writable)
		}
		if rel == "" {
			t.Errorf("%s: is the mount point %s itself, want a path under it", where, mount.MountPath)
		}
		if kind == "PersistentVolumeClaim" {
			continue
		}
		if keys := m.keys(kind, name); !keys[projectedKey(vol, rel)] {
			t.Errorf("%s: %s %s has no key %q (keys: %s)", where, kind, name, projectedKey(vol, rel), sortedKeys(keys))
		}
	}

	// $(VAR) in args is expanded only for variables the container defines.
	for _, p := range m.pods() {
		c := p.main(t)
		for i, s := range append(slices.Clone(c.Command), c.Args...) {
			for _, ref := range envRef.FindAllStringSubmatch(s, -1) {
				if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == ref[1] }) {
					t.Errorf("%s", p.owner.at("containers[%s] command/args[%d] %q: $(%s) is not in env", p.container, i, s, ref[1]))
				}
			}
		}
	}
}

// checkVolumes: every mount names a declared volume, every volume is
// mounted, and every volume's source is in the manifests or is a Secret
// that README.md shows how to make.
func (m *manifests) checkVolumes(t *testing.T, p pod) {
	spec := &p.spec.Spec
	declared := map[string]*corev1.Volume{}
	for i := range spec.Volumes {
		declared[spec.Volumes[i].Name] = &spec.Volumes[i]
	}
	mounted := map[string]bool{}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, vm := range c.VolumeMounts {
			mounted[vm.Name] = true
			if declared[vm.Name] == nil {
				t.Errorf("%s", p.owner.at("containers[%s].volumeMounts[%s]: no volume %q in spec.template.spec.volumes", c.Name, vm.MountPath, vm.Name))
			}
		}
	}
	for _, v := range spec.Volumes {
		where := p.owner.at("spec.template.spec.volumes[%s]", v.Name)
		if !mounted[v.Name] {
			t.Errorf("%s: mounted by no container", where)
		}
		if mode := fileMode(&v); mode&0o004 == 0 && !readableByGroup(mode, spec.SecurityContext) {
			t.Errorf("%s: defaultMode %#o is not world-readable and the pod sets no fsGroup: a non-root user cannot read the files", where, mode)
		}
		kind, name := volumeSource(&v)
		switch kind {
		case "EmptyDir":
			continue
		case "":
			t.Errorf("%s: a source these checks do not know; want a Secret, ConfigMap, PersistentVolumeClaim or emptyDir", where)
			continue
		}
		if _, ok := m.find(kind, name); ok {
			continue
		}
		if kind != "Secret" || externalSecrets[name] == nil {
			t.Errorf("%s: %s %s is in no manifest here", where, kind, name)
			continue
		}
		m.checkDocumented(t, where, name)
	}
}

// fileMode is the mode of the files a Secret or ConfigMap volume projects
// (0644 unless set); 0o777 for other volumes, which this does not concern.
func fileMode(v *corev1.Volume) int32 {
	var mode *int32
	switch {
	case v.Secret != nil:
		mode = v.Secret.DefaultMode
	case v.ConfigMap != nil:
		mode = v.ConfigMap.DefaultMode
	default:
		return 0o777
	}
	if mode == nil {
		return 0o644
	}
	return *mode
}

// readableByGroup: with an fsGroup the projected files belong to that group.
func readableByGroup(mode int32, ps *corev1.PodSecurityContext) bool {
	return mode&0o040 != 0 && ps != nil && ps.FSGroup != nil
}

// checkDocumented looks in README.md for the kubectl command that makes an
// external Secret, with a --from-file=KEY=... for each of its keys.
func (m *manifests) checkDocumented(t *testing.T, where, secret string) {
	cmd := "kubectl -n " + namespace + " create secret generic " + secret
	i := strings.Index(m.readme, cmd)
	if i < 0 {
		t.Errorf("%s: Secret %s is made outside the manifests, but README.md has no %q", where, secret, cmd)
		return
	}
	// The command runs on over lines that end in a backslash.
	end := i
	for {
		nl := strings.IndexByte(m.readme[end:], '\n')
		if nl < 0 {
			end = len(m.readme)
			break
		}
		end += nl
		if !strings.HasSuffix(strings.TrimRight(m.readme[:end], " "), `\`) {
			break
		}
		end++
	}
	for _, key := range externalSecrets[secret] {
		if !strings.Contains(m.readme[i:end], "--from-file="+key+"=") {
			t.Errorf("%s: README.md's %q sets no key %s (want --from-file=%s=...)", where, cmd, key, key)
		}
	}
}

// keys returns the keys a Secret or ConfigMap provides.
func (m *manifests) keys(kind, name string) map[string]bool {
	keys := map[string]bool{}
	if kind == "Secret" && externalSecrets[name] != nil {
		for _, k := range externalSecrets[name] {
			keys[k] = true
		}
		return keys
	}
	o, ok := m.find(kind, name)
	if !ok {
		return keys
	}
	switch obj := o.obj.(type) {
	case *corev1.ConfigMap:
		for k := range obj.Data {
			keys[k] = true
		}
		for k := range obj.BinaryData {
			keys[k] = true
		}
	case *corev1.Secret:
		for k := range obj.Data {
			keys[k] = true
		}
		for k := range obj.StringData {
			keys[k] = true
		}
	}
	return keys
}

// mountFor finds the volumeMount (the deepest one) that a path lies under,
// its volume, and the path relative to the mount.
func mountFor(c *corev1.Container, spec *corev1.PodSpec, p string) (*corev1.VolumeMount, *corev1.Volume, string) {
	p = path.Clean(p)
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		mp := path.Clean(vm.MountPath)
		if (p == mp || strings.HasPrefix(p, mp+"/")) && (best == nil || len(mp) > len(path.Clean(best.MountPath))) {
			best = vm
		}
	}
	if best == nil {
		return nil, nil, ""
	}
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == best.Name {
			rel := strings.TrimPrefix(strings.TrimPrefix(p, path.Clean(best.MountPath)), "/")
			return best, &spec.Volumes[i], rel
		}
	}
	return nil, nil, ""
}

// volumeSource names what backs a volume: a kind of object and its name,
// "EmptyDir", or "" for anything else.
func volumeSource(v *corev1.Volume) (kind, name string) {
	switch s := v.VolumeSource; {
	case s.Secret != nil:
		return "Secret", s.Secret.SecretName
	case s.ConfigMap != nil:
		return "ConfigMap", s.ConfigMap.Name
	case s.PersistentVolumeClaim != nil:
		return "PersistentVolumeClaim", s.PersistentVolumeClaim.ClaimName
	case s.EmptyDir != nil:
		return "EmptyDir", ""
	}
	return "", ""
}

// projectedKey is the key that the file at rel in a Secret or ConfigMap
// volume comes from: mapped by items when the volume lists them.
func projectedKey(v *corev1.Volume, rel string) string {
	var items []corev1.KeyToPath
	switch {
	case v.Secret != nil:
		items = v.Secret.Items
	case v.ConfigMap != nil:
		items = v.ConfigMap.Items
	}
	if len(items) == 0 {
		return rel
	}
	for _, it := range items {
		if it.Path == rel {
			return it.Key
		}
	}
	return "(not projected: " + rel + ")"
}

func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

package cloudrun

import (
	"encoding/json"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
)

// quantityMiB reads a Kubernetes-style quantity ("512Mi", "1Gi") as MiB,
// rounded; 0 when it does not parse.
func quantityMiB(s string) int {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0
	}
	return int((q.Value() + 1<<19) >> 20)
}

// cpuMillis reads a CPU limit ("1", "2", "1000m", "0.5") in millicores;
// Cloud Run's default of one CPU when empty or unreadable.
func cpuMillis(s string) int {
	q, err := resource.ParseQuantity(s)
	if s == "" || err != nil {
		return 1000
	}
	return int(q.MilliValue())
}

// formatCPU writes millicores as Cloud Run does: whole CPUs as a count,
// fractions in millicores.
func formatCPU(m int) string {
	if m%1000 == 0 {
		return strconv.Itoa(m / 1000)
	}
	return strconv.Itoa(m) + "m"
}

// cpuFor is the CPU limit (millicores) to run mib of memory with, starting
// from the current one: raised to the minimum Cloud Run requires for that
// much memory, or lowered to the most it allows with that little, and
// otherwise kept. The rules, from Cloud Run's memory and CPU limits:
// more than 512 MiB needs 0.5 CPU, more than 1 GiB 1, more than 4 GiB 2,
// more than 8 GiB 4, more than 16 GiB 6, more than 24 GiB 8; and 4 CPUs
// need at least 2 GiB, 6 or 8 CPUs at least 4 GiB.
func cpuFor(mib, cur int) int {
	lo := 0
	for _, r := range []struct{ above, cpu int }{{24 << 10, 8000}, {16 << 10, 6000}, {8 << 10, 4000}, {4 << 10, 2000}, {1 << 10, 1000}, {512, 500}} {
		if mib > r.above {
			lo = r.cpu
			break
		}
	}
	hi := 8000
	switch {
	case mib < 2<<10:
		hi = 2000
	case mib < 4<<10:
		hi = 4000
	}
	return min(max(cur, lo), hi)
}

// sizeContainer sets the memory limit of the first of a template's raw
// containers, and its CPU limit where the memory needs another one.
func sizeContainer(containers []any, mib int) error {
	if len(containers) == 0 {
		return fmt.Errorf("template.containers: no container to size")
	}
	c, ok := containers[0].(map[string]any)
	if !ok {
		return fmt.Errorf("template.containers[0] is not an object")
	}
	res, _ := c["resources"].(map[string]any)
	if res == nil {
		res = map[string]any{}
		c["resources"] = res
	}
	limits, _ := res["limits"].(map[string]any)
	if limits == nil {
		limits = map[string]any{}
		res["limits"] = limits
	}
	limits["memory"] = strconv.Itoa(mib) + "Mi"
	cpu, _ := limits["cpu"].(string)
	if cur, want := cpuMillis(cpu), cpuFor(mib, cpuMillis(cpu)); want != cur {
		limits["cpu"] = formatCPU(want)
	}
	return nil
}

// templateField returns a deep copy of template.<field> from a raw service.
func templateField(raw map[string]any, field string) any {
	t, _ := raw["template"].(map[string]any)
	v, ok := t[field]
	if !ok {
		return nil
	}
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

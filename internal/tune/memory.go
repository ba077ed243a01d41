package tune

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/coldbench/coldbench/results"
)

// memoryNote says how much memory the winner w used and how much headroom
// that leaves, and which smaller swept sizes would not fit: memory
// headroom decides how far down memory can go. A smaller size does not
// fit when its own requests used all of it (a platform caps what it
// reports at the size, where a real function runs out of memory), or,
// when the platform reported nothing there, when w used more than it.
// Empty when the platform reported no memory used at w.
func memoryNote(w *results.TuneSetting, all []*results.TuneSetting) string {
	if w.MaxMemoryUsedMB <= 0 || w.MemoryMB <= 0 {
		return ""
	}
	s := fmt.Sprintf("At %s it used %d MB of %d MB (%.0f%% headroom)", label(w), w.MaxMemoryUsedMB, w.MemoryMB, 100*w.MemoryHeadroom)
	used := map[int]int{} // memory size → the most used at it; 0 when not reported
	for _, ts := range all {
		used[ts.MemoryMB] = max(used[ts.MemoryMB], ts.MaxMemoryUsedMB)
	}
	var tooSmall []string
	for _, size := range slices.Sorted(maps.Keys(used)) {
		u := used[size]
		if size < w.MemoryMB && (u >= size || (u == 0 && w.MaxMemoryUsedMB > size)) {
			tooSmall = append(tooSmall, fmt.Sprintf("%d MB", size))
		}
	}
	if len(tooSmall) > 0 {
		s += "; it would not fit in " + strings.Join(tooSmall, " or ")
	}
	return s + "."
}

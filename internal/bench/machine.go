package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine is what the numbers were measured on.
type Machine struct {
	Cores     int       `json:"cores"`
	CPU       string    `json:"cpu"`
	Go        string    `json:"go"`
	Date      time.Time `json:"date"`
	LoadStart string    `json:"load_start"` // /proc/loadavg's 1, 5 and 15 minute averages
	LoadEnd   string    `json:"load_end"`
	Vegeta    string    `json:"vegeta"`
	Wrk       string    `json:"wrk"`
}

// ThisMachine describes the machine the benchmark runs on.
func ThisMachine(wrkBin string) Machine {
	return Machine{
		Cores:     runtime.NumCPU(),
		CPU:       cpuModel(),
		Go:        runtime.Version(),
		Date:      time.Now().UTC().Truncate(time.Second),
		LoadStart: LoadAvg(),
		Vegeta:    VegetaVersion,
		Wrk:       firstLine(wrkBin, "-v"),
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// LoadAvg is the 1, 5 and 15 minute load averages.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// firstLine is the first line a tool prints about its version (wrk prints
// it and exits non-zero).
func firstLine(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

package results

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// ReadProcMemory reads /proc/PID/status (pid 0: this process).
func ReadProcMemory(pid int) (ProcMemory, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ProcMemory{}, err
	}
	return parseProcStatus(path, b)
}

// parseProcStatus reads the lines "VmRSS:    1234 kB" it needs. A zombie
// has none of them: that is an error, not a process of zero bytes.
func parseProcStatus(path string, b []byte) (ProcMemory, error) {
	var m ProcMemory
	fields := map[string]*int64{"VmRSS:": &m.RSS, "VmHWM:": &m.HWM, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	found := 0
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		f := bytes.Fields(line)
		if len(f) != 3 || string(f[2]) != "kB" {
			continue
		}
		p, ok := fields[string(f[0])]
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			return ProcMemory{}, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		*p = kb << 10
		found++
	}
	if found != len(fields) {
		return ProcMemory{}, fmt.Errorf("%s: no VmRSS, VmHWM, RssAnon and RssFile (process gone?)", path)
	}
	return m, nil
}

package results

import "testing"

// TestParseProcStatus: the four lines are read in bytes; a zombie's
// status, without them, is an error rather than a process of 0 bytes.
func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, status string
		want         ProcMemory
		err          bool
	}{
		// A live process, with the lines around the ones read.
		{"live", "Name:\tcoldbench\nVmHWM:\t   80000 kB\nVmRSS:\t   70000 kB\nRssAnon:\t   30000 kB\nRssFile:\t   40000 kB\nRssShmem:\t       0 kB\nThreads:\t8\n",
			ProcMemory{RSS: 70000 << 10, HWM: 80000 << 10, Anon: 30000 << 10, File: 40000 << 10}, false},
		// A zombie: no memory lines at all.
		{"zombie", "Name:\tvegeta\nState:\tZ (zombie)\nThreads:\t1\n", ProcMemory{}, true},
		// A garbled number.
		{"garbled", "VmHWM:\t x kB\nVmRSS:\t 1 kB\nRssAnon:\t 1 kB\nRssFile:\t 1 kB\n", ProcMemory{}, true},
	} {
		got, err := parseProcStatus("status", []byte(tc.status))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

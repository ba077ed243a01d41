package replay

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// azure is a small invocation-count file of three minutes.
const azure = `HashOwner,HashApp,HashFunction,Trigger,1,2,3
o1,a1,f1,http,3,0,1
o1,a1,f2,timer,1,1,1
o2,a2,f3,queue,0,9,0
o2,a2,f4,http,2,2,0
`

func hashes(t *Trace) []string {
	var out []string
	for _, f := range t.Functions {
		out = append(out, f.Hash)
	}
	return out
}

func TestReadAzure(t *testing.T) {
	tests := []struct {
		name   string
		sel    Select
		want   []string   // hashes kept, in order
		counts [][]uint32 // their counts
	}{
		// No selection keeps every row, in file order.
		{"all", Select{}, []string{"f1", "f2", "f3", "f4"}, [][]uint32{{3, 0, 1}, {1, 1, 1}, {0, 9, 0}, {2, 2, 0}}},
		// By hash: the rows listed, in file order.
		{"hashes", Select{Hashes: []string{"f4", "f2"}}, []string{"f2", "f4"}, [][]uint32{{1, 1, 1}, {2, 2, 0}}},
		// Top 2 by total: f3 (9), then f1 and f4 tie at 4 and f1 is earlier.
		{"top", Select{Top: 2}, []string{"f3", "f1"}, [][]uint32{{0, 9, 0}, {3, 0, 1}}},
		// Rank 3 is the third busiest: f4 (tied with f1, later in the file).
		{"rank", Select{Rank: 3}, []string{"f4"}, [][]uint32{{2, 2, 0}}},
		// Top counts over the minutes kept: in minute 1 alone f1 leads.
		{"top in a window", Select{Top: 1, Start: 1, End: 1}, []string{"f1"}, [][]uint32{{3}}},
		// A window keeps only its minutes.
		{"window", Select{Hashes: []string{"f3"}, Start: 2, End: 3}, []string{"f3"}, [][]uint32{{9, 0}}},
		// Top beyond the row count keeps them all, busiest first.
		{"top 10", Select{Top: 10}, []string{"f3", "f1", "f4", "f2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ReadAzure("inv.csv", strings.NewReader(azure), tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := hashes(tr); !slices.Equal(got, tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
			for i, c := range tt.counts {
				if !slices.Equal(tr.Functions[i].Counts, c) {
					t.Errorf("%s: counts %v, want %v", tt.want[i], tr.Functions[i].Counts, c)
				}
			}
			if tr.Minutes != 3 || tr.Rows != 4 {
				t.Errorf("minutes %d rows %d, want 3 and 4", tr.Minutes, tr.Rows)
			}
		})
	}
}

func TestReadAzureErrors(t *testing.T) {
	const head = "HashOwner,HashApp,HashFunction,Trigger,1,2\n"
	tests := []struct {
		name, text string
		sel        Select
		want       string // the whole error
	}{
		// A count that is not a number names its line, column and minute.
		{"bad count", head + "o,a,f,http,1,x\n", Select{}, `inv.csv:2: column 6 (minute 2): invalid count "x": want a whole number of invocations`},
		// A negative count is not a count.
		{"negative", head + "o,a,f,http,1,2\no,a,g,http,-1,2\n", Select{}, `inv.csv:3: column 5 (minute 1): invalid count "-1": want a whole number of invocations`},
		// A short row is an error, not skipped.
		{"short row", head + "o,a,f,http,1\n", Select{}, "inv.csv:2: 5 columns, but the header has 6"},
		// An empty count is malformed too.
		{"empty count", head + "o,a,f,http,,1\n", Select{}, `inv.csv:2: column 5 (minute 1): invalid count "": want a whole number of invocations`},
		// The function hash is required.
		{"no hash", head + "o,a,,http,1,1\n", Select{}, "inv.csv:2: column 3 (HashFunction): empty function hash"},
		// The header must be the Azure one.
		{"header", "Owner,HashApp,HashFunction,Trigger,1\n", Select{}, `inv.csv:1: column 1: header says "Owner", want "HashOwner" (an Azure Functions invocation-count file starts HashOwner,HashApp,HashFunction,Trigger,1,2,…)`},
		// Minutes are numbered from 1 without gaps.
		{"minute gap", "HashOwner,HashApp,HashFunction,Trigger,1,3\n", Select{}, `inv.csv:1: column 6: header says "3", want minute 2`},
		// No minute columns at all.
		{"no minutes", "HashOwner,HashApp,HashFunction,Trigger\n", Select{}, "inv.csv:1: no minute columns after HashOwner,HashApp,HashFunction,Trigger"},
		// A CSV syntax error keeps encoding/csv's line and column.
		{"quote", head + "o,a,\"f,http,1,1\n", Select{}, "inv.csv:2: byte 17 of the line: extraneous or missing \" in quoted-field"},
		// An end beyond the file's minutes.
		{"end", head + "o,a,f,http,1,1\n", Select{End: 3}, "inv.csv:1: header: the trace has 2 minutes; minute 3 is beyond it"},
		// A hash that is not in the file.
		{"missing hash", head + "o,a,f,http,1,1\n", Select{Hashes: []string{"g"}}, `inv.csv: no function with hash "g"`},
		// A rank beyond the functions in the file.
		{"rank", head + "o,a,f,http,1,1\n", Select{Rank: 2}, "inv.csv: rank 2 asked for, but the trace has 1 functions"},
		// Only a header.
		{"no rows", head, Select{}, "inv.csv: no functions: the file has a header and no rows"},
		{"empty", "", Select{}, "inv.csv:1: empty file: want the header HashOwner,HashApp,HashFunction,Trigger,1,2,…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAzure("inv.csv", strings.NewReader(tt.text), tt.sel)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *replay.Error", err)
			}
		})
	}
}

// FuzzAzureTrace: ReadAzure never panics; what it accepts has the minutes
// asked for, and each kept row's total is the sum of its counts. The seed
// corpus is in testdata/fuzz/FuzzAzureTrace.
func FuzzAzureTrace(f *testing.F) {
	f.Add([]byte(azure), 0, 0, 0)
	f.Add([]byte(azure), 2, 2, 3)
	f.Fuzz(func(t *testing.T, data []byte, top, start, end int) {
		sel := Select{Top: top % 8, Start: start % 8, End: end % 8}
		if sel.Top < 0 || sel.Start < 0 || sel.End < 0 {
			return
		}
		tr, err := ReadAzure("fuzz.csv", strings.NewReader(string(data)), sel)
		if err != nil {
			var re *Error
			if errors.As(err, &re) && re.File != "fuzz.csv" {
				t.Fatalf("error names %q", re.File)
			}
			return
		}
		if len(tr.Functions) == 0 || tr.Start < 1 || tr.End > tr.Minutes || tr.Start > tr.End {
			t.Fatalf("accepted %+v", tr)
		}
		for _, fn := range tr.Functions {
			var sum uint64
			for _, c := range fn.Counts {
				sum += uint64(c)
			}
			if len(fn.Counts) != tr.End-tr.Start+1 || sum != fn.Total {
				t.Fatalf("%s: %d counts summing to %d, total %d", fn.Hash, len(fn.Counts), sum, fn.Total)
			}
		}
	})
}

// TestWriteAzure: what WriteAzure writes, ReadAzure reads back.
func TestWriteAzure(t *testing.T) {
	in := []Function{
		{Owner: "o", App: "a", Hash: "f1", Trigger: "http", Counts: []uint32{1, 2}},
		{Owner: "o", App: "a", Hash: "f2", Trigger: "timer", Counts: []uint32{0, 0, 7}},
	}
	var b strings.Builder
	if err := WriteAzure(&b, 3, in); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadAzure("w.csv", strings.NewReader(b.String()), Select{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Minutes != 3 || len(tr.Functions) != 2 ||
		!slices.Equal(tr.Functions[0].Counts, []uint32{1, 2, 0}) || !slices.Equal(tr.Functions[1].Counts, []uint32{0, 0, 7}) ||
		tr.Functions[1].Trigger != "timer" || tr.Functions[1].Line != 3 {
		t.Fatalf("read back %+v", tr)
	}
	if err := WriteAzure(&b, 1, in); err == nil {
		t.Error("wrote 2 minutes of counts into a 1-minute file")
	}
}

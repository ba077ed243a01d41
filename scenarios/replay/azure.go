package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The Azure Functions 2019 trace ("invocations_per_function_md.anon.dNN.csv")
// has one row per function and one column per minute of the day:
//
//	HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440
//
// Each minute column is the number of invocations that started in that
// minute. A file with fewer minute columns (1…M) is read the same way, so
// that a short excerpt needs no padding.
var azureColumns = []string{"HashOwner", "HashApp", "HashFunction", "Trigger"}

// Function is one row of an invocation-count file, reduced to the minutes
// selected.
type Function struct {
	Owner, App, Hash, Trigger string
	Line                      int      // the row's line in the file
	Counts                    []uint32 // invocations in each selected minute
	Total                     uint64   // the sum of Counts
}

// Select says which functions and minutes ReadAzure keeps. At most one of
// Hashes, Top and Rank is set; none keeps every function.
type Select struct {
	Hashes []string // every row whose HashFunction is listed
	Top    int      // the Top busiest functions
	Rank   int      // only the function of this rank (1 is the busiest)
	// Start and End are the minutes kept, from 1, inclusive; 0 means the
	// first and the last minute of the file.
	Start, End int
}

// Trace is what ReadAzure kept of an invocation-count file.
type Trace struct {
	Minutes    int // minute columns in the file
	Start, End int // the minutes kept, from 1, inclusive
	// Functions in file order, or busiest first when selected by rank.
	// Busyness is the total over the minutes kept; ties go to the row
	// earlier in the file.
	Functions []Function
	Rows      int // functions in the file
}

// ReadAzure reads an invocation-count file named name (for errors) and keeps
// what sel asks for. Every row is checked, kept or not; the first malformed
// one is an error naming its line and column. Memory is what is kept: a
// full day's file with a top-N selection holds N rows.
func ReadAzure(name string, r io.Reader, sel Select) (*Trace, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, with a clearer message
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errorf(name, 1, "", "empty file: want the header %s,1,2,…", strings.Join(azureColumns, ","))
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	t := &Trace{}
	if t.Minutes, err = azureHeader(name, head); err != nil {
		return nil, err
	}
	t.Start, t.End = max(sel.Start, 1), sel.End
	if t.End == 0 {
		t.End = t.Minutes
	}
	switch {
	case t.End > t.Minutes:
		return nil, errorf(name, 1, "header", "the trace has %d minutes; minute %d is beyond it", t.Minutes, t.End)
	case t.Start > t.End:
		return nil, errorf(name, 1, "header", "start minute %d is after end minute %d", t.Start, t.End)
	}
	k := keeper{sel: sel, want: map[string]bool{}}
	for _, h := range sel.Hashes {
		k.want[h] = false
	}
	scratch := make([]uint32, t.End-t.Start+1)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(azureColumns)+t.Minutes {
			return nil, errorf(name, line, "", "%d columns, but the header has %d", len(rec), len(azureColumns)+t.Minutes)
		}
		f := Function{Owner: rec[0], App: rec[1], Hash: rec[2], Trigger: rec[3], Line: line}
		if f.Hash == "" {
			return nil, errorf(name, line, "column 3 (HashFunction)", "empty function hash")
		}
		for i, v := range rec[len(azureColumns):] {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, errorf(name, line, fmt.Sprintf("column %d (minute %d)", len(azureColumns)+i+1, i+1),
					"invalid count %q: want a whole number of invocations", v)
			}
			if m := i + 1; m >= t.Start && m <= t.End {
				scratch[m-t.Start] = uint32(n)
				f.Total += n
			}
		}
		t.Rows++
		f.Counts = scratch
		k.offer(f)
	}
	return t, k.finish(name, t)
}

// azureHeader checks the header row and returns the number of minutes.
func azureHeader(name string, head []string) (int, error) {
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff") // a byte-order mark from a spreadsheet
	}
	for i, want := range azureColumns {
		if i >= len(head) || head[i] != want {
			got := "nothing"
			if i < len(head) {
				got = strconv.Quote(head[i])
			}
			return 0, errorf(name, 1, fmt.Sprintf("column %d", i+1), "header says %s, want %q (an Azure Functions invocation-count file starts %s,1,2,…)",
				got, want, strings.Join(azureColumns, ","))
		}
	}
	minutes := head[len(azureColumns):]
	if len(minutes) == 0 {
		return 0, errorf(name, 1, "", "no minute columns after %s", strings.Join(azureColumns, ","))
	}
	for i, h := range minutes {
		if h != strconv.Itoa(i+1) {
			return 0, errorf(name, 1, fmt.Sprintf("column %d", len(azureColumns)+i+1), "header says %q, want minute %d", h, i+1)
		}
	}
	return len(minutes), nil
}

// csvError turns an encoding/csv error into an Error at its line.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errorf(name, pe.Line, fmt.Sprintf("byte %d of the line", pe.Column), "%v", pe.Err)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// keeper keeps the rows a selection asks for.
type keeper struct {
	sel  Select
	want map[string]bool // hash → seen, for a selection by hash
	kept []Function      // by rank: the best so far, busiest first
}

// offer considers one row; f.Counts is scratch space, copied if kept.
func (k *keeper) offer(f Function) {
	switch n := max(k.sel.Top, k.sel.Rank); {
	case len(k.sel.Hashes) > 0:
		if _, ok := k.want[f.Hash]; !ok {
			return
		}
		k.want[f.Hash] = true
	case n > 0:
		// Busiest first; a later row must be strictly busier to pass one
		// kept before it, so ties keep file order.
		i, _ := slices.BinarySearchFunc(k.kept, f.Total, func(g Function, total uint64) int {
			if g.Total >= total {
				return -1
			}
			return 1
		})
		if i >= n {
			return
		}
		f.Counts = slices.Clone(f.Counts)
		k.kept = slices.Insert(k.kept, i, f)
		if len(k.kept) > n {
			k.kept = k.kept[:n]
		}
		return
	}
	f.Counts = slices.Clone(f.Counts)
	k.kept = append(k.kept, f)
}

// finish checks the selection against the whole file.
func (k *keeper) finish(name string, t *Trace) error {
	for _, h := range k.sel.Hashes {
		if !k.want[h] {
			return errorf(name, 0, "", "no function with hash %q", h)
		}
	}
	if r := k.sel.Rank; r > 0 {
		if len(k.kept) < r {
			return errorf(name, 0, "", "rank %d asked for, but the trace has %d functions", r, t.Rows)
		}
		k.kept = k.kept[r-1:]
	}
	if len(k.kept) == 0 {
		return errorf(name, 0, "", "no functions: the file has a header and no rows")
	}
	t.Functions = k.kept
	return nil
}

// WriteAzure writes functions as an invocation-count file of minutes
// minutes (counts beyond a function's own are 0), in the format ReadAzure
// reads: a small trace for a test, or an excerpt of a large one.
func WriteAzure(w io.Writer, minutes int, functions []Function) error {
	cw := csv.NewWriter(w)
	head := slices.Clone(azureColumns)
	for m := 1; m <= minutes; m++ {
		head = append(head, strconv.Itoa(m))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, f := range functions {
		if len(f.Counts) > minutes {
			return fmt.Errorf("function %s: %d minutes of counts, more than %d", f.Hash, len(f.Counts), minutes)
		}
		row := append(make([]string, 0, len(head)), f.Owner, f.App, f.Hash, f.Trigger)
		for m := range minutes {
			var c uint32
			if m < len(f.Counts) {
				c = f.Counts[m]
			}
			row = append(row, strconv.FormatUint(uint64(c), 10))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

package bench

import (
	"io"
	"strings"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// tail keeps the last keep bytes written to it (4 KiB by default), for a
// child's stderr or a bounded stdout.
type tail struct {
	buf  []byte
	keep int
}

func (t *tail) Write(b []byte) (int, error) {
	keep := t.keep
	if keep == 0 {
		keep = 4096
	}
	t.buf = append(t.buf, b...)
	if len(t.buf) > keep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	return len(b), nil
}

func (t *tail) String() string { return lastLine(t.buf) }

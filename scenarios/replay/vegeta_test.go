package replay

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReadTargets: vegeta's formats as vegeta reads them, and each error
// at the line it is on.
func TestReadTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.txt"), []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "targets")
	for _, c := range []struct {
		name, format, text string
		want               string // the targets, one a line, or the error
	}{
		{"one line", VegetaHTTP, "GET http://h/a\n", "1 GET /a map[] \"\""},
		{"headers and a body file", VegetaHTTP, "POST http://h/b?q=1\nX-A: 1\nX-A: 2\n@body.txt\n", `1 POST /b?q=1 map[X-A:1, 2] "from a file"`},
		{"back to back, comments, no final newline", VegetaHTTP, "# c\nGET http://h/a\nDELETE http://h/c", "2 GET /a map[] \"\"\n3 DELETE /c map[] \"\""},
		{"json", VegetaJSON, `{"method":"PUT","url":"http://h/j","body":"aGk=","header":{"K":["v"]}}` + "\n\n" + `{"method":"GET","url":"http://h/"}`, "1 PUT /j map[K:v] \"hi\"\n3 GET / map[] \"\""},
		{"bad method", VegetaHTTP, "GET http://h/a\n\nget http://h/b\n", "targets:3: bad method: get"},
		{"bad url", VegetaHTTP, "GET http://h/a\nGET ::\n", "targets:2: bad URL: ::"},
		{"bad header", VegetaHTTP, "GET http://h/a\nX-A: 1\nnot a header\n", "targets:3: bad header: not a header"},
		{"missing body file", VegetaHTTP, "POST http://h/a\n@nosuch\n", "targets:2: bad body"},
		{"json without url", VegetaJSON, `{"method":"GET","url":"http://h/"}` + "\n" + `{"method":"GET"}` + "\n", "targets:2: target: required url is missing"},
		{"json not json", VegetaJSON, "{\n", "targets:1:"},
		{"empty", VegetaHTTP, "# only a comment\n", "targets: no targets in the file"},
		{"unknown format", "yaml", "GET http://h/\n", `vegeta targets targets: unknown format "yaml"`},
	} {
		es, err := ReadTargets(name, strings.NewReader(c.text), c.format)
		var got string
		if err != nil {
			got = strings.ReplaceAll(err.Error(), name, "targets")
			var re *Error
			if c.format != "yaml" && !errors.As(err, &re) {
				t.Errorf("%s: error %T is not a *replay.Error", c.name, err)
			}
		}
		var lines []string
		for _, e := range es {
			lines = append(lines, strings.Join([]string{strconv.Itoa(e.Line), e.Method, e.Path, mapString(e.Header), `"` + string(e.Body) + `"`}, " "))
		}
		if err == nil {
			got = strings.Join(lines, "\n")
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

func mapString(m map[string]string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+":"+v)
	}
	return "map[" + strings.Join(kv, " ") + "]"
}

// FuzzReadTargets: whatever the file, reading ends with targets or an
// error, never a panic, and accepted targets have a method and a line.
func FuzzReadTargets(f *testing.F) {
	f.Add([]byte("GET http://h/a\nX-A: 1\n\nPOST http://h/b\n"), true)
	f.Add([]byte(`{"method":"GET","url":"http://h/"}`+"\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, http bool) {
		format := VegetaJSON
		if http {
			format = VegetaHTTP
		}
		es, err := ReadTargets("fuzz", strings.NewReader(string(data)), format)
		if err != nil {
			return
		}
		for i, e := range es {
			if e.Method == "" || e.Line < 1 || e.Body == nil {
				t.Fatalf("target %d accepted as %+v", i, e)
			}
		}
	})
}

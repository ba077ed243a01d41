package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeRecord stores v as indented JSON in dir/file, atomically; what
// names the record in errors ("tuning record").
func writeRecord(dir, file, what string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	return WriteFileAtomic(filepath.Join(dir, file), append(b, '\n'))
}

// loadRecord reads the record file from path (a directory holding it, or
// the file itself) into v and checks that the schema it read is want.
// kind names the run in errors ("tuning run"), what the record.
func loadRecord(path, file, kind, what string, v any, schema *string, want string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, file)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("load %s %s: no %s there: %w", kind, path, what, err)
		}
		return fmt.Errorf("load %s: %w", kind, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("load %s %s: %w", kind, path, err)
	}
	if *schema != want {
		return fmt.Errorf("load %s %s: schema %q is not supported (want %q)", kind, path, *schema, want)
	}
	return nil
}

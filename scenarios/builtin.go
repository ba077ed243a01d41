package scenarios

import (
	"embed"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// builtinFS holds the built-in scenarios, one YAML file each, named for the
// scenario.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin describes a built-in scenario.
type Builtin struct {
	Name        string // what Load takes, such as "smoke"
	Description string // the scenario's description: line
}

// Builtins lists the built-in scenarios, sorted by name.
func Builtins() []Builtin {
	var out []Builtin
	for _, name := range BuiltinNames() {
		data, _ := builtinSource(name)
		var head struct {
			Description string `yaml:"description"`
		}
		// A built-in that does not decode still gets listed; Load (and the
		// tests) report what is wrong with it.
		_ = yaml.Unmarshal(data, &head)
		out = append(out, Builtin{Name: name, Description: strings.TrimSpace(head.Description)})
	}
	return out
}

// BuiltinNames lists the names of the built-in scenarios, sorted.
func BuiltinNames() []string {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// BuiltinSource returns the YAML of a built-in scenario, for showing or
// copying as a starting point.
func BuiltinSource(name string) ([]byte, bool) { return builtinSource(name) }

func builtinSource(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, false
	}
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, false
	}
	return data, true
}

package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestCLIConventions: help asked for goes to stdout with exit 0; a usage
// error is printed once, on stderr, with exit 2.
func TestCLIConventions(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		stdout     string // a substring of stdout ("" means empty)
		stderr     string // a substring of stderr ("" means empty)
		stderrOnce string // occurs exactly once in stderr
	}{
		{[]string{"help", "run"}, 0, "usage: coldbench run", "", ""},                   // a command's help, not the global one
		{[]string{"run", "-h"}, 0, "usage: coldbench run", "", ""},                     // the same
		{[]string{"help", "certs"}, 0, "coldbench certs init", "", ""},                 // a command with subcommands
		{[]string{"-h"}, 0, "usage: coldbench COMMAND", "", ""},                        // top-level help on stdout
		{[]string{"--help"}, 0, "usage: coldbench COMMAND", "", ""},                    // the same
		{[]string{"help"}, 0, "usage: coldbench COMMAND", "", ""},                      // the same
		{[]string{"--version"}, 0, "coldbench ", "", ""},                               // a flag, not an unknown command
		{[]string{"run", "--bogus"}, 2, "", "-bogus", "flag provided but not defined"}, // once, on stderr
		{[]string{"report", "-format"}, 2, "", "format", "flag needs an argument"},     // another flag error
		{[]string{"nosuch"}, 2, "", "unknown command", "unknown command"},              // an unknown command
		{[]string{}, 2, "", "usage: coldbench COMMAND", ""},                            // nothing asked for is an error
	} {
		cmd := exec.Command(bin, c.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := 0
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		check := func(name, got, want string) {
			if want == "" && got != "" || !strings.Contains(got, want) {
				t.Errorf("coldbench %q: %s %q, want it to hold %q", c.args, name, got, want)
			}
		}
		if code != c.code {
			t.Errorf("coldbench %q: exit %d, want %d", c.args, code, c.code)
		}
		check("stdout", stdout.String(), c.stdout)
		check("stderr", stderr.String(), c.stderr)
		if c.stderrOnce != "" && strings.Count(stderr.String(), c.stderrOnce) != 1 {
			t.Errorf("coldbench %q: stderr %q, want %q once", c.args, stderr.String(), c.stderrOnce)
		}
	}
}

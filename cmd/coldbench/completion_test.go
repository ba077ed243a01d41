package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// complete sources the generated script in a real bash and asks its
// completion function for words, as bash does on TAB.
func complete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
		strconv.Itoa(len(words)-1) + "\n_coldbench\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
	cmd.Dir = t.TempDir() // no stray files to complete
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// TestCompletionBash: the script `coldbench completion bash` prints, sourced
// in bash, completes commands, built-in scenarios, flags and formats.
func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script, code := coldbench(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("completion bash: exit %d\n%s", code, script)
	}
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"coldbench", "ru"}, []string{"run"}},                                 // a command
		{[]string{"coldbench", "run", "sm"}, []string{"smoke"}},                        // a built-in scenario
		{[]string{"coldbench", "tune", "tune-"}, []string{"tune-demo"}},                // another command taking scenarios
		{[]string{"coldbench", "run", "--qu"}, []string{"--quiet"}},                    // a flag of run
		{[]string{"coldbench", "report", "--format", "ht"}, []string{"html"}},          // a flag's values
		{[]string{"coldbench", "report", "-format", "hg"}, []string{"hgrm"}},           // single-dash flags too
		{[]string{"coldbench", "certs", "i"}, []string{"init", "issue"}},               // subcommands
		{[]string{"coldbench", "completion", "f"}, []string{"fish"}},                   // shells
		{[]string{"coldbench", "help", "valid"}, []string{"validate"}},                 // help CMD
		{[]string{"coldbench", "run", "--on-agent-loss", "re"}, []string{"rebalance"}}, // enumerated values
	} {
		got := complete(t, script, c.words...)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%q: completed %q, want %q", c.words, got, c.want)
		}
	}
}

// TestCompletionShells: zsh and fish scripts are generated and, where the
// shell is installed, parse in it.
func TestCompletionShells(t *testing.T) {
	for _, c := range []struct {
		shell, want string
		check       []string
	}{
		{"zsh", "bashcompinit", []string{"zsh", "-n"}},
		{"fish", "complete -c coldbench -n __fish_use_subcommand -a run", []string{"fish", "--no-execute"}},
	} {
		script, code := coldbench(t, "completion", c.shell)
		if code != 0 || !strings.Contains(script, c.want) {
			t.Errorf("completion %s: exit %d, want %q in\n%s", c.shell, code, c.want, script)
			continue
		}
		if _, err := exec.LookPath(c.check[0]); err != nil {
			continue // the generated text was checked above; the shell is optional
		}
		cmd := exec.Command(c.check[0], c.check[1:]...)
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not parse the script: %v\n%s", c.shell, err, out)
		}
	}
	if _, code := coldbench(t, "completion", "tcsh"); code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want %d", code, exitUsage)
	}
}

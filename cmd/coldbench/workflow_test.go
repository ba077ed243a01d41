package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// workflowFile is the example nightly CI workflow.
const workflowFile = "../../deploy/ci/nightly.yml"

// workflow is the part of a GitHub Actions workflow the example uses;
// decoding is strict, so a misspelt key fails.
type workflow struct {
	Name        string            `yaml:"name"`
	On          yaml.Node         `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency map[string]any    `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]struct {
		RunsOn         string `yaml:"runs-on"`
		TimeoutMinutes int    `yaml:"timeout-minutes"`
		Steps          []step `yaml:"steps"`
	} `yaml:"jobs"`
}

type step struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

// TestNightlyWorkflow decodes deploy/ci/nightly.yml and checks that it does
// what README says: restore the baseline directory from the cache, run a
// scenario, compare against the baseline with JUnit and Markdown output,
// put report.md and the comparison on the job page, upload report.html,
// and on the default branch set and save the baseline; that coldbench is
// pinned and the JUnit step may publish. (make lint-ci runs actionlint on
// it too.) Every coldbench command line in
// it names a real subcommand whose flags parse: each is run through the
// binary with -h appended, which exits 0 only once every flag before it
// parsed (and exits 2 on a flag that does not exist, checked too).
func TestNightlyWorkflow(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(workflowFile)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("%s: %v", workflowFile, err)
	}
	if wf.Name == "" || wf.On.Kind != yaml.MappingNode {
		t.Fatalf("name %q, on: %v: want a named workflow with triggers", wf.Name, wf.On.Kind)
	}
	var triggers []string
	for i := 0; i < len(wf.On.Content); i += 2 {
		triggers = append(triggers, wf.On.Content[i].Value)
	}
	if !slices.Contains(triggers, "schedule") {
		t.Errorf("triggers %v: a nightly workflow runs on a schedule", triggers)
	}
	cacheDir := wf.Env["COLDBENCH_BASELINES"]
	if cacheDir == "" {
		t.Fatal("env COLDBENCH_BASELINES is not set: the baseline directory must be the cached path")
	}
	job, ok := wf.Jobs["bench"]
	if !ok || len(job.Steps) == 0 || job.RunsOn == "" {
		t.Fatalf("jobs: want a job bench with runs-on and steps, got %+v", wf.Jobs)
	}

	// find returns the index of the first step matching, or -1.
	find := func(match func(step) bool) int { return slices.IndexFunc(job.Steps, match) }
	uses := func(action string) func(step) bool {
		return func(s step) bool { return strings.HasPrefix(s.Uses, action+"@") }
	}
	runs := func(re string) func(step) bool {
		r := regexp.MustCompile(re)
		return func(s step) bool { return r.MatchString(s.Run) }
	}
	restore := find(uses("actions/cache/restore"))
	run := find(runs(`coldbench run `))
	cmp := find(runs(`coldbench compare --baseline `))
	summary := find(runs(`report\.md >> "\$GITHUB_STEP_SUMMARY"`))
	upload := find(uses("actions/upload-artifact"))
	set := find(runs(`coldbench baseline set `))
	save := find(uses("actions/cache/save"))
	for name, i := range map[string]int{"restore the cache": restore, "coldbench run": run, "coldbench compare": cmp,
		"job summary": summary, "upload-artifact": upload, "baseline set": set, "save the cache": save} {
		if i < 0 {
			t.Errorf("no step does %s", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if !(restore < run && run < cmp && cmp < set && set < save) {
		t.Errorf("step order: restore %d, run %d, compare %d, baseline set %d, save %d", restore, run, cmp, set, save)
	}
	for _, i := range []int{restore, save} {
		if p := job.Steps[i].With["path"]; p != cacheDir {
			t.Errorf("step %q caches %q, want the baseline directory %q", job.Steps[i].Name, p, cacheDir)
		}
	}
	for _, i := range []int{set, save} {
		if cond := job.Steps[i].If; !strings.Contains(cond, "github.event.repository.default_branch") || strings.Contains(cond, "main") {
			t.Errorf("step %q runs when %q: the baseline is updated on the repository's default branch only, whatever its name", job.Steps[i].Name, cond)
		}
	}
	// The JUnit action publishes a check run: it needs checks: write.
	if junit := find(uses("mikepenz/action-junit-report")); junit >= 0 && wf.Permissions["checks"] != "write" {
		t.Errorf("permissions %v: the JUnit step needs checks: write", wf.Permissions)
	}
	// coldbench is installed at a pinned release, not @latest.
	pin := wf.Env["COLDBENCH_VERSION"]
	if !regexp.MustCompile(`^v0\.\d+\.\d+$`).MatchString(pin) {
		t.Errorf("env COLDBENCH_VERSION %q: want a release tag v0.x.y", pin)
	}
	if i := find(runs(`go install "?github.com/coldbench/coldbench/cmd/coldbench@\$COLDBENCH_VERSION"?`)); i < 0 || find(runs(`@latest`)) >= 0 {
		t.Error("coldbench is not installed at $COLDBENCH_VERSION (or something is installed @latest)")
	}
	for _, flag := range []string{"--junit", "--markdown"} {
		if !strings.Contains(job.Steps[cmp].Run, flag) {
			t.Errorf("compare step lacks %s", flag)
		}
	}
	if !strings.Contains(job.Steps[summary].Run, `compare.md >> "$GITHUB_STEP_SUMMARY"`) {
		t.Error("the job summary does not get the comparison's Markdown")
	}
	if p := job.Steps[upload].With["path"]; !strings.Contains(p, "report.html") {
		t.Errorf("upload-artifact uploads %q, want report.html among it", p)
	}
	for _, i := range []int{summary, upload} {
		if !strings.Contains(job.Steps[i].If, "always()") {
			t.Errorf("step %q must run when an earlier step failed too", job.Steps[i].Name)
		}
	}

	// Every coldbench command line: its flags parse against the binary's.
	vars := map[string]string{}
	for k, v := range wf.Env {
		vars[k] = v
	}
	vars["SCENARIO"] = writeScenario(t, "name: wf\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 10}\n")
	var lines [][]string
	for _, s := range job.Steps {
		lines = append(lines, commandLines(s.Run, vars)...)
	}
	if len(lines) < 4 {
		t.Fatalf("found %d coldbench command lines, want run, baseline show, compare and baseline set", len(lines))
	}
	dir := t.TempDir()
	for _, args := range lines {
		if len(args) == 1 && args[0] == "version" {
			continue // prints the installed release into the log; no flags to check
		}
		out, code := coldbenchIn(t, dir, append(slices.Clone(args), "-h")...)
		if code != 0 {
			t.Errorf("coldbench %s: flags do not parse (exit %d):\n%s", strings.Join(args, " "), code, out)
		}
		if _, code := coldbenchIn(t, dir, append(slices.Clone(args), "--no-such-flag", "-h")...); code != exitUsage {
			t.Errorf("coldbench %s --no-such-flag -h: exit %d, want %d (the check cannot fail otherwise)", strings.Join(args, " "), code, exitUsage)
		}
	}
}

// commandLines extracts the coldbench command lines of a shell script:
// continuation lines joined, words split as the shell would for the
// simple quoting the workflow uses, $VAR and "$VAR" replaced from vars,
// and the line cut at a redirection, pipe or list operator.
func commandLines(script string, vars map[string]string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		i := strings.Index(line, "coldbench ")
		if i < 0 || (i > 0 && !strings.ContainsAny(line[i-1:i], " \t!")) {
			continue
		}
		words := shellWords(line[i+len("coldbench "):])
		for j, w := range words {
			if slices.Contains([]string{">", ">>", "2>&1", "|", ";", "&&", "||", "2>"}, w) || strings.HasPrefix(w, ">") {
				words = words[:j]
				break
			}
		}
		for j, w := range words {
			words[j] = os.Expand(w, func(k string) string { return vars[k] })
		}
		out = append(out, words)
	}
	return out
}

// shellWords splits s into words at blanks outside quotes, removing the
// quotes.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// coldbenchIn runs the binary in dir.
func coldbenchIn(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	wd, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return coldbenchEnv(t, wd, nil, args...)
}

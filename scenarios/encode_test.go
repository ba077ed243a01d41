package scenarios

import (
	"bytes"
	"testing"
)

// TestYAMLIsTheSource: agents in other processes receive the text the
// scenario was parsed from while nothing changed it, and a fresh encoding
// once --target did, which parses back to the new target.
func TestYAMLIsTheSource(t *testing.T) {
	t.Parallel()
	src := []byte("# a comment the encoder would drop\nname: y\ntarget: {driver: fake, url: \"http://127.0.0.1:9/a\"}\nphases: [{name: a, duration: 1s, rate: 1}]\n")
	s, err := Parse("y.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.YAML()
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("unchanged scenario: YAML() = %q, %v; want its source", got, err)
	}
	if err := SetTarget(s, "http://127.0.0.1:9/b"); err != nil {
		t.Fatal(err)
	}
	got, err = s.YAML()
	if err != nil || bytes.Equal(got, src) {
		t.Fatalf("after SetTarget: YAML() = %q, %v; want a new encoding", got, err)
	}
	back, err := Parse("sent.yaml", got)
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	if u := back.Target.Config.(*fakeConfig).URL; u != "http://127.0.0.1:9/b" {
		t.Errorf("the agent would send to %q", u)
	}
}

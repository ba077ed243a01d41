package image_test

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/coldbench/coldbench/internal/image"
)

// TestMakeImage runs `make image` into a temporary directory (one static
// build: the whole cost of this test), opens the tarball with
// go-containerregistry and checks the image: one layer, entrypoint, user,
// working directory, labels that match git; that the layer's binary is
// static and, extracted and run, prints the version the label names; the
// CA bundle and the results directory the user owns; and that the OCI
// layout holds the same image.
func TestMakeImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is a linux image; its binary runs here only on linux")
	}
	dir := t.TempDir()
	mk := exec.Command("make", "-C", "../..", "image", "IMAGE_DIR="+dir, "IMAGE_ARCH="+runtime.GOARCH)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	img, err := tarball.ImageFromPath(filepath.Join(dir, "coldbench-image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, []string{"coldbench"}) || c.User != "65532:65532" || c.WorkingDir != "/results" {
		t.Errorf("entrypoint %q, user %q, working dir %q", c.Entrypoint, c.User, c.WorkingDir)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	git := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	version := c.Labels[image.LabelVersion]
	if want := git("describe", "--tags", "--always", "--dirty"); version != want {
		t.Errorf("label %s %q, git describe %q", image.LabelVersion, version, want)
	}
	if rev, want := c.Labels[image.LabelRevision], git("rev-parse", "HEAD"); rev != want {
		t.Errorf("label %s %q, want %q", image.LabelRevision, rev, want)
	}
	if !strings.HasPrefix(c.Labels[image.LabelSource], "https://") {
		t.Errorf("label %s %q", image.LabelSource, c.Labels[image.LabelSource])
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v): want one", len(layers), err)
	}

	// The layer's files.
	files := map[string]*tar.Header{}
	bin := filepath.Join(t.TempDir(), "coldbench")
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = h
		switch "/" + h.Name {
		case image.BinaryPath:
			f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		case image.CAPath:
			b, _ := io.ReadAll(tr)
			if n := strings.Count(string(b), "BEGIN CERTIFICATE"); n < 10 {
				t.Errorf("%s holds %d certificates", image.CAPath, n)
			}
		}
	}
	if h := files[image.BinaryPath]; h == nil || h.Mode&0o111 == 0 {
		t.Fatalf("%s: %+v: want an executable", image.BinaryPath, h)
	}
	if h := files["/results"]; h == nil || h.Typeflag != tar.TypeDir || h.Uid != image.UID {
		t.Errorf("/results: %+v: want a directory of user %d", h, image.UID)
	}
	if h := files["/tmp"]; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp: %+v: want mode 1777", h)
	}
	if files["/etc/passwd"] == nil {
		t.Error("no /etc/passwd")
	}

	// Static: no program interpreter, so it runs on an empty base.
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter: it is not static (CGO_ENABLED=0)")
		}
	}
	ef.Close()
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "coldbench "+version+" ") {
		t.Errorf("coldbench version: %v: %q, want the label's %q", err, out, version)
	}

	// The OCI layout holds the same image.
	idx, err := layout.ImageIndexFromPath(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("OCI layout: %d manifests, want one", len(m.Manifests))
	}
	if ref := m.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; ref == "" {
		t.Error("the OCI layout's image has no ref.name annotation")
	}
	li, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	// The docker-save tarball keeps no manifest of its own (it is rebuilt
	// on reading), so the same image is the same config and layer.
	if a, b := configAndLayer(t, img), configAndLayer(t, li); a != b {
		t.Errorf("OCI layout image %s, tarball image %s", b, a)
	}
	t.Logf("%s: version %s, %s", m.Manifests[0].Digest, version, out)
}

// configAndLayer names an image by its config's and its layers' digests.
func configAndLayer(t *testing.T, img v1.Image) string {
	t.Helper()
	c, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	out := c.String()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out += " " + d.String()
	}
	return out
}

// TestDockerfileInStep: the Dockerfile (not built here: no Docker engine
// in CI) makes the image make image makes: same user, entrypoint, working
// directory, paths and labels.
func TestDockerfileInStep(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"CGO_ENABLED=0 go build -trimpath",
		"FROM scratch",
		"USER 65532:65532",
		"WORKDIR " + image.WorkDir,
		`ENTRYPOINT ["coldbench"]`,
		"/out/coldbench " + image.BinaryPath,
		" " + image.CAPath,
		"--chown=65532:65532 /out/results " + image.WorkDir,
		image.LabelSource + "=",
		image.LabelVersion + "=",
		image.LabelRevision + "=",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !strings.Contains(text, "65532") || image.UID != 65532 {
		t.Errorf("the image's user %d is not the Dockerfile's", image.UID)
	}
}

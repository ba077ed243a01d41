// Package image assembles coldbench's container image without a Docker
// daemon: an OCI image of one layer (the static binary, CA certificates,
// a non-root user and a results directory) on an empty base, written as a
// `docker load`-able tarball and as an OCI image layout.
package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths and identity inside the image.
const (
	BinaryPath = "/usr/local/bin/coldbench"
	CAPath     = "/etc/ssl/certs/ca-certificates.crt"
	WorkDir    = "/results"
	// UID is the user the image runs as: 65532, "nonroot" in distroless
	// images, so that Pod Security's runAsNonRoot holds and a volume's
	// fsGroup can be the same number everywhere.
	UID = 65532
)

// OCI annotation keys the image's labels use.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelTitle    = "org.opencontainers.image.title"
)

// Options is what goes into the image.
type Options struct {
	Binary   string // the static coldbench binary to put in
	CA       string // a PEM bundle of CA certificates, for HTTPS targets
	Version  string // coldbench's version, as `coldbench version` prints it
	Revision string // the commit it was built from
	Source   string // the repository URL
	Arch     string // GOARCH of the binary
	// Created stamps the image and its files. Zero means the Unix epoch:
	// the same inputs then make the same image, digest included.
	Created time.Time
}

// Build assembles the image.
func Build(o Options) (v1.Image, error) {
	if o.Binary == "" || o.CA == "" || o.Arch == "" {
		return nil, errors.New("image: the binary, the CA bundle and the architecture are required")
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: the coldbench binary: %w", err)
	}
	ca, err := os.ReadFile(o.CA)
	if err != nil {
		return nil, fmt.Errorf("image: the CA certificates: %w", err)
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("image: %s holds no PEM certificate", o.CA)
	}
	created := o.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	tarball, err := layerTar(bin, ca, created.UTC())
	if err != nil {
		return nil, err
	}
	layer, err := tarballLayer(tarball)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   v1.Time{Time: created},
		CreatedBy: "coldbench internal/image: " + BinaryPath + ", CA certificates, user " + fmt.Sprint(UID),
	}})
	if err != nil {
		return nil, fmt.Errorf("image: add the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.Arch
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint: []string{"coldbench"},
		User:       fmt.Sprintf("%d:%d", UID, UID),
		WorkingDir: WorkDir,
		Env: []string{
			"PATH=/usr/local/bin:/usr/bin:/bin",
			"SSL_CERT_FILE=" + CAPath,
		},
		Labels: map[string]string{
			LabelSource:   o.Source,
			LabelVersion:  o.Version,
			LabelRevision: o.Revision,
			LabelTitle:    "coldbench",
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	return img, nil
}

func tarballLayer(b []byte) (v1.Layer, error) {
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	return l, nil
}

// layerTar is the layer's file system: the binary, the CA bundle, a
// passwd and group naming the user (for tools that look it up), a
// writable /tmp and the results directory the user owns.
func layerTar(bin, ca []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(path string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: path + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(path string, mode int64, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(len(b)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID)
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return dir("etc/ssl", 0o755, 0) },
		func() error { return dir("etc/ssl/certs", 0o755, 0) },
		func() error { return file(CAPath[1:], 0o644, ca) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir("home/nonroot", 0o700, UID) },
		func() error { return dir("results", 0o755, UID) },
		func() error {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mtime, Format: tar.FormatPAX})
		},
		func() error { return dir("usr", 0o755, 0) },
		func() error { return dir("usr/local", 0o755, 0) },
		func() error { return dir("usr/local/bin", 0o755, 0) },
		func() error { return file(BinaryPath[1:], 0o755, bin) },
		tw.Close,
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, fmt.Errorf("image: layer tar: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// Tag is the image's name in the tarball: repo:version, the version made
// a valid tag (git describe's output mostly is; anything else becomes -).
func Tag(repo, version string) (name.Tag, error) {
	t := regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(version, "-")
	if t == "" || t[0] == '.' || t[0] == '-' {
		t = "v" + t
	}
	if len(t) > 128 {
		t = t[:128]
	}
	return name.NewTag(repo+":"+t, name.StrictValidation)
}

// WriteTarball writes img as a `docker load`-able tarball named tag.
func WriteTarball(path string, tag name.Tag, img v1.Image) error {
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("image: write %s: %w", path, err)
	}
	return nil
}

// WriteLayout writes img into a fresh OCI image layout at dir, its
// reference name annotated (for `skopeo copy oci:DIR:TAG`, `crane push`).
func WriteLayout(dir string, tag name.Tag, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image: OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag.TagStr(),
		"io.containerd.image.name":          tag.Name(),
	})); err != nil {
		return fmt.Errorf("image: OCI layout %s: %w", dir, err)
	}
	return nil
}

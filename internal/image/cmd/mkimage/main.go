// Command mkimage assembles coldbench's container image from a static
// binary (see internal/image); `make image` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/coldbench/coldbench/internal/image"
)

func main() {
	var o image.Options
	flag.StringVar(&o.Binary, "binary", "", "the static coldbench binary")
	flag.StringVar(&o.CA, "ca", "/etc/ssl/certs/ca-certificates.crt", "the CA certificates bundle (PEM)")
	flag.StringVar(&o.Version, "version", "", "coldbench's version (label org.opencontainers.image.version)")
	flag.StringVar(&o.Revision, "revision", "", "the commit (label org.opencontainers.image.revision)")
	flag.StringVar(&o.Source, "source", "https://github.com/coldbench/coldbench", "the repository (label org.opencontainers.image.source)")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "GOARCH the binary was built for")
	repo := flag.String("repo", "ghcr.io/coldbench/coldbench", "the image's repository; the tag is the version")
	tarPath := flag.String("tarball", "", "write a docker load-able tarball here")
	layoutDir := flag.String("layout", "", "write an OCI image layout into this directory")
	flag.Parse()
	if flag.NArg() > 0 || o.Binary == "" || o.Version == "" || (*tarPath == "" && *layoutDir == "") {
		fmt.Fprintln(os.Stderr, "usage: mkimage -binary FILE -version V [-revision R] (-tarball FILE | -layout DIR)")
		os.Exit(2)
	}
	// SOURCE_DATE_EPOCH, the reproducible-builds convention, dates the
	// image; without it the image is dated at the epoch.
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkimage: SOURCE_DATE_EPOCH %q: %v\n", s, err)
			os.Exit(2)
		}
		o.Created = time.Unix(sec, 0)
	}
	if err := run(o, *repo, *tarPath, *layoutDir); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(o image.Options, repo, tarPath, layoutDir string) error {
	img, err := image.Build(o)
	if err != nil {
		return err
	}
	tag, err := image.Tag(repo, o.Version)
	if err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if tarPath != "" {
		if err := image.WriteTarball(tarPath, tag, img); err != nil {
			return err
		}
		fmt.Printf("image %s (%s): %s (docker load -i %s)\n", tag, d, tarPath, tarPath)
	}
	if layoutDir != "" {
		if err := image.WriteLayout(layoutDir, tag, img); err != nil {
			return err
		}
		fmt.Printf("image %s (%s): OCI layout %s\n", tag, d, layoutDir)
	}
	return nil
}

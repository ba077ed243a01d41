package main

import "runtime/debug"

// A binary built by `make build` or `make image` has its version from
// git describe (-ldflags -X main.version). One installed with
// `go install github.com/coldbench/coldbench/cmd/coldbench@v0.x.y` has no
// ldflags, but the Go toolchain records the module version it built: take
// it, so that `coldbench version` and the run record name the release a
// nightly job pinned.
func init() {
	if version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
}

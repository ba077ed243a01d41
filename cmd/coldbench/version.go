package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

func versionCommand(ctx context.Context, args []string, out io.Writer) error {
	fmt.Fprintf(out, "coldbench %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

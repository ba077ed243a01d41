package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/coldbench/coldbench/internal/certs"
)

// certsCommand makes a CA (init) or a certificate signed by it (issue).
func certsCommand(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: coldbench certs init [--dir DIR]\n       coldbench certs issue NAME [--dir DIR] [--host H ...]"
	if len(args) == 0 {
		fmt.Fprintln(out, use)
		return usagef("want a subcommand: init or issue")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprintln(out, use)
		return flag.ErrHelp
	case "init":
		return certsInit(args[1:], out)
	case "issue":
		return certsIssue(args[1:], out)
	}
	return usagef("certs: unknown subcommand %q (want init or issue)", args[0])
}

func certsInit(args []string, out io.Writer) error {
	fs := newFlags("certs init", "", out)
	dir := fs.String("dir", "certs", "directory for ca.crt and ca.key")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	if err := certs.Init(*dir); err != nil {
		return usageError{err}
	}
	fmt.Fprintf(out, "CA written: %s (keep %s secret)\n", filepath.Join(*dir, certs.CACertFile), filepath.Join(*dir, certs.CAKeyFile))
	return nil
}

func certsIssue(args []string, out io.Writer) error {
	fs := newFlags("certs issue", "NAME", out)
	dir := fs.String("dir", "certs", "directory of the CA; NAME.crt and NAME.key are written there")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP address the certificate is for (repeatable; default NAME, localhost, 127.0.0.1, ::1)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one certificate name, such as agent or controller")
	}
	crt, key, err := certs.IssueFiles(*dir, pos[0], hosts)
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(out, "certificate written: %s\nkey written:         %s\n", crt, key)
	return nil
}

// Package coldbench is the root of the coldbench module: a load generator,
// cold-start meter and tuning advisor for FaaS endpoints, one binary
// (cmd/coldbench). README.md's "Layout" section maps the tree; the test
// in this directory holds its layering (what may import what).
package coldbench

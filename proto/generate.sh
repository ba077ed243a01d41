#!/usr/bin/env bash
# generate.sh OUT_DIR: generates the Go code of proto/coldbench/v1/*.proto
# into OUT_DIR/coldbench/v1/ with pinned generators. `make proto` runs it
# with OUT_DIR=proto (regenerating the committed files); `make proto-check`
# runs it into a temporary directory and compares.
#
# protoc comes from Debian's protobuf-compiler package (installed here when
# missing and apt-get can); protoc-gen-go and protoc-gen-go-grpc are built
# at pinned versions with `go install` into bin/tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.1

out=${1:?usage: proto/generate.sh OUT_DIR}
tools="$PWD/bin/tools"
GO=${GO:-go}

if ! command -v protoc >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "proto: protoc missing; installing Debian's protobuf-compiler" >&2
    apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
  else
    echo "proto: protoc not found. Install Debian's protobuf-compiler (apt-get install protobuf-compiler) and retry." >&2
    exit 1
  fi
fi

# Rebuild a generator only when the pinned version is not the one in place.
install_tool() { # name module version
  local stamp="$tools/.$1-$3"
  if [ ! -x "$tools/$1" ] || [ ! -e "$stamp" ]; then
    mkdir -p "$tools"
    GOBIN="$tools" GOFLAGS=-mod=mod "$GO" install "$2@$3"
    rm -f "$tools/.$1-"*
    touch "$stamp"
  fi
}
install_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"

mkdir -p "$out"
protoc -I proto \
  --plugin=protoc-gen-go="$tools/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$tools/protoc-gen-go-grpc" \
  --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  proto/coldbench/v1/*.proto

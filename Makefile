# coldbench — see README.md. `make demo` and `make test` are the two set-up
# commands; both fetch Go modules by themselves.

GO      ?= go
BIN     := bin/coldbench
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test demo lint fuzz-seed clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/coldbench

# The whole suite under the race detector, fuzz seed corpora included (plain
# `go test` runs each fuzz target over its testdata corpus).
test: lint
	$(GO) test -race -count=1 -timeout 9m ./...

demo: build
	./$(BIN) demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin

# coldbench — see README.md. `make demo` and `make test` are the two set-up
# commands; both fetch Go modules by themselves.

GO      ?= go
BIN     := bin/coldbench
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test demo lint lint-ci rie fuzz-seed clean report-screenshot proto proto-check faults fuzz bench bench-go image

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/coldbench

# The whole suite under the race detector, fuzz seed corpora included (plain
# `go test` runs each fuzz target over its testdata corpus). One package at a
# time (-p 1): several packages measure real latency against the emulator,
# and two such packages at once on a 2-core machine measure each other.
test: lint lint-ci proto-check rie
	COLDBENCH_RIE=$(abspath $(RIE)) $(GO) test -race -count=1 -p 1 -timeout 9m ./...
	# compare's noise test measures latency, which the race detector distorts.
	$(GO) test -count=1 -timeout 5m -run '^TestCompareNoise$$' ./cmd/coldbench
	# The cold-start model against its simulation: millions of simulated
	# requests, ten times slower under the race detector (which skips it).
	$(GO) test -count=1 -timeout 5m -run '^TestColdModelAgainstSimulation$$' ./internal/cost
	# So does the cold-start ground-truth suite (about 50 s).
	$(GO) test -count=1 -timeout 5m -run '^TestGroundTruth$$' ./internal/engine

# The AWS Lambda Runtime Interface Emulator, a real third-party Lambda
# runtime that the lambda driver's tests run a handler in
# (cmd/coldbench/lambda_test.go, through COLDBENCH_RIE). Pinned; installed
# into bin/tools with go install, rebuilt only when the version changes.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := bin/tools/aws-lambda-rie

rie:
	@$(GO) version -m $(RIE) 2>/dev/null | grep -q 'aws-lambda-runtime-interface-emulator[[:space:]]*$(RIE_VERSION)' || \
		GOBIN=$(abspath bin/tools) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

# The fault-injection suite alone (README "Robustness"; `make test` runs it
# too): target faults through the engine and the binary, and the fleet
# faults: agent and controller killed, an agent blackholed, an agent's
# clock off.
faults:
	$(GO) test -race -count=1 -timeout 6m \
		-run 'Fault|HugeBody|ClockOffset|^TestFleet$$' \
		./internal/engine/ ./internal/fleet/ ./cmd/coldbench/

# Every fuzz target, one after another, each for FUZZTIME. Targets are
# found, not listed: packages with a `func Fuzz` in a test file, then
# `go test -list`. Crashers land in the package's testdata/fuzz/FuzzXxx/.
FUZZTIME ?= 60s

fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for target in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
	    echo "== $$dir $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir; \
	  done; \
	done

demo: build
	./$(BIN) demo

# gofmt, go vet, staticcheck and deadcode (-test: code reached only by
# tests counts as used). The two tools are pinned and installed into
# bin/tools once; a run after that takes about a minute on 2 cores, most of
# it staticcheck filling its cache.
STATICCHECK_VERSION := v0.8.2
DEADCODE_VERSION    := v0.52.0
TOOLS               := $(abspath bin/tools)

lint: $(TOOLS)/staticcheck-$(STATICCHECK_VERSION) $(TOOLS)/deadcode-$(DEADCODE_VERSION)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	@out=$$($(TOOLS)/deadcode -test ./...); \
	if [ -n "$$out" ]; then echo "deadcode: unreachable functions:"; echo "$$out"; exit 1; fi

# A stamp file per version, so that changing a pin reinstalls the tool.
$(TOOLS)/staticcheck-$(STATICCHECK_VERSION):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	touch $@

$(TOOLS)/deadcode-$(DEADCODE_VERSION):
	GOBIN=$(TOOLS) $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)
	touch $@

# The example CI workflow (deploy/ci), linted with actionlint as GitHub
# would run it: expressions, permissions, action inputs, and the shell of
# every run: step through shellcheck when it is installed (.ci/run installs
# it). actionlint is pinned and installed into bin/tools.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := bin/tools/actionlint

lint-ci:
	@$(ACTIONLINT) -version 2>/dev/null | head -1 | grep -qx '$(ACTIONLINT_VERSION)' || \
		GOBIN=$(abspath bin/tools) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@command -v shellcheck >/dev/null || echo "lint-ci: shellcheck is not installed: run: steps are not checked"
	$(ACTIONLINT) deploy/ci/*.yml

# The controller–agent API: `make proto` regenerates the committed Go code
# with pinned generators (proto/generate.sh installs them into bin/tools);
# proto-check regenerates into a temporary directory and fails when the
# committed files differ. The protoc version line of the headers is not
# compared: protoc comes from the distribution's package.
proto:
	GO=$(GO) bash proto/generate.sh proto

proto-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	GO=$(GO) bash proto/generate.sh "$$tmp" && \
	for f in proto/coldbench/v1/*.pb.go; do \
	  test -e "$$tmp/$${f#proto/}" || { echo "proto-check: $$f is not generated by proto/*.proto; run make proto"; exit 1; }; \
	done && \
	if ! diff -r -I '^//[[:space:]]*\(-[[:space:]]\)\?protoc[[:space:]]' -x '*.proto' -x doc.go "$$tmp/coldbench" proto/coldbench; then \
	  echo "proto-check: the generated Go code is out of date; run make proto"; exit 1; \
	fi

# A look at report.html as a browser draws it: a run (smoke), a tuning run
# (tune-demo) and a capacity plan (plan-demo) on the built-in emulator,
# each rendered by headless Chromium (Debian's chromium package, installed
# when missing; that needs root) at 1280 px and at phone width (400 px) to
# SHOT_DIR/{run,tune,plan}-{1280,400}.png. About three minutes. Not part of
# `make test`; html_fit_test.go checks that every table scrolls in its box.
SHOT_DIR ?= /tmp/coldbench-report-screenshot
CHROMIUM := chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --log-level=3

report-screenshot: build
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	rm -rf $(SHOT_DIR) && mkdir -p $(SHOT_DIR)
	./$(BIN) run smoke --quiet --out $(SHOT_DIR)/run
	./$(BIN) tune tune-demo --quiet --out $(SHOT_DIR)/tune >/dev/null
	./$(BIN) plan plan-demo --quiet --out $(SHOT_DIR)/plan >/dev/null
	@set -e; for r in run tune plan; do for w in 1280 400; do \
	  profile=$$(mktemp -d); \
	  $(CHROMIUM) --user-data-dir=$$profile --window-size=$$w,4000 \
		--screenshot=$(abspath $(SHOT_DIR))/$$r-$$w.png file://$(abspath $(SHOT_DIR))/$$r/report.html 2>/dev/null; \
	  status=$$?; rm -rf $$profile; test $$status -eq 0; \
	  echo "screenshot: $(SHOT_DIR)/$$r-$$w.png"; \
	done; done

# Side by side with vegeta, bombardier and wrk on loopback (internal/bench):
# installs its peers (vegeta and bombardier with go install into bin/tools,
# wrk from Debian, which needs root), prints the tables and writes them into
# BENCHMARKS.md, raw numbers in BENCHMARKS.json. At most about 40 minutes on
# 2 cores (the 5 M-request memory runs take 500 s each; benchrun prints its
# estimate at the start); BENCH_QUICK=1 for a smaller run of about 5;
# BENCH_FLAGS passes flags to benchrun (-h lists them). Not part of `make test`.
VEGETA_VERSION := v12.13.0
BOMBARDIER_VERSION := v1.2.6

bench:
	$(GO) build -o bin/tools/coldbench ./cmd/coldbench
	$(GO) build -o bin/tools/benchtarget ./internal/bench/cmd/benchtarget
	@$(GO) version -m bin/tools/vegeta 2>/dev/null | grep -q 'tsenart/vegeta/v12[[:space:]]*$(VEGETA_VERSION)' || \
		GOBIN=$(abspath bin/tools) $(GO) install github.com/tsenart/vegeta/v12@$(VEGETA_VERSION)
	@$(GO) version -m bin/tools/bombardier 2>/dev/null | grep -q 'codesenberg/bombardier[[:space:]]*$(BOMBARDIER_VERSION)' || \
		GOBIN=$(abspath bin/tools) $(GO) install github.com/codesenberg/bombardier@$(BOMBARDIER_VERSION)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(GO) run ./internal/bench/cmd/benchrun $(BENCH_FLAGS)

# The hot paths' Go benchmarks, benchstat-friendly: save the output of two
# runs and compare them with `benchstat old.txt new.txt`.
BENCH_COUNT ?= 1
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) ./results ./scenarios ./drivers/http ./internal/engine ./internal/fleet

# The container image, built without a Docker daemon: a static coldbench
# (CGO off, -trimpath, version stamped, no symbol table: stack traces keep
# their names) and internal/image/cmd/mkimage,
# which assembles an OCI image of one layer with go-containerregistry
# (non-root 65532, ENTRYPOINT ["coldbench"], WORKDIR /results, the build
# machine's CA certificates, OCI labels). Written as a docker load-able
# tarball, IMAGE_DIR/coldbench-image.tar, and an OCI layout, IMAGE_DIR/oci.
# deploy/k8s/README.md says how to load or push it.
IMAGE_DIR  ?= bin
IMAGE_REPO ?= ghcr.io/coldbench/coldbench
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CA_BUNDLE  := /etc/ssl/certs/ca-certificates.crt

image:
	@test -s $(CA_BUNDLE) || { apt-get update -qq && apt-get install -y -qq ca-certificates; }
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags '$(LDFLAGS) -s -w' -o $(IMAGE_DIR)/image/coldbench ./cmd/coldbench
	$(GO) run ./internal/image/cmd/mkimage -binary $(IMAGE_DIR)/image/coldbench -ca $(CA_BUNDLE) \
		-version $(VERSION) -revision $(REVISION) -arch $(IMAGE_ARCH) -repo $(IMAGE_REPO) \
		-tarball $(IMAGE_DIR)/coldbench-image.tar -layout $(IMAGE_DIR)/oci

clean:
	rm -rf bin

# The two commands of the README: `make run` and `make test`.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build build-load test vet bench bench-quick bench-steps bench-multi bench-postgres bench-1core bench-go clean

# `make run` listens on this machine only; the container image and the deployment files set
# POKOR_ADDR=:8080 themselves. POKOR_ADDR=:8080 make run opens it to the network.
POKOR_ADDR ?= 127.0.0.1:8080

run: build ## start Pokor with embedded defaults (SQLite in ./data), on 127.0.0.1:8080
	@echo "make run: starting bin/pokor on http://$(POKOR_ADDR) (SQLite in ./data; Ctrl-C stops it)"
	POKOR_ADDR=$(POKOR_ADDR) ./bin/pokor serve

build:
	@if [ ! -x bin/pokor ]; then \
		echo "make build: first build: downloading the Go modules (once)…"; \
		$(GO) mod download || exit 1; \
		echo "make build: compiling bin/pokor and its dependencies (a minute or two the first time, seconds after)…"; \
	fi
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/pokor ./cmd/pokor

vet:
	$(GO) vet ./...

build-load:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/pokor-load ./cmd/pokor-load

# Packages with benchmarks: the benchmark pass runs only these, so it builds nothing else (no
# pokor binary for cmd/pokor's end-to-end tests).
BENCH_PKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' .)))

test: vet ## vet, one pass of each benchmark (so they keep compiling and running), then every test with the race detector, and the list of skipped tests
	$(GO) test -run '^$$' -bench . -benchtime 1x $(BENCH_PKGS)
	$(GO) run ./cmd/testreport $(GO) test -race -count=1 -timeout 15m ./...

# The load scenarios of docs/performance.md. Each starts bin/pokor on a fresh SQLite database in a
# temporary directory at 127.0.0.1, drives it with bin/pokor-load, prints the table and stops it.
# LOAD_FLAGS adds flags, e.g. LOAD_FLAGS='--json bin/bench.json'.
LOAD = ./bin/pokor-load --serve ./bin/pokor

bench: build build-load ## the standard scenario: 1,900 rooms of 10 (19,000 connections), 60 s of votes, a reveal storm, slash commands
	$(LOAD) --rooms 1900 --members 10 --duration 60s $(LOAD_FLAGS)

bench-quick: build build-load ## a small scenario: 100 rooms of 10, 10 s
	$(LOAD) --rooms 100 --members 10 --duration 10s $(LOAD_FLAGS)

bench-steps: build build-load ## cost as work grows: 1k, 5k, 10k and 19k connections, 30 s of votes each
	$(LOAD) --members 10 --steps 1000,5000,10000,19000 --duration 30s --slash-duration 0 $(LOAD_FLAGS)

# Several instances on PostgreSQL + Redis: the generator creates a fresh database on the server of
# BENCH_POSTGRES (dropped afterwards) and a Redis prefix of the run's own, starts MULTI_INSTANCES
# servers on them and splits every room across them, so that every vote crosses instances.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
BENCH_REDIS ?= redis://127.0.0.1:6379/0
MULTI_INSTANCES ?= 2
MULTI_ROOMS ?= 1500
MULTI_MEMBERS ?= 20
MULTI_DURATION ?= 60s

bench-multi: build build-load ## two instances on PostgreSQL + Redis: 1,500 rooms of 20 (30,000 connections) split across them, 60 s of votes, a storm
	$(LOAD) --instances $(MULTI_INSTANCES) --postgres '$(BENCH_POSTGRES)' --redis '$(BENCH_REDIS)' \
		--rooms $(MULTI_ROOMS) --members $(MULTI_MEMBERS) --duration $(MULTI_DURATION) $(LOAD_FLAGS)

# One instance on PostgreSQL: 990 rooms of 10 (9,900 connections) at 3 votes per room per second
# (about 3,000 durable votes/s), on a fresh database of the run's own; the issue's goal is 100 ms.
bench-postgres: build build-load ## one instance on PostgreSQL: 9,900 connections, about 3,000 durable votes/s
	$(LOAD) --postgres '$(BENCH_POSTGRES)' --rooms 990 --members 10 --vote-rate 3.04 --vote-p99 100ms --duration $(MULTI_DURATION) $(LOAD_FLAGS)

# One core, as a t3.micro's one vCPU of sustained credit: the server pinned to CPU 0 with
# GOMAXPROCS=1 and GOMEMLIMIT=900MiB, the generator on CPU 1; 19,000 connections voting once a second per room.
ONECORE_ROOMS ?= 1900
ONECORE_DURATION ?= 60s

bench-1core: build build-load ## one core: 1,900 rooms of 10 (19,000 connections), server on CPU 0, GOMAXPROCS=1, GOMEMLIMIT=900MiB
	taskset -c 1 $(LOAD) --serve-cpus 0 --serve-env GOMAXPROCS=1 --serve-env GOMEMLIMIT=900MiB --vote-p99 100ms \
		--rooms $(ONECORE_ROOMS) --members 10 --duration $(ONECORE_DURATION) $(LOAD_FLAGS)

bench-go: ## Go benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem ./session/... ./webui/...

clean:
	rm -rf bin

# The two commands of the README: `make run` and `make test`.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test vet bench load clean

run: build ## start Pokor with embedded defaults (SQLite in ./data)
	./bin/pokor serve

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/pokor ./cmd/pokor

vet:
	$(GO) vet ./...

test: vet ## vet, then every test with the race detector
	$(GO) test -race -count=1 -timeout 15m ./...

bench: ## Go benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem ./session/... ./webui/...

clean:
	rm -rf bin

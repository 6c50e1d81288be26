# The two commands every newcomer needs are in README.md:
#   go run ./cmd/acpbridge demo     (run)
#   make test                       (the whole suite; .ci/run calls it)

GO ?= go
PKGS ?= ./...

.PHONY: test check vet fmt build demo fuzz

## test: formatting, vet, every test on PostgreSQL and SQLite with the race detector, the fuzz seeds, and
## shopify.app.toml through the Shopify CLI's checks (scripts/check-app-toml), and the admin's s-* markup against
## Polaris' Custom Elements Manifest (scripts/check-polaris).
test: check
	@TEST_DATABASE_URL="$$(scripts/ensure-postgres)" && export TEST_DATABASE_URL && \
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	@GO=$(GO) .ci/fuzz
	@scripts/check-app-toml
	@scripts/check-polaris

## fuzz: every fuzz target for FUZZTIME (default 3s) each, seed corpora first (docs/security.md).
fuzz:
	@GO=$(GO) .ci/fuzz

## check: gofmt and go vet.
check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

build:
	$(GO) build -o bin/acpbridge ./cmd/acpbridge

demo:
	$(GO) run ./cmd/acpbridge demo

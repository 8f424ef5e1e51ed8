# TET Bookstore — the store and its infrastructure as code.
# `make run` and `make test` work on a fresh machine that has Go; see README.md.

GO        ?= go
BIN       := bin/bookstore
OBJECTIVE ?= 1
FUZZTIME  ?= 10s
ACME      ?= local
IMAGE     ?= bookstore:dev
ENGINE    ?=
export GOFLAGS ?= -mod=mod

.PHONY: all build run test lint vet fmt bench plan plan-update policy local image clean fuzz

all: lint test

build: ## the single bookstore binary (monolith and microservices)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./app/cmd/bookstore

run: build ## the store at http://127.0.0.1:8080 on embedded SQLite, seeded
	BOOKSTORE_SEED_DEMO=$${BOOKSTORE_SEED_DEMO:-true} ./$(BIN) serve

test: lint ## every test (actionlint runs inside go test); MySQL, Chromium, nginx, shellcheck tests skip with a reason when absent and fail under CI=true
	$(GO) test -count=1 -timeout 30m ./...

lint: ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on: $$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# fuzz asks go test -list for the Fuzz functions of the packages whose tests
# declare one (the grep only spares linking every other test binary).
fuzz: ## every Fuzz target of the module (found by go test -list), FUZZTIME each; a failing input is saved under its package's testdata/fuzz
	@pkgs=$$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); \
	[ -n "$$pkgs" ] || { echo "no fuzz targets found"; exit 1; }; \
	list=$$($(GO) test -list '^Fuzz' $$pkgs) || { printf '%s\n' "$$list"; exit 1; }; \
	targets=$$(printf '%s\n' "$$list" | awk '/^Fuzz/ { f[n++] = $$1; next } /^ok / { for (i = 0; i < n; i++) print $$2, f[i]; n = 0 }'); \
	[ -n "$$targets" ] || { echo "no fuzz targets found"; exit 1; }; \
	printf '%s\n' "$$targets" | while read -r pkg fn; do \
		echo "== fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
	done

bench: build ## catalog, book page and buy + pay on SQLite and MySQL: ops/s, p50/p99, RSS, CPU-ms per op (BENCH_FLAGS, e.g. --json FILE)
	$(GO) run ./app/cmd/bench --binary ./$(BIN) $(BENCH_FLAGS)

plan: ## offline plan of objective $(OBJECTIVE) as JSON, no cloud credentials needed
	@$(GO) build -o bin/plan ./infra/cmd/plan && ./bin/plan --objective $(OBJECTIVE)

plan-update: ## rewrite the committed golden plans of every implemented objective after an intended infrastructure change
	$(GO) run ./infra/cmd/plan --objective all --update

policy: ## the security rules (infra/policy) on the offline plan of every objective; each violation names its rule and resource
	$(GO) run ./infra/cmd/policy

local: build ## rehearse objective $(OBJECTIVE) on loopback (app + NGINX), seeded like `make run`; ACME=pebble: certificate from certbot against pebble; OBJECTIVE=3 ENGINE=swarm on a real 3-node Docker Swarm; Ctrl-C stops it all
	BOOKSTORE_SEED_DEMO=$${BOOKSTORE_SEED_DEMO:-true} $(GO) run ./infra/cmd/local --objective $(OBJECTIVE) --acme $(ACME) --binary ./$(BIN) --engine "$(ENGINE)"

image: ## the Dockerfile built by the local Docker engine (classic builder) on local base images, tagged $(IMAGE)
	./infra/image/build.sh $(IMAGE)

clean:
	rm -rf bin

# TET Bookstore — the store and its infrastructure as code.
# `make run` and `make test` work on a fresh machine that has Go; see README.md.

GO        ?= go
BIN       := bin/bookstore
OBJECTIVE ?= 1
IMAGE     ?= bookstore:dev
ENGINE    ?=
export GOFLAGS ?= -mod=mod

.PHONY: all build run test lint vet fmt bench plan plan-update local image clean

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

bench: build ## catalog page throughput, latency and peak RSS from a second process
	$(GO) run ./app/cmd/bench --binary ./$(BIN)

plan: ## offline plan of objective $(OBJECTIVE) as JSON, no cloud credentials needed
	@$(GO) build -o bin/plan ./infra/cmd/plan && ./bin/plan --objective $(OBJECTIVE)

plan-update: ## rewrite the committed golden plans of every implemented objective after an intended infrastructure change
	$(GO) run ./infra/cmd/plan --objective all --update

local: build ## rehearse objective $(OBJECTIVE) on loopback (app + NGINX), seeded like `make run`; OBJECTIVE=3 ENGINE=swarm on a real 3-node Docker Swarm; Ctrl-C stops it all
	BOOKSTORE_SEED_DEMO=$${BOOKSTORE_SEED_DEMO:-true} $(GO) run ./infra/cmd/local --objective $(OBJECTIVE) --binary ./$(BIN) --engine "$(ENGINE)"

image: ## the Dockerfile built by the local Docker engine (classic builder) on local base images, tagged $(IMAGE)
	./infra/image/build.sh $(IMAGE)

clean:
	rm -rf bin

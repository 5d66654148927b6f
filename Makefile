# Partner-customer onboarding on Temporal. `make demo` runs it; `make test` tests it.
# TEMPORAL_SERVER=full runs any target on the full Temporal server instead of the dev server;
# TEMPORAL_SERVER=cluster on six of its processes behind HAProxy (scripts/stack.sh); STACK_TLS=mtls
# (full, cluster) makes the frontends require a client certificate from a local CA.
SHELL := /bin/bash
export PATH := $(CURDIR)/bin:$(PATH)

.PHONY: up down tools build lint test test-full test-cluster vet demo bench chaos scale-test images deploy-test record-histories clean

up: ## start the local stack (Temporal, its Web UI and codec server, Postgres, mailpit, the identity provider); idempotent
	@scripts/stack.sh up

down: ## stop what `make up` started
	@scripts/stack.sh down

tools: ## install the pinned tools into ./bin
	@scripts/stack.sh tools

build: ## build the binaries into ./bin
	go build -o bin/ ./worker ./starter ./webhook ./portal ./codecserver

images: ## an OCI image per binary (buildah, FROM scratch, non-root, the same digest for the same commit), tagged localhost/onboarding/NAME:dev
	@scripts/images.sh

deploy-test: ## make images, then play deploy/kubernetes's local overlay with podman against the stack: a release rolled, an onboarding end to end through the containers
	@scripts/deploy-test.sh

vet:
	go vet ./...

lint: ## no build output or large file tracked, gofmt, go vet, staticcheck
	@scripts/lint.sh

test: ## start what is missing, make lint, run every test with -race, stop what it started
	@scripts/test.sh

test-full: ## the integration tests and a small chaos run against the full Temporal server (TEMPORAL_SERVER=full)
	@TEMPORAL_SERVER=full scripts/test.sh

test-cluster: ## every test against the Temporal cluster (TEMPORAL_SERVER=cluster: six hosts behind HAProxy), every connection with mTLS (STACK_TLS=mtls)
	@TEMPORAL_SERVER=cluster STACK_TLS=mtls scripts/test.sh

demo: ## bring the stack up and onboard a customer end to end
	@scripts/demo.sh

bench: ## speed against Temporal's own ceiling, then the portal at 100,000 customers and the audit export at 1,000,000 events, on a private stack (.local/bench); BENCH_FLAGS="-n 300 -concurrency 50", BENCH_FLAGS="-only portal", BENCH_FLAGS="-only audit"
	go run ./bench $(BENCH_FLAGS)

chaos: ## kill worker, Postgres and Temporal during a mixed batch, then check nothing was lost (.local/chaos); CHAOS_FLAGS="-n 200"
	go run ./chaos $(CHAOS_FLAGS)

scale-test: ## 3 workers, 2 webhooks, 2 portals behind HAProxy (installed if missing) on a private stack (.local/scale); every tier rolled one at a time under load: 0 requests failed, 0 onboardings lost or duplicated, 0 emails duplicated; SCALE_FLAGS="-rate 5 -before 60s"
	go run ./scale $(SCALE_FLAGS)

record-histories: up ## add the replay-test histories that are missing, from real runs (recorded ones are never overwritten)
	@eval "$$(scripts/stack.sh env)" && go test -count=1 ./worker/ -args -record
	@ls workflows/testdata/histories

clean: ## stop what `make up` started and delete its state, Postgres's data included
	@scripts/stack.sh wipe

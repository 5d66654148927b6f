#!/usr/bin/env bash
# make test: start what is missing, run make lint and every test
# against the real stack, and stop only what this run started.
# TEMPORAL_SERVER=full (make test-full): every test against the full server;
# TEMPORAL_SERVER=cluster STACK_TLS=mtls (make test-cluster): against the
# six-host cluster behind HAProxy, every connection with a client certificate.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STATE=${STACK_STATE:-$ROOT/.local}
mkdir -p "$STATE"

. "$ROOT/scripts/ours.sh"

scripts/stack.sh up
eval "$(scripts/stack.sh env)"

# The browser test needs Debian's headless Chromium; install it when missing.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing chromium (Debian package) for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "make test: the browser test needs Chromium: run 'sudo apt-get install chromium', or set CHROMIUM to a Chromium binary" >&2
    exit 1
  fi
fi

if [ "${TEMPORAL_SERVER:-dev}" != dev ]; then
  # make test-full, make test-cluster: the same tests against the full
  # server or the cluster, for what depends on the server; vet, staticcheck
  # and the race detector are make test's, whatever the server.
  echo "== go test against the $TEMPORAL_SERVER Temporal server at $TEMPORAL_ADDRESS${STACK_TLS:+ (mTLS)}, Postgres, mailpit $MAILPIT_URL"
  go test -count=1 -timeout 30m ${GOTEST_FLAGS:-} ./...
  exit
fi

# make lint (tracked files, gofmt, go vet, staticcheck): its findings fail
# the run, but only after the tests, so that one run shows both.
lint=0
scripts/lint.sh || lint=$?
echo "== go test (race) against Temporal $TEMPORAL_ADDRESS, Postgres, mailpit $MAILPIT_URL"
go test -race -count=1 -timeout 20m ${GOTEST_FLAGS:-} ./...
[ "$lint" = 0 ] || { echo "make test: make lint found problems (above)" >&2; exit "$lint"; }

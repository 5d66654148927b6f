#!/usr/bin/env bash
# make deploy-test: build the images (make images) and check that the same
# commit gives the same digests (scripts/images.sh check), build the
# released worker and starter images, then play the local overlay of
# deploy/kubernetes with podman kube play against the stack and roll a
# release through it (deploy/deploytest, build tag deploytest). It starts
# the parts of the stack it needs when they are missing and stops only
# what it started, like make test. As root it installs podman, buildah and
# runc when missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STATE=${STACK_STATE:-$ROOT/.local}
mkdir -p "$STATE"
began=$SECONDS

. "$ROOT/scripts/ours.sh"

scripts/stack.sh up postgres temporal mailpit devidp
eval "$(scripts/stack.sh env)"

echo "== images"
scripts/images.sh
scripts/images.sh check
released=$(sed -n 's/^const ReleasedCommit = "\([0-9a-f]*\)"$/\1/p' internal/testenv/released.go)
[ -n "$released" ] || { echo "deploy-test: no ReleasedCommit in internal/testenv/released.go" >&2; exit 1; }
scripts/images.sh at "$released" worker starter

echo "== the local overlay with podman kube play, against Temporal $TEMPORAL_ADDRESS, Postgres, mailpit $MAILPIT_URL"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}
DEPLOY_IMAGE_TAG=$(git describe --tags --always --dirty) \
  go test -tags deploytest -count=1 -v -timeout 20m ${GOTEST_FLAGS:-} ./deploy/deploytest/
echo "deploy-test: passed in $((SECONDS - began))s"

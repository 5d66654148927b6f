#!/usr/bin/env bash
# make lint: what must hold of the tree before any test runs — no build
# output or large file tracked, gofmt, go vet, staticcheck (pinned).
#   scripts/lint.sh          every check
#   scripts/lint.sh tree     only the tracked files, of the git checkout at the working directory
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fail=0

# tree: no tracked file is an executable but a script, or over 1 MB, and
# no script pipes into a reader that stops early.
tree() {
  local meta f size
  while IFS= read -r -d '' meta; do
    f=${meta#*$'\t'}
    [ -f "$f" ] || continue
    size=$(stat -c %s "$f")
    if [ "$size" -gt 1048576 ]; then
      echo "lint: $f is $((size / 1024)) KiB: a tracked file may be at most 1 MB (build outputs and data belong outside git)" >&2
      fail=1
    fi
    # Git's mode, not the file system's: what a clone gets.
    if [ "${meta%% *}" = 100755 ] && [ "$(head -c 2 "$f")" != '#!' ]; then
      echo "lint: $f is an executable that is not a script: build outputs are never committed (git rm --cached it; .gitignore keeps it out)" >&2
      fail=1
    fi
  done < <(git ls-files --stage -z)
  pipes
}

# pipes: no script pipes into a reader that stops early (grep -q, grep -m,
# head). The reader's exit kills the writer with SIGPIPE, and under
# pipefail the pipeline fails although the reader found what it wanted.
# Read the output whole first: out=$(cmd); [[ $out == *word* ]].
pipes() {
  local f hits
  while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    case $f in *.sh | .ci/run | Makefile) ;; *) [ "$(head -c 2 "$f")" = '#!' ] || continue ;; esac
    hits=$(grep -nE '(^|[^|])\|[[:space:]]*(grep[[:space:]]+-[a-zA-Z]*[qm][a-zA-Z]*|head)([[:space:]]|$)' "$f" | grep -vE '^[0-9]+:[[:space:]]*#' || true)
    if [ -n "$hits" ]; then
      while IFS= read -r line; do
        echo "lint: $f:${line%%:*}: a pipe into a reader that stops early (grep -q, grep -m, head) fails under pipefail when the writer gets SIGPIPE: read the output into a variable first" >&2
      done <<<"$hits"
      fail=1
    fi
  done < <(git ls-files -z)
}

if [ "${1:-}" = tree ]; then
  tree
  exit $fail
fi
cd "$ROOT"
echo "== tracked files: no executables but scripts, none over 1 MB, no pipe into grep -q or head"
tree

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "lint: not gofmt'ed (run gofmt -w): $unformatted" >&2
  fail=1
fi

echo "== go vet"
go vet -tags deploytest ./... || fail=1 # the tag: make deploy-test's files too

echo "== staticcheck"
scripts/stack.sh tools staticcheck
bin/staticcheck -tags deploytest ./... || fail=1

exit $fail

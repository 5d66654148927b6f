# Sourced by scripts/test.sh and scripts/deploy-test.sh: at exit, stop the
# parts of the stack that this run started, and only those (what ran before
# it keeps running). Needs ROOT and STATE.
mkdir -p "$STATE"
before=$(cat "$STATE/started" 2>/dev/null || true)
stop_ours() {
  local now; now=$(tac "$STATE/started" 2>/dev/null || true) # last started, first stopped
  local ours=()
  for n in $now; do grep -qx "$n" <<<"$before" || ours+=("$n"); done
  [ ${#ours[@]} -eq 0 ] || "$ROOT/scripts/stack.sh" down "${ours[@]}"
}
trap stop_ours EXIT

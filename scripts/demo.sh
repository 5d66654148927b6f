#!/usr/bin/env bash
# make demo: bring the stack up, build and start the worker, the webhook and
# the partner portal, register the demo partners and their staff (the local
# identity provider's demo users), launch one onboarding and see it through.
# DEMO_WAIT=1 waits for a person to click the link instead of confirming.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STATE=${STACK_STATE:-$ROOT/.local}
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Starting the stack (the Temporal ${TEMPORAL_SERVER:-dev} server, its Web UI and codec server, Postgres, mailpit, the local identity provider)"
scripts/stack.sh up
eval "$(scripts/stack.sh env)"
WEBHOOK_ADDR=${WEBHOOK_ADDR:-127.0.0.1:8088}
WORKER_ADDR=${WORKER_ADDR:-127.0.0.1:9464}
PORTAL_ADDR=${PORTAL_ADDR:-127.0.0.1:8090}
export PORTAL_PUBLIC_URL=${PORTAL_PUBLIC_URL:-http://$PORTAL_ADDR}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://$WEBHOOK_ADDR}
UI=${TEMPORAL_UI_URL:-http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}}

say "Building the worker, the webhook, the portal and the starter into ./bin"
go build -o bin/ ./worker ./webhook ./portal ./starter

# (Re)start a binary in the background; `make down` stops it.
start() {
  local name=$1 health=$2
  if [ -f "$STATE/$name.pid" ] && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null; then
    kill "$(cat "$STATE/$name.pid")"; sleep 1
  fi
  setsid "bin/$name" </dev/null >"$STATE/$name.log" 2>&1 &
  echo $! > "$STATE/$name.pid"
  grep -qx "$name" "$STATE/started" 2>/dev/null || echo "$name" >> "$STATE/started"
  for _ in $(seq 100); do
    curl -fsS "$health" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "demo: $name did not start; the tail of $STATE/$name.log:" >&2
  tail -n 20 "$STATE/$name.log" >&2
  exit 1
}
say "Starting the worker (health http://$WORKER_ADDR/healthz) and the webhook ($PUBLIC_BASE_URL)"
WORKER_ADDR=$WORKER_ADDR start worker "http://$WORKER_ADDR/healthz"
WEBHOOK_ADDR=$WEBHOOK_ADDR start webhook "http://$WEBHOOK_ADDR/healthz"
say "Starting the partner portal ($PORTAL_PUBLIC_URL)"
PORTAL_ADDR=$PORTAL_ADDR start portal "http://$PORTAL_ADDR/healthz"

say "Registering the demo partners and who of them may sign in to the portal"
bin/starter partner add --id acme --name "ACME Integrators"
bin/starter partner add --id globex --name "Globex Partners"
# The dormant partner has no partner status: its user sees one page saying so.
bin/starter partner add --id dormant --name "Dormant Partners" --partner-status=false
bin/starter staff add --partner acme --email owner@acme.example --role owner --personal-data
bin/starter staff add --partner acme --email editor@acme.example --role editor --personal-data
bin/starter staff add --partner acme --email viewer@acme.example --role viewer
bin/starter staff add --partner dormant --email nostatus@dormant.example --role owner
bin/starter staff add --partner globex --email owner@globex.example --role owner --personal-data

CUSTOMER="Demo Customer $(date +%H%M%S)"
EMAIL="owner+$(date +%s)@demo-customer.example"
say "Launching the onboarding of \"$CUSTOMER\""
OUT=$(bin/starter add --partner acme --name "$CUSTOMER" --email "$EMAIL" --cloud demo-cloud --json)
ID=$(sed -n 's/.*"onboarding_id": *"\([^"]*\)".*/\1/p' <<<"$OUT")
RUN=$(sed -n 's/.*"run_id": *"\([^"]*\)".*/\1/p' <<<"$OUT")
[ -n "$ID" ] || { echo "demo: starter add printed no onboarding id: $OUT" >&2; exit 1; }
ENC_ID=$(sed 's/%/%25/g; s|/|%2F|g; s/ /%20/g' <<<"$ID")

# status_has WORD: the onboarding's status names WORD. The status is read
# whole before it is searched: a reader that stops early (grep -q) would
# kill the writer with SIGPIPE, and pipefail would fail the demo with it.
status_has() {
  local out
  out=$(bin/starter status "$ID" 2>/dev/null) || return 1
  [[ $out == *"$1"* ]]
}

# Wait until the email is out and the onboarding waits for confirmation.
for _ in $(seq 100); do
  status_has AWAITING_CONFIRMATION && break
  sleep 0.2
done
LINK_OUT=$(bin/starter link "$ID")
[[ $LINK_OUT =~ (https?://[^[:space:]]*confirm\?token=[^[:space:]]*) ]] || { echo "demo: starter link printed no link: $LINK_OUT" >&2; exit 1; }
LINK=${BASH_REMATCH[1]}

cat <<MSG

  Partner portal  $PORTAL_PUBLIC_URL — sign in as (email / password):
                    owner@acme.example       / demo-owner     owner of ACME Integrators (sees personal data)
                    editor@acme.example      / demo-editor    editor of ACME Integrators
                    viewer@acme.example      / demo-viewer    viewer of ACME Integrators (personal data masked)
                    owner@globex.example     / demo-globex    owner of Globex Partners (sees none of ACME's)
                    nostatus@dormant.example / demo-nostatus  a partner without partner status
  Onboarding id   $ID
  Web UI          $UI/namespaces/default/workflows/$ENC_ID/$RUN/history
  All onboardings $UI/namespaces/default/workflows?query=OnboardingPartner%3D%22acme%22
  Codec server    ${CODEC_URL:-http://127.0.0.1:8089}/ — payloads are encrypted: sign in there with the operators'
                  token (dev: dev-codec-token-change-me), and the Web UI shows the customer's data
  Mail inbox      ${MAILPIT_URL} (the confirmation email to $EMAIL)
  Confirm link    $LINK
MSG

if [ "${DEMO_WAIT:-0}" = 1 ]; then
  say "Waiting for you to open the link and press Confirm (Ctrl-C to stop); meanwhile, watch it in the portal"
else
  say "Confirming as the customer's browser would: POST /confirm"
  code=$(curl -sS -o /dev/null -w '%{http_code}' --data-urlencode "token=${LINK#*token=}" "$PUBLIC_BASE_URL/confirm")
  echo "webhook answered HTTP $code"
fi

for _ in $(seq 600); do
  status_has ACTIVE && break
  sleep 0.5
done
say "Final status"
bin/starter status "$ID"
status_has ACTIVE || { echo "demo: the onboarding did not become ACTIVE" >&2; exit 1; }
echo
echo "The stack, the worker, the webhook and the portal keep running; explore the portal ($PORTAL_PUBLIC_URL), the Web UI and the inbox. \`make down\` stops them."

#!/usr/bin/env bash
# The local stack: a Temporal dev server with its Web UI, a throwaway Postgres
# cluster, mailpit and the local OpenID Connect provider (devidp) with its
# demo users, all on loopback, state under .local/.
#
#   scripts/stack.sh up [NAME...]    start what is missing (default: temporal postgres mailpit devidp),
#                                    wait until it answers, print URLs
#   scripts/stack.sh down [NAME...]  stop only what `up` started
#   scripts/stack.sh kill postgres   stop Postgres hard, as a crash would (`up` brings it back)
#   scripts/stack.sh wipe            stop what `up` started and delete the state, Postgres's data included
#   scripts/stack.sh pgdata          print the folder that holds Postgres's data
#   scripts/stack.sh tools [NAME...] install the pinned tools into ./bin (default: all)
#   scripts/stack.sh env             print the environment that points at the stack
#
# A component is skipped when the environment already names one:
# TEMPORAL_ADDRESS, DATABASE_URL, SMTP_ADDR, OIDC_ISSUER.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
STATE=${STACK_STATE:-$ROOT/.local}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac # the Postgres folder is named after this path
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

TEMPORAL_VERSION=1.5.1
MAILPIT_VERSION=1.27.11
STATICCHECK_VERSION=0.8.2
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
TEMPORAL_METRICS_PORT=${TEMPORAL_METRICS_PORT:-7234}
PG_PORT=${PG_PORT:-55432}
SMTP_PORT=${SMTP_PORT:-1025}
MAILPIT_PORT=${MAILPIT_PORT:-8025}
DEVIDP_PORT=${DEVIDP_PORT:-5556}
# The portal's addresses the identity provider sends people back to; the
# local provider also takes these paths on any loopback port (tests).
PORTAL_PUBLIC_URL=${PORTAL_PUBLIC_URL:-http://${PORTAL_ADDR:-127.0.0.1:8090}}

# The workflow's custom search attributes; workflows/api.go names the same
# ones and a test keeps the two lists equal.
SEARCH_ATTRIBUTES=(OnboardingPartner=Keyword OnboardingStage=Keyword OnboardingOutcome=Keyword SubaccountStatus=Keyword DeleteAfter=Datetime)

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# pinned BINARY VERSION: the binary was built from its module at VERSION.
pinned() { go version -m "$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]].*[[:space:]]v$2([[:space:]]|$)"; }

# tool NAME PACKAGE VERSION [NOTE]: install PACKAGE@vVERSION as ./bin/NAME unless that build is there.
tool() {
  if ! [ -x "$BIN/$1" ] || ! pinned "$BIN/$1" "$3"; then
    log "installing $1 v$3 into ./bin${4:+ ($4)}"
    GOBIN=$BIN go install "$2@v$3"
  fi
}

# tools [NAME...]: install the named pinned tools, or all of them.
tools() {
  mkdir -p "$BIN"
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(temporal mailpit staticcheck)
  for name in "${names[@]}"; do
    case $name in
      temporal) tool temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_VERSION" "about 3 minutes, once" ;;
      mailpit) tool mailpit github.com/axllent/mailpit "$MAILPIT_VERSION" ;;
      staticcheck) tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION" ;;
      *) die "no tool named $name (temporal, mailpit, staticcheck)" ;;
    esac
  done
}

# alive NAME: the process recorded for NAME is running.
alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

# wait_for NAME SECONDS CMD...: poll CMD until it succeeds; on timeout print the log tail and fail.
wait_for() {
  local name=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || { [ -f "$STATE/$name.pid" ] && ! alive "$name"; }; then
      log "$name did not come up; the tail of $STATE/$name.log:"
      tail -n 30 "$STATE/$name.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# need_ports NAME PORT...: fail clearly when another program holds a port NAME needs.
need_ports() {
  local name=$1; shift
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "$name cannot start: port $port is taken by another program (stop it, or choose other ports: see README)"
    fi
  done
}

# started NAME: remember that `up` started NAME, so that `down` stops only it.
started() { grep -qx "$1" "$STATE/started" 2>/dev/null || echo "$1" >> "$STATE/started"; }

temporal_up() {
  if [ -n "${TEMPORAL_ADDRESS:-}" ]; then log "Temporal: using TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"; return; fi
  if ! alive temporal; then
    local attrs=()
    for a in "${SEARCH_ATTRIBUTES[@]}"; do attrs+=(--search-attribute "$a"); done
    need_ports temporal "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_METRICS_PORT"
    setsid "$BIN/temporal" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
      --metrics-port "$TEMPORAL_METRICS_PORT" --db-filename "$STATE/temporal.db" \
      --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL \
      --log-level warn "${attrs[@]}" </dev/null >"$STATE/temporal.log" 2>&1 &
    echo $! > "$STATE/temporal.pid"
    started temporal
  fi
  wait_for temporal 60 "$BIN/temporal" operator search-attribute list --address "127.0.0.1:$TEMPORAL_PORT" --namespace default
  # A state file from an older version of the project may lack an attribute; add what is missing.
  local have; have=$("$BIN/temporal" operator search-attribute list --address "127.0.0.1:$TEMPORAL_PORT" --namespace default)
  for a in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -q "${a%%=*}" <<<"$have" || "$BIN/temporal" operator search-attribute create --address "127.0.0.1:$TEMPORAL_PORT" \
      --namespace default --name "${a%%=*}" --type "${a##*=}" >/dev/null
  done
}

# as_pg CMD...: run CMD as the user Postgres runs as: the postgres user when
# the stack runs as root (initdb refuses root), else the current user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg() { as_pg "$PGBIN/$1" "${@:2}"; }

# pg_home: the folder of Postgres's data, socket and log. It is $STATE/pg,
# unless the stack runs as root and the postgres user cannot enter the state
# folder (say a checkout under a mode-700 /root): then a folder of the
# postgres user's own under /var/tmp (or $TMPDIR), named from a hash of the
# state path. `up` records it in $STATE/pg.home for `down`, `kill` and `wipe`.
pg_home() {
  if [ -f "$STATE/pg.home" ]; then cat "$STATE/pg.home"; return; fi
  if [ "$(id -u)" != 0 ] || as_pg test -x "$STATE" 2>/dev/null; then echo "$STATE/pg"; return; fi
  local hash base; hash=$(printf '%s' "$STATE" | sha256sum | cut -c1-16)
  for base in /var/tmp "${TMPDIR:-/tmp}"; do
    if as_pg test -w "$base" -a -x "$base" 2>/dev/null; then echo "$base/onboarding-pg-$hash"; return; fi
  done
  return 1
}

# pg_dirs HOME: create HOME/data and HOME/run for the user Postgres runs as.
pg_dirs() {
  local home=$1
  if [ "$home" != "$STATE/pg" ]; then
    # Made by the postgres user, so that a folder someone else made first
    # under a shared /var/tmp is refused, never taken over.
    as_pg mkdir -p -m 700 "$home" "$home/data" "$home/run"
    [ ! -L "$home" ] && [ "$(stat -c %U "$home")" = postgres ] \
      || die "$home belongs to someone else: remove it, or set STACK_STATE to a folder the postgres user can enter"
  else
    mkdir -p "$home/data" "$home/run"
    [ "$(id -u)" != 0 ] || chown -R postgres:postgres "$home"
  fi
  chmod 700 "$home/data"
}

postgres_up() {
  if [ -n "${DATABASE_URL:-}" ]; then log "Postgres: using DATABASE_URL"; return; fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    die "Postgres runs as the postgres user when the stack runs as root, and there is none: install postgresql-15, or run as another user"
  fi
  local home
  home=$(pg_home) || die "the postgres user can enter neither $STATE nor /var/tmp nor ${TMPDIR:-/tmp}: clone where it can, or set STACK_STATE to such a folder"
  echo "$home" > "$STATE/pg.home"
  local data=$home/data run=$home/run pglog=$STATE/postgres.log
  if ! [ -f "$data/PG_VERSION" ]; then
    pg_dirs "$home"
    pg initdb -D "$data" -U postgres -A trust -E UTF8 --locale C.UTF-8 >"$STATE/postgres-init.log" 2>&1 \
      || { tail -n 20 "$STATE/postgres-init.log" >&2; die "initdb failed"; }
  fi
  if ! pg pg_ctl -D "$data" status >/dev/null 2>&1; then
    rm -f "$data/postmaster.pid"
    need_ports postgres "$PG_PORT"
    if [ "$home" = "$STATE/pg" ]; then
      touch "$pglog"; [ "$(id -u)" != 0 ] || chown postgres "$pglog"
    else
      # The server opens its log itself, so it lives beside the data; the state folder links to it.
      pglog=$home/postgres.log
      as_pg touch "$pglog"; ln -sfn "$pglog" "$STATE/postgres.log"
    fi
    # fsync=off: a throwaway cluster; a killed server still keeps every committed row,
    # only a machine crash could lose them.
    pg pg_ctl -D "$data" -l "$pglog" -w -t 30 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $run -c fsync=off -c full_page_writes=off -c max_connections=200" >/dev/null \
      || { tail -n 20 "$pglog" >&2; die "Postgres did not start"; }
    started postgres
  fi
  wait_for postgres 30 "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -U postgres
  "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='onboarding'" | grep -q 1 \
    || "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres onboarding
}

mailpit_up() {
  if [ -n "${SMTP_ADDR:-}" ]; then log "SMTP: using SMTP_ADDR=$SMTP_ADDR"; return; fi
  if ! alive mailpit; then
    need_ports mailpit "$SMTP_PORT" "$MAILPIT_PORT"
    setsid "$BIN/mailpit" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_PORT" --max 0 \
      --database "$STATE/mailpit.db" </dev/null >"$STATE/mailpit.log" 2>&1 &
    echo $! > "$STATE/mailpit.pid"
    started mailpit
  fi
  wait_for mailpit 30 curl -fsS "http://127.0.0.1:$MAILPIT_PORT/api/v1/info"
}

devidp_up() {
  if [ -n "${OIDC_ISSUER:-}" ]; then log "OIDC: using OIDC_ISSUER=$OIDC_ISSUER"; return; fi
  # Built from this repository (devidp/), like the binaries; go build is
  # incremental, so this is quick after the first time.
  go build -o "$BIN/devidp" "$ROOT/devidp"
  if ! alive devidp; then
    need_ports devidp "$DEVIDP_PORT"
    DEVIDP_ADDR="127.0.0.1:$DEVIDP_PORT" DEVIDP_KEY_FILE="$STATE/devidp-key.pem" \
      DEVIDP_REDIRECT_URIS="$PORTAL_PUBLIC_URL/auth/callback" DEVIDP_POST_LOGOUT_REDIRECT_URIS="$PORTAL_PUBLIC_URL/signed-out" \
      setsid "$BIN/devidp" </dev/null >"$STATE/devidp.log" 2>&1 &
    echo $! > "$STATE/devidp.pid"
    started devidp
  fi
  wait_for devidp 30 curl -fsS "http://127.0.0.1:$DEVIDP_PORT/healthz"
}

# up [NAME...]: start the named components (default: all four) and say where they answer.
up() {
  mkdir -p "$STATE"
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(temporal postgres mailpit devidp)
  local temporal='' mail='' pgdsn='' idp=''
  for name in "${names[@]}"; do
    case $name in
      temporal)
        [ -n "${TEMPORAL_ADDRESS:-}" ] || tools temporal
        temporal_up
        temporal="  Temporal frontend  ${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}
  Temporal Web UI    $( [ -n "${TEMPORAL_ADDRESS:-}" ] && echo "(your Temporal's UI)" || echo "http://127.0.0.1:$TEMPORAL_UI_PORT" )
" ;;
      postgres)
        postgres_up
        pgdsn="  Postgres DSN       ${DATABASE_URL:-postgres://postgres@127.0.0.1:$PG_PORT/onboarding?sslmode=disable}
" ;;
      mailpit)
        [ -n "${SMTP_ADDR:-}" ] || tools mailpit
        mailpit_up
        mail="  mail inbox         $( [ -n "${SMTP_ADDR:-}" ] && echo "(your mail relay)" || echo "http://127.0.0.1:$MAILPIT_PORT" )
" ;;
      devidp)
        devidp_up
        idp="  OIDC issuer        ${OIDC_ISSUER:-http://127.0.0.1:$DEVIDP_PORT} $( [ -n "${OIDC_ISSUER:-}" ] || echo "(demo users: devidp/README.md)" )
" ;;
      *) die "no component named $name (temporal, postgres, mailpit, devidp)" ;;
    esac
  done
  printf 'stack is up:\n%s%s%s%s' "$temporal" "$mail" "$idp" "$pgdsn"
}

stop_pid() {
  local name=$1
  if alive "$name"; then
    local pid; pid=$(cat "$STATE/$name.pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid"
}

# down [NAME...]: stop the named components (default: all that `up` started).
down() {
  [ -f "$STATE/started" ] || { log "nothing to stop"; return; }
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || mapfile -t names < "$STATE/started"
  for name in "${names[@]}"; do
    grep -qx "$name" "$STATE/started" || continue
    case $name in
      postgres) pg pg_ctl -D "$(pg_home)/data" -m fast -w stop >/dev/null 2>&1 || true ;;
      *) stop_pid "$name" ;;
    esac
    log "stopped $name"
    sed -i "/^$name\$/d" "$STATE/started"
  done
  [ -s "$STATE/started" ] || rm -f "$STATE/started"
}

# kill postgres: stop Postgres at once, as a crash would; `up` starts it again.
kill_() {
  [ "$*" = postgres ] || die "usage: scripts/stack.sh kill postgres"
  local out
  out=$(pg pg_ctl -D "$(pg_home)/data" -m immediate -w stop 2>&1) || die "pg_ctl stop -m immediate: $out"
}

# wipe: stop what `up` started and delete the state folder and Postgres's data wherever it is.
wipe() {
  down
  local home; home=$(pg_home) || home=
  if [ -n "$home" ] && pg pg_ctl -D "$home/data" status >/dev/null 2>&1; then
    pg pg_ctl -D "$home/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  case $home in */onboarding-pg-*) rm -rf "$home" ;; esac # only a folder pg_home named outside the state folder
  rm -rf "$STATE"
}

pgdata() { local home; home=$(pg_home) || die "no folder for Postgres's data: see scripts/stack.sh up"; echo "$home/data"; }

env_() {
  echo "export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}"
  echo "export DATABASE_URL='${DATABASE_URL:-postgres://postgres@127.0.0.1:$PG_PORT/onboarding?sslmode=disable}'"
  echo "export SMTP_ADDR=${SMTP_ADDR:-127.0.0.1:$SMTP_PORT}"
  echo "export MAILPIT_URL=${MAILPIT_URL:-http://127.0.0.1:$MAILPIT_PORT}"
  echo "export TEMPORAL_METRICS_URL=${TEMPORAL_METRICS_URL:-http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics}"
  echo "export OIDC_ISSUER=${OIDC_ISSUER:-http://127.0.0.1:$DEVIDP_PORT}"
}

cmd=${1:-}
shift || true
case $cmd in
  up) up "$@" ;;
  down) down "$@" ;;
  kill) kill_ "$@" ;;
  wipe) wipe ;;
  pgdata) pgdata ;;
  tools) tools "$@" ;;
  env) env_ ;;
  *) die "usage: scripts/stack.sh up|down|kill|wipe|pgdata|tools|env" ;;
esac

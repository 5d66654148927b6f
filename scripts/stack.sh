#!/usr/bin/env bash
# The local stack: a Temporal server, its Web UI and the codec server that
# decodes payloads for it, a throwaway Postgres cluster, mailpit and the local
# OpenID Connect provider (devidp) with its demo users, all on loopback,
# state under .local/.
#
# TEMPORAL_SERVER chooses the Temporal server: "dev" (the default) is the
# temporal CLI's dev server, one process on SQLite; "full" is the Temporal
# server itself — frontend, history, matching and worker services — on its
# own two databases (temporal, temporal_visibility) in the stack's Postgres
# cluster, the schema created and upgraded by Temporal's schema tool;
# "cluster" is the same server as six processes — two frontends, two
# history hosts, matching and the worker service, 8 history shards — on two
# databases of their own (temporal_cluster, temporal_cluster_visibility),
# the frontends behind HAProxy in TCP mode on TEMPORAL_PORT (health-checked,
# so clients reach whichever frontend is up), each host with its own
# config, ports (from TEMPORAL_INTERNAL_PORT), metrics, pid and log
# ($STATE/temporal-HOST.{pid,log}).
#
# STACK_TLS=mtls (full and cluster) makes `up` create a local CA and
# certificates under $STATE/tls (openssl) and the frontends require mTLS
# (internode traffic too); `env` then names the client certificate
# (TEMPORAL_TLS_*), which every binary, the CLI calls and the Web UI use.
#
#   scripts/stack.sh up [NAME...]    start what is missing (default: postgres temporal ui codec mailpit devidp;
#                                    temporal-HOST: that host of the cluster),
#                                    wait until it answers, print URLs
#   scripts/stack.sh down [NAME...]  stop only what `up` started
#   scripts/stack.sh kill postgres   stop Postgres hard, as a crash would (`up` brings it back)
#   scripts/stack.sh kill temporal   SIGKILL the Temporal server, every host of a cluster (`up` brings it back)
#   scripts/stack.sh kill temporal-HOST  SIGKILL one host of the cluster: temporal-frontend-1, temporal-frontend-2,
#                                    temporal-history-1, temporal-history-2, temporal-matching, temporal-worker
#                                    (`up`, or `up temporal-HOST`, brings it back)
#   scripts/stack.sh wipe            stop what `up` started and delete the state, Postgres's data included
#   scripts/stack.sh pgdata          print the folder that holds Postgres's data
#   scripts/stack.sh schema          print the folder of the pinned server's Postgres schema
#   scripts/stack.sh tools [NAME...] install the pinned tools into ./bin (default: all)
#   scripts/stack.sh env             print the environment that points at the stack
#
# A component is skipped when the environment already names one:
# TEMPORAL_ADDRESS (then the Web UI shows that server), DATABASE_URL, SMTP_ADDR, OIDC_ISSUER.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
STATE=${STACK_STATE:-$ROOT/.local}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac # the Postgres folder is named after this path
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

TEMPORAL_SERVER=${TEMPORAL_SERVER:-dev}
case $TEMPORAL_SERVER in dev|full|cluster) ;; *) echo "stack: TEMPORAL_SERVER=$TEMPORAL_SERVER: want dev, full or cluster" >&2; exit 2 ;; esac
# STACK_TLS=mtls: the frontends require mTLS (not TEMPORAL_TLS, which the
# binaries read as true or false).
STACK_TLS=${STACK_TLS:-}
case $STACK_TLS in ''|mtls) ;; *) echo "stack: STACK_TLS=$STACK_TLS: want mtls or nothing" >&2; exit 2 ;; esac
[ -z "$STACK_TLS" ] || [ "$TEMPORAL_SERVER" != dev ] || { echo "stack: STACK_TLS=mtls needs TEMPORAL_SERVER=full or cluster (the dev server has no mTLS)" >&2; exit 2; }

TEMPORAL_VERSION=1.5.1         # the temporal CLI, whose dev server embeds server v1.29.1
TEMPORAL_SERVER_VERSION=1.29.1 # the full server and its schema tool: the same server
UI_SERVER_VERSION=2.42.1       # the standalone Web UI
MAILPIT_VERSION=1.27.11
STATICCHECK_VERSION=0.8.2
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
# The full server's HTTP API (the dev server picks a free port itself).
TEMPORAL_HTTP_PORT=${TEMPORAL_HTTP_PORT:-$((TEMPORAL_PORT + 10))}
# The full server's services talk to each other on seven ports from here:
# frontend membership, then history, matching and worker (gRPC, membership).
# The cluster's six hosts take four each from here (CLUSTER_PORTS in all):
# gRPC, membership, metrics, HTTP (frontends), in the order of CLUSTER_HOSTS.
TEMPORAL_INTERNAL_PORT=${TEMPORAL_INTERNAL_PORT:-17233}
CLUSTER_HOSTS=(frontend-1 frontend-2 history-1 history-2 matching worker)
CLUSTER_PORTS=24
CLUSTER_SHARDS=8
CODEC_PORT=${CODEC_PORT:-8089}
CODEC_URL=http://127.0.0.1:$CODEC_PORT
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
pinned() { local m; m=$(go version -m "$1" 2>/dev/null) && grep -qE "^[[:space:]]+mod[[:space:]].*[[:space:]]v$2([[:space:]]|$)" <<<"$m"; }

# tool NAME PACKAGE VERSION [NOTE]: install PACKAGE@vVERSION as ./bin/NAME unless that build is there.
tool() {
  if ! [ -x "$BIN/$1" ] || ! pinned "$BIN/$1" "$3"; then
    log "installing $1 v$3 into ./bin${4:+ ($4)}"
    # Built aside and renamed: several packages are called "server".
    local tmp; tmp=$(mktemp -d "$BIN/.install-XXXXXX")
    GOBIN=$tmp go install "$2@v$3" || { rm -rf "$tmp"; return 1; }
    mv "$tmp/${2##*/}" "$BIN/$1"
    rm -rf "$tmp"
  fi
}

# schema_dir: the Postgres schema of the pinned server, from its module.
schema_dir() {
  local dir
  dir=$(go mod download -json "go.temporal.io/server@v$TEMPORAL_SERVER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/schema/postgresql/v12" ] || die "no Postgres schema in go.temporal.io/server@v$TEMPORAL_SERVER_VERSION ($dir)"
  echo "$dir/schema/postgresql/v12"
}

# tools [NAME...]: install the named pinned tools, or all of them.
tools() {
  mkdir -p "$BIN"
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(temporal temporal-server temporal-sql-tool temporal-ui-server mailpit staticcheck)
  for name in "${names[@]}"; do
    case $name in
      temporal) tool temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_VERSION" "about 3 minutes, once" ;;
      temporal-server) tool temporal-server go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION" "a few minutes, once" ;;
      temporal-sql-tool) tool temporal-sql-tool go.temporal.io/server/cmd/tools/sql "$TEMPORAL_SERVER_VERSION" ;;
      temporal-ui-server) tool temporal-ui-server github.com/temporalio/ui-server/v2/cmd/server "$UI_SERVER_VERSION" "a minute or two, once" ;;
      mailpit) tool mailpit github.com/axllent/mailpit "$MAILPIT_VERSION" ;;
      staticcheck) tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION" ;;
      *) die "no tool named $name (temporal, temporal-server, temporal-sql-tool, temporal-ui-server, mailpit, staticcheck)" ;;
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
      die "$name cannot start: port $port is taken by another program (stop it, or choose other ports: see docs/operations.md, "A local stack on other ports")"
    fi
  done
}

# started NAME: remember that `up` started NAME, so that `down` stops only it.
started() { grep -qx "$1" "$STATE/started" 2>/dev/null || echo "$1" >> "$STATE/started"; }

# tcli ARGS...: the temporal CLI against the stack's frontend (the balancer
# of a cluster), with the client certificate when the frontends require mTLS.
tcli() {
  local tls=()
  [ -z "$STACK_TLS" ] || tls=(--tls-ca-path "$STATE/tls/ca.pem" --tls-cert-path "$STATE/tls/client.pem"
    --tls-key-path "$STATE/tls/client-key.pem" --tls-server-name "$TLS_SERVER_NAME")
  "$BIN/temporal" "$@" --address "${TCLI_ADDR:-127.0.0.1:$TEMPORAL_PORT}" "${tls[@]}"
}

# temporal_alive: some process of the stack's Temporal server is running.
temporal_alive() {
  alive temporal && return
  local h
  for h in "${CLUSTER_HOSTS[@]}"; do alive "temporal-$h" && return; done
  return 1
}

temporal_up() {
  if [ -n "${TEMPORAL_ADDRESS:-}" ]; then log "Temporal: using TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"; return; fi
  local running; running=$(cat "$STATE/temporal.server" 2>/dev/null || echo dev)
  if temporal_alive && [ "$running" != "$TEMPORAL_SERVER" ]; then
    die "the Temporal $running server of this stack is running, not the $TEMPORAL_SERVER one: stop it first (make down), or use another STACK_STATE"
  fi
  local tls; tls=$(cat "$STATE/temporal.tls" 2>/dev/null || true)
  if temporal_alive && [ "$tls" != "$STACK_TLS" ]; then
    die "the Temporal server of this stack runs with STACK_TLS=${tls:-(none)}, not ${STACK_TLS:-(none)}: stop it first (make down), or use another STACK_STATE"
  fi
  # Written first, so that a start that fails half-way is still known for what it is.
  echo "$TEMPORAL_SERVER" > "$STATE/temporal.server"
  echo "$STACK_TLS" > "$STATE/temporal.tls"
  [ -z "$STACK_TLS" ] || tls_up
  case $TEMPORAL_SERVER in
    full) temporal_full_up ;;
    cluster) temporal_cluster_up ;;
    *) temporal_dev_up ;;
  esac
  local watch=temporal
  [ "$TEMPORAL_SERVER" != cluster ] || watch=temporal-frontend-1
  wait_for "$watch" 120 tcli operator search-attribute list --namespace default
  # A state from an older version of the project may lack an attribute; add what is missing.
  local have; have=$(tcli operator search-attribute list --namespace default)
  for a in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -qw "${a%%=*}" <<<"$have" || tcli operator search-attribute create \
      --namespace default --name "${a%%=*}" --type "${a##*=}" >/dev/null
  done
}

# temporal_dev_up: the temporal CLI's dev server, without its own Web UI
# (the standalone one, `ui`, is the same in both modes).
temporal_dev_up() {
  alive temporal && return
  local attrs=()
  for a in "${SEARCH_ATTRIBUTES[@]}"; do attrs+=(--search-attribute "$a"); done
  need_ports temporal "$TEMPORAL_PORT" "$TEMPORAL_METRICS_PORT"
  setsid "$BIN/temporal" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --headless \
    --metrics-port "$TEMPORAL_METRICS_PORT" --db-filename "$STATE/temporal.db" \
    --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL \
    --log-level warn "${attrs[@]}" </dev/null >"$STATE/temporal.log" 2>&1 &
  echo $! > "$STATE/temporal.pid"
  started temporal
}

# temporal_databases DB VISIBILITY: the server's two databases in the
# stack's Postgres, created when missing and brought to the pinned server's
# newest schema.
temporal_databases() {
  cluster_up
  local db schema; schema=$(schema_dir)
  for db in "$1" "$2"; do
    local dir=$schema/temporal/versioned
    [ "$db" = "$1" ] || dir=$schema/visibility/versioned
    local sql=("$BIN/temporal-sql-tool" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u postgres --db "$db")
    if [ "$(psql_ -tAc "SELECT 1 FROM pg_database WHERE datname='$db'")" != 1 ]; then
      "${sql[@]}" create-database >>"$STATE/temporal-schema.log" 2>&1 || { tail -n 20 "$STATE/temporal-schema.log" >&2; die "create database $db failed"; }
    fi
    if [ "$(psql_ -d "$db" -tAc "SELECT 1 FROM information_schema.tables WHERE table_name='schema_version'")" != 1 ]; then
      "${sql[@]}" setup-schema -v 0.0 >>"$STATE/temporal-schema.log" 2>&1 || { tail -n 20 "$STATE/temporal-schema.log" >&2; die "schema setup of $db failed"; }
    fi
    # Idempotent: applies the versions the database lacks, so a newer pin upgrades it.
    "${sql[@]}" update-schema -d "$dir" >>"$STATE/temporal-schema.log" 2>&1 || { tail -n 20 "$STATE/temporal-schema.log" >&2; die "schema upgrade of $db failed"; }
  done
}

# namespace_default: the full server starts with no namespace; the dev
# server makes "default" itself.
namespace_default() {
  if ! tcli operator namespace describe --namespace default >/dev/null 2>&1; then
    tcli operator namespace create --namespace default --retention 72h >/dev/null
  fi
  [ "$TEMPORAL_SERVER" = cluster ] || return 0
  # Each frontend learns of a new namespace on its own (its namespace
  # cache, refreshed every second; describe reads the database, listing
  # the search attributes the cache): wait until both know it.
  local h
  for h in frontend-1 frontend-2; do
    TCLI_ADDR=127.0.0.1:$(host_port $h 0) wait_for "temporal-$h" 30 tcli operator search-attribute list --namespace default
  done
}

# temporal_full_up: the Temporal server's four services in one process, on
# the databases temporal and temporal_visibility of the stack's Postgres.
temporal_full_up() {
  temporal_databases temporal temporal_visibility
  alive temporal && return
  local p=$TEMPORAL_INTERNAL_PORT
  # The server keeps membership ports in a SMALLINT column.
  [ $((p + 6)) -le 32767 ] || die "TEMPORAL_INTERNAL_PORT=$p: the full server's seven internal ports must lie below 32768"
  need_ports temporal "$TEMPORAL_PORT" "$TEMPORAL_HTTP_PORT" "$TEMPORAL_METRICS_PORT" $(seq "$p" $((p + 6)))
  mkdir -p "$STATE/temporal-server/config"
  full_config "$p" > "$STATE/temporal-server/config/development.yaml"
  full_dynamic_config > "$STATE/temporal-server/dynamicconfig.yaml"
  setsid "$BIN/temporal-server" --root "$STATE/temporal-server" --config config --env development --allow-no-auth start \
    </dev/null >"$STATE/temporal.log" 2>&1 &
  echo $! > "$STATE/temporal.pid"
  started temporal
  wait_for temporal 120 tcli operator cluster health
  namespace_default
}

# server_config DB VISIBILITY SHARDS CONNS VISCONNS METRICS_PORT DYNAMIC SERVICES:
# a server's configuration on those databases, every port on loopback;
# SERVICES is the YAML of its services: section.
server_config() {
  local tls; tls=$(tls_config)
  [ -z "$tls" ] || tls+=$'\n'
  cat <<YAML
# Written by scripts/stack.sh for this stack; edits are overwritten.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: $3
  datastores:
    postgres-default:
      sql: {pluginName: postgres12, databaseName: $1, connectAddr: "127.0.0.1:$PG_PORT", connectProtocol: tcp,
            user: postgres, maxConns: $4, maxIdleConns: $4, maxConnLifetime: 1h}
    postgres-visibility:
      sql: {pluginName: postgres12, databaseName: $2, connectAddr: "127.0.0.1:$PG_PORT", connectProtocol: tcp,
            user: postgres, maxConns: $5, maxIdleConns: $5, maxConnLifetime: 1h}
global:
  membership: {maxJoinDuration: 30s, broadcastAddress: 127.0.0.1}
  metrics:
    prometheus: {framework: tally, timerType: histogram, listenAddress: "127.0.0.1:$6"}
${tls}services:
$8
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active: {enabled: true, initialFailoverVersion: 1, rpcName: frontend, rpcAddress: "127.0.0.1:$TEMPORAL_PORT"}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "$7"
  pollInterval: 10s
YAML
}

# full_config BASE: the full server's configuration, its four services'
# internal ports from BASE.
full_config() {
  local p=$1
  server_config temporal temporal_visibility 4 20 10 "$TEMPORAL_METRICS_PORT" "$STATE/temporal-server/dynamicconfig.yaml" "\
  frontend:
    rpc: {grpcPort: $TEMPORAL_PORT, membershipPort: $p, bindOnLocalHost: true, httpPort: $TEMPORAL_HTTP_PORT}
  history:
    rpc: {grpcPort: $((p + 1)), membershipPort: $((p + 2)), bindOnLocalHost: true}
  matching:
    rpc: {grpcPort: $((p + 3)), membershipPort: $((p + 4)), bindOnLocalHost: true}
  worker:
    rpc: {grpcPort: $((p + 5)), membershipPort: $((p + 6)), bindOnLocalHost: true}"
}

# host_port HOST WHICH: a cluster host's port: WHICH is 0 gRPC, 1 membership,
# 2 metrics (frontend-1's is TEMPORAL_METRICS_PORT), 3 HTTP (frontends).
host_port() {
  local k
  for k in "${!CLUSTER_HOSTS[@]}"; do
    [ "${CLUSTER_HOSTS[$k]}" = "$1" ] || continue
    if [ "$1" = frontend-1 ] && [ "$2" = 2 ]; then echo "$TEMPORAL_METRICS_PORT"; return; fi
    echo $((TEMPORAL_INTERNAL_PORT + 4 * k + $2))
    return
  done
  die "no cluster host named $1 (${CLUSTER_HOSTS[*]})"
}

# cluster_host HOST: whether HOST is one of the cluster's.
cluster_host() { local h; for h in "${CLUSTER_HOSTS[@]}"; do [ "$h" = "$1" ] && return; done; return 1; }

# cluster_config HOST: the configuration of one host of the cluster. It
# runs one service on its own ports; the server still wants every service
# named (the membership monitor tracks those), so the others are given the
# ports of their first host. Its connection pools are sized so that the six
# (105 connections in all) leave room in Postgres's 300 for the binaries.
cluster_config() {
  local h=$1 service=${1%-[0-9]} conns visconns services='' s
  case $service in
    history) conns=20 visconns=5 ;;
    frontend | matching) conns=10 visconns=5 ;;
    *) conns=5 visconns=5 ;;
  esac
  for s in frontend history matching worker; do
    local at=$h
    [ "$s" = "$service" ] || case $s in frontend | history) at=$s-1 ;; *) at=$s ;; esac
    local http=''
    [ "$s" != frontend ] || http=", httpPort: $(host_port "$at" 3)"
    services+="  $s:
    rpc: {grpcPort: $(host_port "$at" 0), membershipPort: $(host_port "$at" 1), bindOnLocalHost: true$http}
"
  done
  server_config temporal_cluster temporal_cluster_visibility "$CLUSTER_SHARDS" $conns $visconns "$(host_port "$h" 2)" \
    "$STATE/temporal-cluster/dynamicconfig.yaml" "${services%$'\n'}"
}

# port_open PORT: something listens on the loopback port.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# host_start HOST: start one host of the cluster, with a configuration
# written for it.
host_start() {
  local h=$1 dir=$STATE/temporal-cluster/$1
  alive "temporal-$h" && return
  local ports=("$(host_port "$h" 0)" "$(host_port "$h" 1)" "$(host_port "$h" 2)")
  case $h in frontend-*) ports+=("$(host_port "$h" 3)") ;; esac
  need_ports "temporal-$h" "${ports[@]}"
  mkdir -p "$dir/config"
  cluster_config "$h" > "$dir/config/development.yaml"
  setsid "$BIN/temporal-server" --root "$dir" --config config --env development --allow-no-auth start --service "${h%-[0-9]}" \
    </dev/null >>"$STATE/temporal-$h.log" 2>&1 &
  echo $! > "$STATE/temporal-$h.pid"
}

# host_wait HOST: wait until the host's gRPC port answers (the worker
# service serves none: its membership port).
host_wait() {
  local which=0
  [ "$1" != worker ] || which=1
  wait_for "temporal-$1" 60 port_open "$(host_port "$1" $which)"
}

# temporal_cluster_up: the six hosts of the cluster and the balancer in
# front of its frontends, starting what is missing.
temporal_cluster_up() {
  temporal_databases temporal_cluster temporal_cluster_visibility
  local p=$TEMPORAL_INTERNAL_PORT
  # The server keeps membership ports in a SMALLINT column.
  [ $((p + CLUSTER_PORTS - 1)) -le 32767 ] || die "TEMPORAL_INTERNAL_PORT=$p: the cluster's $CLUSTER_PORTS internal ports must lie below 32768"
  mkdir -p "$STATE/temporal-cluster"
  full_dynamic_config > "$STATE/temporal-cluster/dynamicconfig.yaml"
  lb_up
  local missing=() h
  for h in "${CLUSTER_HOSTS[@]}"; do alive "temporal-$h" || missing+=("$h"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ ${#missing[@]} -eq ${#CLUSTER_HOSTS[@]} ]; then
      # None runs: one host first, alone, so that the cluster's metadata is
      # written once (hosts started together on an empty database race on
      # it, and one exits on "SaveClusterMetadata encountered version mismatch").
      host_start "${missing[0]}"
      host_wait "${missing[0]}"
      missing=("${missing[@]:1}")
    fi
    for h in "${missing[@]}"; do host_start "$h"; done
    for h in "${missing[@]}"; do host_wait "$h"; done
  fi
  started temporal
  wait_for temporal-frontend-1 120 tcli operator cluster health
  namespace_default
}

# lb_up: HAProxy in TCP mode on TEMPORAL_PORT (and TEMPORAL_HTTP_PORT),
# balancing the frontends it finds answering (a TCP check every 500 ms); a
# connection to a frontend that just died is sent to the other.
lb_up() {
  if ! command -v haproxy >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      log "installing haproxy (Debian package) for the cluster's balancer"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
    else
      die "TEMPORAL_SERVER=cluster needs HAProxy: run 'sudo apt-get install haproxy'"
    fi
  fi
  alive temporal-lb && return
  need_ports temporal-lb "$TEMPORAL_PORT" "$TEMPORAL_HTTP_PORT"
  cat > "$STATE/temporal-cluster/haproxy.cfg" <<CFG
# Written by scripts/stack.sh for this stack; edits are overwritten.
global
  maxconn 4096
  log stderr format short local0 notice
defaults
  mode tcp
  log global
  timeout connect 1s
  # gRPC long polls last up to 70 s; the SDK's keep-alive pings keep idle
  # connections open.
  timeout client 10m
  timeout server 10m
  timeout check 1s
  retries 3
  option redispatch
  default-server check inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
$(lb_section grpc "$TEMPORAL_PORT" 0)
$(lb_section http "$TEMPORAL_HTTP_PORT" 3)
CFG
  setsid haproxy -db -f "$STATE/temporal-cluster/haproxy.cfg" </dev/null >>"$STATE/temporal-lb.log" 2>&1 &
  echo $! > "$STATE/temporal-lb.pid"
  started temporal
  wait_for temporal-lb 10 port_open "$TEMPORAL_PORT"
}

# lb_section NAME PORT WHICH: HAProxy's listener on PORT and its backend,
# the frontends' port WHICH (host_port).
lb_section() {
  printf 'frontend temporal-%s\n  bind 127.0.0.1:%s\n  default_backend frontends-%s\nbackend frontends-%s\n  balance roundrobin\n' "$1" "$2" "$1" "$1"
  local h
  for h in frontend-1 frontend-2; do printf '  server %s 127.0.0.1:%s\n' "$h" "$(host_port "$h" "$3")"; done
}

# temporal_down: stop every process of the Temporal server, the cluster's
# balancer last.
temporal_down() {
  local h
  stop_pid temporal
  for h in "${CLUSTER_HOSTS[@]}"; do stop_pid "temporal-$h"; done
  stop_pid temporal-lb
}

# sigkill NAME: SIGKILL the process recorded for NAME and wait until it is gone.
sigkill() {
  alive "$1" || die "kill $1: it is not running"
  local pid; pid=$(cat "$STATE/$1.pid")
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$STATE/$1.pid"
}

# full_dynamic_config: the server's dynamic settings. Its defaults are the
# production ones; these only make a local stack answer at once.
full_dynamic_config() {
  cat <<'YAML'
# Search attributes and namespaces are read fresh, so that what `up`
# registers is usable the moment it is registered.
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
system.namespaceCacheRefreshInterval:
  - value: 1s
YAML
}

# The name the frontends' certificate is issued to (and 127.0.0.1).
TLS_SERVER_NAME=localhost

# tls_up: a local CA and, signed by it, the server's certificate (for the
# frontends and internode traffic, so for client use too) and a client
# certificate, under $STATE/tls, made once (valid 90 days; `make clean`
# removes them).
tls_up() {
  local d=$STATE/tls
  [ -f "$d/client.pem" ] && [ -f "$d/server.pem" ] && return
  command -v openssl >/dev/null || die "STACK_TLS=mtls needs openssl (apt-get install openssl)"
  mkdir -p "$d" && chmod 700 "$d"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  {
    openssl req -x509 "${ec[@]}" -days 90 -subj "/CN=onboarding local stack CA" -keyout "$d/ca-key.pem" -out "$d/ca.pem" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req "${ec[@]}" -subj "/CN=$TLS_SERVER_NAME" -keyout "$d/server-key.pem" -out "$d/server.csr"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 90 -out "$d/server.pem" \
      -extfile <(printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' "$TLS_SERVER_NAME")
    openssl req "${ec[@]}" -subj "/CN=onboarding-client" -keyout "$d/client-key.pem" -out "$d/client.csr"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 90 -out "$d/client.pem" \
      -extfile <(printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n')
  } >"$STATE/tls.log" 2>&1 || { tail -n 20 "$STATE/tls.log" >&2; die "making the local CA and certificates failed"; }
  rm -f "$d"/*.csr "$d/ca.srl"
  chmod 600 "$d"/*-key.pem
  log "made a local CA and certificates in $d (STACK_TLS=mtls)"
}

# tls_config: the global.tls section of the server's configuration (none
# without STACK_TLS): the frontends require a client certificate signed by
# the local CA; the hosts talk to each other with mutual TLS too; the
# worker service reaches the frontends with the client certificate.
tls_config() {
  [ -n "$STACK_TLS" ] || return 0
  local d=$STATE/tls
  cat <<YAML
  tls:
    internode:
      server: {certFile: "$d/server.pem", keyFile: "$d/server-key.pem", requireClientAuth: true, clientCaFiles: ["$d/ca.pem"]}
      client: {serverName: $TLS_SERVER_NAME, rootCaFiles: ["$d/ca.pem"]}
    frontend:
      server: {certFile: "$d/server.pem", keyFile: "$d/server-key.pem", requireClientAuth: true, clientCaFiles: ["$d/ca.pem"]}
      client: {serverName: $TLS_SERVER_NAME, rootCaFiles: ["$d/ca.pem"]}
    systemWorker:
      certFile: "$d/client.pem"
      keyFile: "$d/client-key.pem"
      client: {serverName: $TLS_SERVER_NAME, rootCaFiles: ["$d/ca.pem"]}
YAML
}

# as_pg CMD...: run CMD as the user Postgres runs as: the postgres user when
# the stack runs as root (initdb refuses root), else the current user.
as_pg() {
  # From /, which the postgres user can enter wherever the checkout is
  # (every path given is absolute).
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
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

# psql_ ARGS...: psql as the superuser of the stack's cluster.
psql_() { "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

# postgres_up: the onboarding database, in the stack's cluster unless
# DATABASE_URL names another.
postgres_up() {
  if [ -n "${DATABASE_URL:-}" ]; then log "Postgres: using DATABASE_URL"; return; fi
  cluster_up
  [ "$(psql_ -tAc "SELECT 1 FROM pg_database WHERE datname='onboarding'")" = 1 ] \
    || "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres onboarding
}

# cluster_up: the stack's throwaway Postgres cluster, which holds the
# onboarding database and, with the full server, Temporal's two.
cluster_up() {
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
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $run -c fsync=off -c full_page_writes=off -c max_connections=300" >/dev/null \
      || { tail -n 20 "$pglog" >&2; die "Postgres did not start"; }
    started postgres
  fi
  wait_for postgres 30 "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -U postgres
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

# ui_tls: the Web UI's client certificate when the frontends require mTLS.
ui_tls() {
  [ -n "$STACK_TLS" ] && [ -z "${TEMPORAL_ADDRESS:-}" ] || return 0
  cat <<YAML
tls:
  caFile: "$STATE/tls/ca.pem"
  certFile: "$STATE/tls/client.pem"
  keyFile: "$STATE/tls/client-key.pem"
  serverName: $TLS_SERVER_NAME
  enableHostVerification: true
YAML
}

# ui_up: the standalone Temporal Web UI on the UI port, for either server,
# asking the codec server to decode payloads (with the operator's cookie).
ui_up() {
  alive ui && return
  need_ports ui "$TEMPORAL_UI_PORT"
  mkdir -p "$STATE/ui/config"
  local tls; tls=$(ui_tls)
  [ -z "$tls" ] || tls+=$'\n'
  cat > "$STATE/ui/config/development.yaml" <<YAML
# Written by scripts/stack.sh for this stack; edits are overwritten.
temporalGrpcAddress: "${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}"
host: 127.0.0.1
port: $TEMPORAL_UI_PORT
enableUi: true
defaultNamespace: default
refreshInterval: 1m
notifyOnNewVersion: false
cors:
  cookieInsecure: true # plain HTTP on loopback
${tls}codec:
  endpoint: "$CODEC_URL"
  includeCredentials: true
  defaultErrorMessage: "Payloads are encrypted: sign in to the codec server to read them"
  defaultErrorLink: "$CODEC_URL/"
YAML
  setsid "$BIN/temporal-ui-server" --root "$STATE/ui" --config config --env development start \
    </dev/null >"$STATE/ui.log" 2>&1 &
  echo $! > "$STATE/ui.pid"
  started ui
  wait_for ui 30 curl -fsS "http://127.0.0.1:$TEMPORAL_UI_PORT/healthz"
}

# codec_up: the codec server (codecserver/), with the binaries' payload keys.
codec_up() {
  go build -o "$BIN/codecserver" "$ROOT/codecserver"
  alive codec && return
  need_ports codec "$CODEC_PORT"
  CODEC_ADDR="127.0.0.1:$CODEC_PORT" \
    CODEC_ALLOWED_ORIGINS="${CODEC_ALLOWED_ORIGINS:-http://127.0.0.1:$TEMPORAL_UI_PORT,http://localhost:$TEMPORAL_UI_PORT}" \
    setsid "$BIN/codecserver" </dev/null >"$STATE/codec.log" 2>&1 &
  echo $! > "$STATE/codec.pid"
  started codec
  wait_for codec 30 curl -fsS "$CODEC_URL/healthz"
}

# up [NAME...]: start the named components (default: all) and say where they answer.
up() {
  mkdir -p "$STATE"
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(postgres temporal ui codec mailpit devidp)
  local temporal='' ui='' codec='' mail='' pgdsn='' idp=''
  for name in "${names[@]}"; do
    case $name in
      temporal)
        if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
          tools temporal # the CLI registers the namespace and the search attributes
          [ "$TEMPORAL_SERVER" = dev ] || tools temporal-server temporal-sql-tool
        fi
        temporal_up
        temporal="  Temporal frontend  ${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT} $( [ -n "${TEMPORAL_ADDRESS:-}" ] || echo "($TEMPORAL_SERVER server$( [ "$TEMPORAL_SERVER" != cluster ] || echo ", ${#CLUSTER_HOSTS[@]} hosts behind HAProxy")$( [ -z "$STACK_TLS" ] || echo ", mTLS"))" )
" ;;
      temporal-*)
        [ "$TEMPORAL_SERVER" = cluster ] || die "up $name: only a cluster (TEMPORAL_SERVER=cluster) has hosts"
        cluster_host "${name#temporal-}" || die "no cluster host named ${name#temporal-} (${CLUSTER_HOSTS[*]})"
        [ -z "$STACK_TLS" ] || tls_up
        host_start "${name#temporal-}"
        host_wait "${name#temporal-}"
        temporal="  Temporal host      $name (gRPC 127.0.0.1:$(host_port "${name#temporal-}" 0))
" ;;
      ui)
        tools temporal-ui-server
        ui_up
        ui="  Temporal Web UI    http://127.0.0.1:$TEMPORAL_UI_PORT (payloads decoded by the codec server)
" ;;
      codec)
        codec_up
        codec="  codec server       $CODEC_URL/ (sign in with CODEC_TOKEN; dev: dev-codec-token-change-me)
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
      *) die "no component named $name (postgres, temporal, temporal-HOST, ui, codec, mailpit, devidp)" ;;
    esac
  done
  printf 'stack is up:\n%s%s%s%s%s%s' "$temporal" "$ui" "$codec" "$mail" "$idp" "$pgdsn"
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
  # Last started, first stopped: Temporal before the Postgres it stores in.
  [ ${#names[@]} -gt 0 ] || mapfile -t names < <(tac "$STATE/started")
  for name in "${names[@]}"; do
    grep -qx "$name" "$STATE/started" || continue
    case $name in
      postgres) pg pg_ctl -D "$(pg_home)/data" -m fast -w stop >/dev/null 2>&1 || true ;;
      temporal) temporal_down ;;
      *) stop_pid "$name" ;;
    esac
    log "stopped $name"
    sed -i "/^$name\$/d" "$STATE/started"
  done
  [ -s "$STATE/started" ] || rm -f "$STATE/started"
}

# kill postgres|temporal|temporal-HOST: stop it at once, as a crash would;
# `up` starts it again. `kill temporal` SIGKILLs every host of a cluster
# (its balancer stays, as a cloud's would).
kill_() {
  case "$*" in
    postgres)
      local out
      out=$(pg pg_ctl -D "$(pg_home)/data" -m immediate -w stop 2>&1) || die "pg_ctl stop -m immediate: $out" ;;
    temporal)
      temporal_alive || die "kill temporal: it is not running"
      local h
      alive temporal && sigkill temporal
      for h in "${CLUSTER_HOSTS[@]}"; do ! alive "temporal-$h" || sigkill "temporal-$h"; done ;;
    temporal-*)
      cluster_host "${1#temporal-}" || die "kill $1: no cluster host of that name (${CLUSTER_HOSTS[*]})"
      sigkill "$1" ;;
    *) die "usage: scripts/stack.sh kill postgres|temporal|temporal-HOST (HOST: ${CLUSTER_HOSTS[*]})" ;;
  esac
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
  echo "export TEMPORAL_METRICS_URL=${TEMPORAL_METRICS_URL:-$(metrics_urls)}"
  echo "export OIDC_ISSUER=${OIDC_ISSUER:-http://127.0.0.1:$DEVIDP_PORT}"
  echo "export CODEC_URL=$CODEC_URL"
  echo "export TEMPORAL_UI_URL=http://127.0.0.1:$TEMPORAL_UI_PORT"
  echo "export TEMPORAL_SERVER=$TEMPORAL_SERVER"
  # What the running server was started with, else what STACK_TLS says.
  local tls=$STACK_TLS
  [ ! -f "$STATE/temporal.tls" ] || tls=$(cat "$STATE/temporal.tls")
  if [ -n "$tls" ] && [ -z "${TEMPORAL_ADDRESS:-}" ]; then
    echo "export STACK_TLS=$tls"
    echo "export TEMPORAL_TLS=true"
    echo "export TEMPORAL_TLS_CLIENT_CERT_PATH=$STATE/tls/client.pem"
    echo "export TEMPORAL_TLS_CLIENT_KEY_PATH=$STATE/tls/client-key.pem"
    echo "export TEMPORAL_TLS_SERVER_CA_CERT_PATH=$STATE/tls/ca.pem"
    echo "export TEMPORAL_TLS_SERVER_NAME=$TLS_SERVER_NAME"
  fi
}

# metrics_urls: the server's Prometheus endpoints: one, or every host's of a
# cluster, comma-separated, frontend-1's first (on TEMPORAL_METRICS_PORT).
# stack.Actions sums the counters over them.
metrics_urls() {
  if [ "$TEMPORAL_SERVER" != cluster ]; then echo "http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics"; return; fi
  local h urls=()
  for h in "${CLUSTER_HOSTS[@]}"; do urls+=("http://127.0.0.1:$(host_port "$h" 2)/metrics"); done
  (IFS=,; echo "${urls[*]}")
}

cmd=${1:-}
shift || true
case $cmd in
  up) up "$@" ;;
  down) down "$@" ;;
  kill) kill_ "$@" ;;
  wipe) wipe ;;
  pgdata) pgdata ;;
  schema) schema_dir ;;
  tools) tools "$@" ;;
  env) env_ ;;
  *) die "usage: scripts/stack.sh up|down|kill|wipe|pgdata|schema|tools|env" ;;
esac

#!/usr/bin/env bash
# The load scenario of `make bench` (SPEC §8; method and results in docs/benchmarks.md).
#
# Builds the release binaries, then for each configuration starts `ainative` on a free loopback
# port in a temporary directory, measures the time to ready and the idle RSS, prepares data
# through the public API, and drives it from a second process (wrk) on loopback:
#   - GET /api/v1/auth/me (authenticated, rate-limited; 1 and 64 connections)
#   - GET /api/v1/activities?limit=20 (a paginated list)
#   - GET /api/v1/health/live (middleware only, no auth, no limiter)
#   - POST /api/v1/sessions/{id}/interactions: a cached interaction (sequential, end to end)
#   - GET /api/v1/health/live while 50 concurrent logins (bcrypt cost 12) run
# and records per-request server CPU, the middleware overhead the server reports, database
# transactions and Redis commands per /auth/me, and RSS before and after the load.
# Scenarios (BENCH_SCENARIOS, default all; files under benches/load/):
#   auth      the runs above (SPEC §8), per configuration
#   apikey    /auth/me with an API key against the JWT figure (issue 11), per configuration
#   turns     uncached turns at 32 connections, offline provider (issue 13), per configuration
#   overhead  gateway_overhead_seconds at 500 turns/s, open loop, a 20 ms mock provider, on
#             PostgreSQL + Redis (issue 13)
#   nginx     two instances behind nginx against one reached directly, same run (issue 13)
# The same run measures a bare actix-web JSON handler (ainative-bare, built alongside), so the
# results are given as ratios to it as well as absolute figures. Configurations: the embedded
# default (SQLite, everything in process), then PostgreSQL + Redis.
#
# Only loopback addresses are used; every loop is bounded; every process started here is
# stopped on exit. Nothing here asserts speed: it measures and prints (and MISS lines say
# which targets were not met).
#
# Settings (environment):
#   BENCH_DURATION=10          seconds of each measured wrk run
#   BENCH_WARMUP=2             seconds of the unmeasured warm-up before each of them
#   BENCH_CONNECTIONS=64       connections of the throughput runs
#   BENCH_THREADS=1            wrk threads (the load generator shares the machine)
#   BENCH_PROBE_CONNECTIONS=8  connections of the /health/live probe during the login storm
#   BENCH_STORM=50             concurrent logins of the storm
#   BENCH_CACHED=200           sessions prepared for the cached-interaction measurement
#   BENCH_CONFIGS="embedded postgres"
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432   server where a fresh database is made
#   BENCH_REDIS_URL=           unset: a private redis-server on a free port (clean command
#                              counts), or redis://127.0.0.1:6379 when redis-server is missing
#   BENCH_SCENARIOS="auth apikey turns overhead nginx"
#   BENCH_TURN_CONNECTIONS=32  connections of the turn runs
#   BENCH_OVERHEAD_RATE=500    turns/s offered by the open-loop generator (overhead)
#   BENCH_OVERHEAD_SESSIONS=200  sessions the open-loop turns are spread over
#   BENCH_PROVIDER_DELAY_MS=20 latency of the mock provider (overhead)
#   BENCH_NGINX_WORKERS=auto   worker_processes of nginx (nginx)
#   BENCH_SKIP_BUILD=0         1: use the binaries already in BENCH_BIN_DIR
#   BENCH_BIN_DIR=target/release  where ainative, ainative-bare, ainative-fake-provider and
#                              ainative-openloop are (target/debug to check the harness quickly)
#   BENCH_WAIT_QUIET=0         seconds to wait for the 1-minute load average to drop below 0.7
#   BENCH_PROFILE=1            1: short perf profiles of /auth/me and the list (when perf is
#                              available), kept in BENCH_OUT
#   BENCH_KEEP=0               1 keeps the work directory (server logs) after a successful run
#   BENCH_LOG_LEVEL=info       LOG_LEVEL of the server (info is the shipped default)
#   BENCH_SERVER_ENV=          extra VAR=value words for the server, for experiments
#                              (e.g. "DB_POOL_PRE_PING=false"); recorded in the results
#   BENCH_OUT=target/bench     where the results table and logs are kept
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-1}
PROBE_CONNS=${BENCH_PROBE_CONNECTIONS:-8}
STORM=${BENCH_STORM:-50}
CACHED=${BENCH_CACHED:-200}
CONFIGS=${BENCH_CONFIGS:-"embedded postgres"}
PG_BASE=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
REDIS_URL_GIVEN=${BENCH_REDIS_URL:-}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
SCENARIOS=${BENCH_SCENARIOS:-"auth apikey turns overhead nginx"}
TURN_CONNS=${BENCH_TURN_CONNECTIONS:-32}
OVERHEAD_RATE=${BENCH_OVERHEAD_RATE:-500}
OVERHEAD_SESSIONS=${BENCH_OVERHEAD_SESSIONS:-200}
PROVIDER_DELAY_MS=${BENCH_PROVIDER_DELAY_MS:-20}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-auto}
WAIT_QUIET=${BENCH_WAIT_QUIET:-0}
PROFILE=${BENCH_PROFILE:-1}
LOG_LEVEL_BENCH=${BENCH_LOG_LEVEL:-info}
read -r -a SERVER_ENV_EXTRA <<<"${BENCH_SERVER_ENV:-}"
OUT=${BENCH_OUT:-$ROOT/target/bench}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN_DIR=${BENCH_BIN_DIR:-$TARGET_DIR/release}
[[ $BIN_DIR == /* ]] || BIN_DIR=$PWD/$BIN_DIR # servers run in directories of their own
SERVER_BIN=$BIN_DIR/ainative
BARE_BIN=$BIN_DIR/ainative-bare
FAKE_PROVIDER_BIN=$BIN_DIR/ainative-fake-provider
OPENLOOP_BIN=$BIN_DIR/ainative-openloop
PASSWORD='Bench-Pass-2026x'
ADMIN_PASSWORD_BENCH='Bench-Admin-2026x'
UNLIMITED=100000000 # a limit no run reaches: the limiter still checks and counts every request

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ainative-bench.XXXXXX")
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
RESULTS=$OUT/load-$STAMP.md
PIDS=()
PG_DBS=()
PG_ADMIN_URL=""
PG_URL=""
REDIS_PORT=""
REDIS_RUN_URL=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Stops one process started here (still a child of this shell, so a reused PID is never
# touched): TERM, then KILL after SECONDS (default 5). Sets KILLED=1 when KILL was needed.
KILLED=0
stop_pid() {
  local pid=$1 seconds=${2:-5} i ppid
  KILLED=0
  ppid=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $2}') || true
  [[ $ppid == "$$" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((seconds * 20))); do
    [[ $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $1}') =~ ^(Z|)$ ]] && break
    sleep 0.05
  done
  if [[ ! $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $1}') =~ ^(Z|)$ ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    KILLED=1
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$? pid
  for pid in "${PIDS[@]}"; do
    stop_pid "$pid"
  done
  for db in "${PG_DBS[@]}"; do
    psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [[ $status -eq 0 && ${BENCH_KEEP:-0} != 1 ]]; then
    rm -rf "$WORK"
  else
    log "failed (exit $status); logs kept in $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody listens on and not handed out before by this run (remembered in a file:
# callers run this in a command substitution, whose variables do not survive), below the
# kernel's ephemeral range so no outgoing connection of the run can take it meanwhile.
free_port() {
  local port i
  for i in $(seq 1 500); do
    port=$((20000 + RANDOM % 12000))
    grep -qx "$port" "$WORK/ports-taken" 2>/dev/null && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port" >>"$WORK/ports-taken"
      echo "$port"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Waits until URL answers 2xx while PID lives; prints the milliseconds since START_MS.
wait_ready() {
  local url=$1 pid=$2 start=$3 i
  for i in $(seq 1 3000); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited before it was ready"
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
      echo $(($(now_ms) - start))
      return 0
    fi
    sleep 0.01
  done
  log "$url not ready after 30 s"
  return 1
}

rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# CPU time (user + system) of a process, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# The same, summed over several processes.
cpu_ticks_of() {
  local pid sum=0
  for pid in "$@"; do sum=$((sum + $(cpu_ticks "$pid"))); done
  echo "$sum"
}
# Whether a scenario was selected (BENCH_SCENARIOS).
has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
CLK_TCK=$(getconf CLK_TCK)
# Busy and total CPU ticks of the whole machine (all CPUs).
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# CPU ticks of the reaped children of this shell (wrk, curl, ...).
children_ticks() { sed 's/.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'; }
REDIS_PID=""
WRK_SCRIPT=""

ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    log "installing wrk (Debian package)"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; } || true
  fi
  command -v wrk >/dev/null 2>&1 && return 0
  log "wrk is needed: install it (Debian: apt-get install -y wrk)"
  return 1
}

wait_quiet() {
  local limit=$1 waited=0 load
  while ((waited < limit)); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" 'BEGIN { exit !(l < 0.7) }'; then
      log "load average $load: quiet enough"
      return 0
    fi
    log "load average $load: waiting for a quieter machine ($waited/$limit s)"
    sleep 30
    waited=$((waited + 30))
  done
  log "the machine did not get quiet; measuring anyway (load averages are recorded)"
}

# --- wrk ---------------------------------------------------------------------------------------

# The report every wrk run prints: exact counts and percentiles, in µs.
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d socket_errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

declare -A RPS P50 P99 ERR CPU_US NOTE DB_SHARE OTHER

# wrk_run NAME "PIDS" DURATION CONNECTIONS URL [wrk options...]: one measured run; PIDS are
# the server's processes, whose CPU time per request is recorded. WRK_SCRIPT replaces
# report.lua (a script that includes it).
wrk_run() {
  local name=$1 pid=$2 duration=$3 conns=$4 url=$5
  shift 5
  local before after out line m0 m1 c0 c1 r0=0 r1=0
  read -r -a m0 <<<"$(machine_ticks)"
  c0=$(children_ticks)
  [[ -n $REDIS_PID ]] && r0=$(cpu_ticks "$REDIS_PID")
  before=$(cpu_ticks_of $pid)
  out=$(wrk -t"$THREADS" -c"$conns" -d"${duration}s" --timeout 10s -s "${WRK_SCRIPT:-$WORK/report.lua}" "$@" "$url")
  after=$(cpu_ticks_of $pid)
  [[ -n $REDIS_PID ]] && r1=$(cpu_ticks "$REDIS_PID")
  c1=$(children_ticks)
  read -r -a m1 <<<"$(machine_ticks)"
  # The share of the machine used by everything else (other users' builds, PostgreSQL).
  OTHER[$name]=$(awk -v b="$((m1[0] - m0[0]))" -v t="$((m1[1] - m0[1]))" -v own="$((after - before + c1 - c0 + r1 - r0))" \
    'BEGIN { o = t > 0 ? (b - own) / t * 100 : 0; if (o < 0) o = 0; printf "%.0f%%", o }')
  echo "$out" >"$WORK/wrk-${name//\//-}.txt"
  line=$(sed -n 's/^WRK_RESULT //p' <<<"$out")
  [[ -n $line ]] || { log "wrk printed no result for $name"; echo "$out" >&2; return 1; }
  local requests duration_us p50_us p90_us p99_us max_us socket_errors non2xx
  eval "$line"
  RPS[$name]=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
  P50[$name]=$(awk -v v="$p50_us" 'BEGIN { printf "%.2f", v / 1000 }')
  P99[$name]=$(awk -v v="$p99_us" 'BEGIN { printf "%.2f", v / 1000 }')
  ERR[$name]=$((socket_errors + non2xx))
  CPU_US[$name]=$(awk -v t="$((after - before))" -v hz="$CLK_TCK" -v r="$requests" \
    'BEGIN { if (r > 0) printf "%.1f", t / hz * 1e6 / r; else print "-" }')
  log "$name: ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p99 ${P99[$name]} ms, errors ${ERR[$name]}, server CPU ${CPU_US[$name]} µs/req, others used ${OTHER[$name]} of the machine"
}

# warm URL [wrk options...]: a short unmeasured run.
warm() {
  local url=$1
  shift
  wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 10s "$@" "$url" >/dev/null
}

# --- the API -----------------------------------------------------------------------------------

# api METHOD PATH TOKEN [BODY]: the JSON answer (fails on a non-2xx status).
api() {
  local method=$1 path=$2 token=$3 body=${4:-}
  local args=(-sS --fail-with-body --max-time 30 -X "$method" "$BASE/api/v1$path" -H 'Content-Type: application/json')
  [[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
  [[ -n $body ]] && args+=(-d "$body")
  curl "${args[@]}"
}

metric_sum() { # metric_sum NAME: the value of an unlabelled series on the metrics listener
  curl -fsS --max-time 5 "$METRICS/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# profile LABEL NAME PID URL [wrk options...]: where the server's CPU goes under load (perf, a
# separate run so the measured ones are not disturbed); records the share in database code.
profile() {
  local label=$1 name=$2 pid=$3 url=$4
  shift 4
  [[ $PROFILE == 1 ]] && command -v perf >/dev/null 2>&1 || return 0
  local data=$WORK/$label-$name.perf file=$OUT/profile-$label-$name-$STAMP.txt wrk_pid
  wrk -t"$THREADS" -c"$CONNS" -d6s --timeout 10s "$@" "$url" >/dev/null &
  wrk_pid=$!
  PIDS+=("$wrk_pid")
  sleep 1
  if perf record -q -F 999 -p "$pid" -o "$data" -- sleep 4 >/dev/null 2>&1; then
    perf report -q -i "$data" --stdio --no-children --sort dso,symbol 2>/dev/null |
      grep -E '^ +[0-9]' | sed -E 's/[ -]+$//' >"$data.txt" || true
    # Shares of the samples by kind of work (first matching kind wins), then the top symbols.
    {
      echo "# $label $name: CPU samples of the server by kind of work (perf, 999 Hz, 4 s under load)"
      awk '{
        pct = $1; sub(/%/, "", pct); line = $0
        if (line ~ /sqlite|sqlx/) k = "database (sqlite/sqlx)"
        else if (line ~ /tracing|nu_ansi_term|core::fmt|fmt::Write|DefaultVisitor|ext4|vfs_write|pipe_write/) k = "logging and formatting (tracing, fmt, file writes)"
        else if (line ~ /serde_json|serde_core|itoa|ryu/) k = "JSON (serde_json)"
        else if (line ~ /ring_core|sha2|hmac|jsonwebtoken|base64/) k = "JWT (HMAC-SHA256, base64)"
        else if (line ~ /prometheus/) k = "metrics (prometheus)"
        else if (line ~ /moka|crossbeam|quanta|ainative_adapters_redis::memory/) k = "in-process limiter, revocation list, caches"
        else if (line ~ /redis::|deadpool/) k = "redis client"
        else if (line ~ /malloc|free|_int_|memmove|memcpy|memset|realloc/) k = "allocator and memcpy"
        else if (line ~ /finish_task_switch|__schedule|_raw_spin_unlock_irq|futex|try_to_wake_up/) k = "kernel: context switches, wake-ups"
        else if (line ~ /\[kernel/) k = "kernel: network, syscalls, other"
        else if (line ~ /actix|http::|h1::|bytes::/) k = "actix-web / HTTP"
        else if (line ~ /tokio/) k = "tokio"
        else k = "other"
        share[k] += pct
      } END { for (k in share) printf "%6.1f%%  %s\n", share[k], k }' "$data.txt" | sort -rn
      echo
      echo "# top symbols"
      head -40 "$data.txt" | cut -c1-160
    } >"$file"
    DB_SHARE[$label/$name]=$(awk '/sqlite|sqlx/ { pct = $1; sub(/%/, "", pct); s += pct } END { printf "%.1f", s }' "$data.txt")
    log "[$label] $name: ${DB_SHARE[$label/$name]}% of the server's CPU samples in database code (profile: $file)"
  fi
  wait "$wrk_pid" 2>/dev/null || true
}

# --- one configuration -------------------------------------------------------------------------

# cached_stats KEY FILE: p50, p99 and rate of the request times (seconds, one per line) in FILE.
cached_stats() {
  local key=$1 file=$2 count
  count=$(wc -l <"$file")
  P50[$key]=$(sort -n "$file" | awk -v n="$count" 'NR == int((n + 1) * 0.50) { printf "%.2f", $1 * 1000 }')
  P99[$key]=$(sort -n "$file" | awk -v n="$count" 'NR == (int(n * 0.99) > 0 ? int(n * 0.99) : 1) { printf "%.2f", $1 * 1000 }')
  RPS[$key]=$(awk '{ s += $1 } END { if (s > 0) printf "%.0f", NR / s; else print "-" }' "$file")
  ERR[$key]=0
  CPU_US[$key]="-"
}

# run_config LABEL ENV...: starts the server with ENV (besides the defaults), runs the selected
# scenarios of a configuration (auth, apikey, turns), stops it.
run_config() {
  local label=$1
  shift
  local dir=$WORK/$label pid
  start_server "$label" "$dir" "$@"
  pid=$SERVER_PID
  prepare_data "$label" "$dir" "$CACHED"
  local student=$STUDENT
  local auth=(-H "Authorization: Bearer $student")
  if has auth; then
    auth_runs "$label" "$dir" "$pid" "$student"
  elif has apikey; then
    # The API-key figure is compared with the JWT one of the same run.
    warm "$BASE/api/v1/auth/me" "${auth[@]}"
    wrk_run "$label/auth_me" "$pid" "$DURATION" "$CONNS" "$BASE/api/v1/auth/me" "${auth[@]}"
  fi
  if has apikey; then
    apikey_runs "$label" "$dir" "$pid" "$student"
  fi
  if has auth; then
    auth_later_runs "$label" "$dir" "$pid" "$student"
  fi
  if has turns; then
    scenario_turns "$label/turns" "$pid" "$BASE" "$student" "$dir/sessions.txt" "$METRICS"
  fi
  if has auth; then
    storm_runs "$label" "$dir" "$pid"
  fi
  AFTER_RSS[$label]=$(rss_mb "$pid")
  PEAK_RSS[$label]=$(hwm_mb "$pid")
  local t0
  t0=$(now_ms)
  stop_pid "$pid" 40 # SHUTDOWN_TIMEOUT_SECS is 30 by default
  STOP_MS[$label]="$(($(now_ms) - t0)) ms"
  ((KILLED)) && STOP_MS[$label]+=" (killed)"
  log "[$label] RSS after load ${AFTER_RSS[$label]} MB (peak ${PEAK_RSS[$label]} MB); SIGTERM${STORM_RESULT[$label]:+ after the storm}: stopped in ${STOP_MS[$label]}"
}

# auth_runs LABEL DIR PID TOKEN: /auth/me at 1 and CONNS connections (SPEC §8).
auth_runs() {
  local label=$1 dir=$2 pid=$3 student=$4
  local auth=(-H "Authorization: Bearer $student")
  # /auth/me at one connection: the latency the middleware adds (the server's own
  # http_request_overhead_seconds: time outside the handler), without queueing.
  warm "$BASE/api/v1/auth/me" "${auth[@]}"
  local ov_sum0 ov_cnt0 ov_sum1 ov_cnt1 xact0="" xact1=""
  ov_sum0=$(metric_sum http_request_overhead_seconds_sum)
  ov_cnt0=$(metric_sum http_request_overhead_seconds_count)
  wrk_run "$label/auth_me_c1" "$pid" 5 1 "$BASE/api/v1/auth/me" "${auth[@]}"
  ov_sum1=$(metric_sum http_request_overhead_seconds_sum)
  ov_cnt1=$(metric_sum http_request_overhead_seconds_count)
  OVERHEAD_C1[$label]=$(awk -v s0="$ov_sum0" -v s1="$ov_sum1" -v c0="$ov_cnt0" -v c1="$ov_cnt1" \
    'BEGIN { if (c1 > c0) printf "%.1f", (s1 - s0) / (c1 - c0) * 1e6; else print "-" }')

  # /auth/me at 64 connections: throughput, server CPU per request, database and Redis work.
  ov_sum0=$(metric_sum http_request_overhead_seconds_sum)
  ov_cnt0=$(metric_sum http_request_overhead_seconds_count)
  if [[ -n ${PG_URL:-} ]]; then
    sleep 11 # PostgreSQL flushes an idle backend's statistics within 10 s
    xact0=$(psql -Atq "$PG_URL" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
  fi
  wrk_run "$label/auth_me" "$pid" "$DURATION" "$CONNS" "$BASE/api/v1/auth/me" "${auth[@]}"
  ov_sum1=$(metric_sum http_request_overhead_seconds_sum)
  ov_cnt1=$(metric_sum http_request_overhead_seconds_count)
  OVERHEAD[$label]=$(awk -v s0="$ov_sum0" -v s1="$ov_sum1" -v c0="$ov_cnt0" -v c1="$ov_cnt1" \
    'BEGIN { if (c1 > c0) printf "%.1f", (s1 - s0) / (c1 - c0) * 1e6; else print "-" }')
  if [[ -n ${PG_URL:-} ]]; then
    sleep 11
    xact1=$(psql -Atq "$PG_URL" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
    local req
    req=$(sed -n 's/^WRK_RESULT requests=\([0-9]*\).*/\1/p' "$WORK/wrk-$label-auth_me.txt" 2>/dev/null || true)
    DB_PER_REQ[$label]=$(awk -v a="$xact0" -v b="$xact1" -v r="${req:-0}" \
      'BEGIN { if (r > 0) printf "%.2f", (b - a - 1) / r; else print "-" }')
    log "[$label] PostgreSQL transactions per /auth/me: ${DB_PER_REQ[$label]}"
  fi
}

# apikey_runs LABEL DIR PID TOKEN: /auth/me with an API key of the same student (SPEC §10.3:
# within 20 % of the JWT figure, and no more database work per request than the JWT).
apikey_runs() {
  local label=$1 dir=$2 pid=$3 student=$4 xact0 xact1 req
  local api_key key_auth
  api_key=$(api POST /auth/api-keys "$student" '{"name":"bench","scopes":["sessions:read"]}' | jq -r '.data.key')
  key_auth=(-H "Authorization: Bearer $api_key")
  warm "$BASE/api/v1/auth/me" "${key_auth[@]}"
  if [[ -n ${PG_URL:-} ]]; then
    sleep 11
    xact0=$(psql -Atq "$PG_URL" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
  fi
  wrk_run "$label/auth_me_key" "$pid" "$DURATION" "$CONNS" "$BASE/api/v1/auth/me" "${key_auth[@]}"
  if [[ -n ${PG_URL:-} ]]; then
    sleep 11
    xact1=$(psql -Atq "$PG_URL" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
    req=$(sed -n 's/^WRK_RESULT requests=\([0-9]*\).*/\1/p' "$WORK/wrk-$label-auth_me_key.txt" 2>/dev/null || true)
    DB_PER_REQ_KEY[$label]=$(awk -v a="$xact0" -v b="$xact1" -v r="${req:-0}" \
      'BEGIN { if (r > 0) printf "%.2f", (b - a - 1) / r; else print "-" }')
    log "[$label] PostgreSQL transactions per /auth/me with an API key: ${DB_PER_REQ_KEY[$label]}"
  fi
}

# auth_later_runs LABEL DIR PID TOKEN: Redis commands per /auth/me, profiles, the list, liveness
# and the cached interaction (SPEC §8).
auth_later_runs() {
  local label=$1 dir=$2 pid=$3 student=$4
  local auth=(-H "Authorization: Bearer $student")
  # Redis commands per authenticated request: MONITOR over sequential requests on one
  # keep-alive connection (script-internal commands excluded).
  if [[ -n ${REDIS_MONITOR_PORT:-} ]]; then
    local n=200 urls=() k monitor_pid total
    for k in $(seq 1 "$n"); do urls+=("$BASE/api/v1/auth/me"); done
    redis-cli -p "$REDIS_MONITOR_PORT" monitor >"$dir/monitor.txt" 2>&1 &
    monitor_pid=$!
    PIDS+=("$monitor_pid")
    sleep 0.5
    curl -sS --max-time 60 "${auth[@]}" "${urls[@]}" >/dev/null
    sleep 0.5
    stop_pid "$monitor_pid"
    total=$(grep -v '\[0 lua\]' "$dir/monitor.txt" | grep -c '^[0-9]' || true)
    REDIS_PER_REQ[$label]=$(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.2f", t / n }')
    REDIS_CMDS[$label]=$(grep -v '\[0 lua\]' "$dir/monitor.txt" | grep '^[0-9]' |
      awk '{ gsub(/"/, "", $4); c[tolower($4)]++ } END { for (k in c) printf "%s %d, ", k, c[k] }' | sed 's/, $//')
    log "[$label] Redis commands per /auth/me: ${REDIS_PER_REQ[$label]} (${REDIS_CMDS[$label]})"
  fi

  profile "$label" auth_me "$pid" "$BASE/api/v1/auth/me" "${auth[@]}"

  # A paginated list.
  warm "$BASE/api/v1/activities?limit=20" "${auth[@]}"
  wrk_run "$label/list" "$pid" "$DURATION" "$CONNS" "$BASE/api/v1/activities?limit=20&offset=0" "${auth[@]}"
  profile "$label" list "$pid" "$BASE/api/v1/activities?limit=20&offset=0" "${auth[@]}"

  # Liveness alone: the middleware stack without authentication or limiter.
  warm "$BASE/api/v1/health/live"
  wrk_run "$label/live" "$pid" "$DURATION" "$CONNS" "$BASE/api/v1/health/live"

  # A cached interaction: the first turn of every session is the same conversation, so all
  # but the first are cache hits. Sequential, end to end, one request at a time: the first
  # half over one keep-alive connection (as every HTTP client library and the wrk runs do;
  # the SPEC target), the other half with a new connection (and curl process) per request.
  local prompt='{"prompt":"How should I think about adding up the numbers of a list with a for loop? What should the total start at?"}'
  local first_session resp
  first_session=$(head -1 "$dir/sessions.txt")
  resp=$(curl -sS --max-time 30 -o "$dir/interaction.json" -w '%{http_code}' \
    -X POST "$BASE/api/v1/sessions/$first_session/interactions" "${auth[@]}" \
    -H 'Content-Type: application/json' -d "$prompt")
  if [[ $resp != 201 ]]; then
    log "interaction answered $resp: $(head -c 300 "$dir/interaction.json")"
    return 1
  fi
  local rest=$(($(wc -l <"$dir/sessions.txt") - 1))
  local half=$(((rest + 1) / 2))
  # Keep-alive: one curl process, one connection, a config block per request.
  local config=$dir/cached.curl i=0 session
  : >"$config"
  while read -r session; do
    i=$((i + 1))
    {
      ((i > 1)) && echo next
      echo "url = \"$BASE/api/v1/sessions/$session/interactions\""
      echo "request = POST"
      echo "header = \"${auth[1]}\""
      echo 'header = "Content-Type: application/json"'
      printf 'data = "%s"\n' "${prompt//\"/\\\"}"
      echo "output = \"$dir/cached-ka-$i.json\""
      echo 'write-out = "%{http_code} %{time_total} %{num_connects}\n"'
      echo 'silent'
      echo 'show-error'
      echo 'max-time = 30'
    } >>"$config"
  done < <(sed -n "2,$((half + 1))p" "$dir/sessions.txt")
  curl --config "$config" >"$dir/cached-ka.txt"
  local times=$dir/cached-times.txt hits=0 connects
  awk '{ print $2 }' "$dir/cached-ka.txt" >"$times"
  connects=$(awk '{ s += $3 } END { print s + 0 }' "$dir/cached-ka.txt")
  if awk '$1 != 201 { bad = 1 } END { exit !bad }' "$dir/cached-ka.txt"; then
    log "a keep-alive interaction failed: $(grep -v '^201 ' "$dir/cached-ka.txt" | head -3)"
    return 1
  fi
  for ((i = 1; i <= half; i++)); do
    [[ $(jq -r '.data.interaction.cache_hit' "$dir/cached-ka-$i.json") == true ]] && hits=$((hits + 1))
  done
  cached_stats "$label/cached" "$times"
  NOTE[$label/cached]="sequential over one keep-alive connection ($connects connect for $half requests); $hits of $half were cache hits"
  log "[$label] cached interaction, keep-alive: p50 ${P50[$label/cached]} ms, p99 ${P99[$label/cached]} ms, $hits/$half hits"

  # New connection per request.
  local new_times=$dir/cached-new-times.txt new_hits=0 new_count=0
  : >"$new_times"
  while read -r session; do
    resp=$(curl -sS --max-time 30 -o "$dir/interaction.json" -w '%{http_code} %{time_total}' \
      -X POST "$BASE/api/v1/sessions/$session/interactions" "${auth[@]}" \
      -H 'Content-Type: application/json' -d "$prompt")
    if [[ ${resp%% *} != 201 ]]; then
      log "interaction answered ${resp%% *}: $(head -c 300 "$dir/interaction.json")"
      return 1
    fi
    new_count=$((new_count + 1))
    [[ $(jq -r '.data.interaction.cache_hit' "$dir/interaction.json") == true ]] && new_hits=$((new_hits + 1))
    echo "${resp#* }" >>"$new_times"
  done < <(sed -n "$((half + 2)),\$p" "$dir/sessions.txt")
  if ((new_count > 0)); then
    cached_stats "$label/cached_new" "$new_times"
    NOTE[$label/cached_new]="sequential, a new connection (and curl process) per request; $new_hits of $new_count were cache hits"
    log "[$label] cached interaction, new connections: p50 ${P50[$label/cached_new]} ms, p99 ${P99[$label/cached_new]} ms"
  fi

}

# storm_runs LABEL DIR PID: the login storm (SPEC §8), last: it leaves the server busy.
storm_runs() {
  local label=$1 dir=$2 pid=$3
  # The login storm: STORM concurrent logins (bcrypt at the configured cost) while a probe
  # measures /health/live; then the probe alone for comparison.
  cat "$WORK/report.lua" >"$WORK/login.lua"
  cat >>"$WORK/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"username":"bench_student","password":"$PASSWORD"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  wrk_run "$label/live_idle_probe" "$pid" "$DURATION" "$PROBE_CONNS" "$BASE/api/v1/health/live"
  local storm_out=$dir/storm.txt storm_pid
  wrk -t1 -c"$STORM" -d"$((DURATION + 3))s" --timeout 60s -s "$WORK/login.lua" "$BASE/api/v1/auth/login" >"$storm_out" 2>&1 &
  storm_pid=$!
  PIDS+=("$storm_pid")
  sleep 2
  wrk_run "$label/live_storm" "$pid" "$DURATION" "$PROBE_CONNS" "$BASE/api/v1/health/live"
  wait "$storm_pid" || true
  local line requests duration_us p50_us p90_us p99_us max_us socket_errors non2xx
  line=$(sed -n 's/^WRK_RESULT //p' "$storm_out")
  if [[ -n $line ]]; then
    eval "$line"
    STORM_RESULT[$label]=$(awk -v r="$requests" -v d="$duration_us" -v p="$p50_us" -v e="$((socket_errors + non2xx))" \
      'BEGIN { printf "%.1f logins/s, login p50 %.0f ms, %d errors", r / (d / 1e6), p / 1000, e }')
    log "[$label] storm: ${STORM_RESULT[$label]}"
  fi
}

run_bare() {
  local port pid start
  port=$(free_port)
  start=$(now_ms)
  "$BARE_BIN" "127.0.0.1:$port" >"$WORK/bare.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  READY[bare]=$(wait_ready "http://127.0.0.1:$port/json" "$pid" "$start")
  sleep 1
  IDLE_RSS[bare]=$(rss_mb "$pid")
  LOAD[bare]=$(cut -d' ' -f1-3 /proc/loadavg)
  warm "http://127.0.0.1:$port/json"
  wrk_run "bare/json_c1" "$pid" 5 1 "http://127.0.0.1:$port/json"
  wrk_run "bare/json" "$pid" "$DURATION" "$CONNS" "http://127.0.0.1:$port/json"
  AFTER_RSS[bare]=$(rss_mb "$pid")
  PEAK_RSS[bare]=$(hwm_mb "$pid")
  stop_pid "$pid"
}

# --- scenarios in files of their own ---------------------------------------------------------------

# shellcheck source=load/server.sh
source "$ROOT/benches/load/server.sh"
# shellcheck source=load/turns.sh
source "$ROOT/benches/load/turns.sh"
# shellcheck source=load/overhead.sh
source "$ROOT/benches/load/overhead.sh"
# shellcheck source=load/nginx.sh
source "$ROOT/benches/load/nginx.sh"

# --- main ----------------------------------------------------------------------------------------

declare -A READY IDLE_RSS AFTER_RSS PEAK_RSS STOP_MS LOAD OVERHEAD OVERHEAD_C1 DB_PER_REQ DB_PER_REQ_KEY REDIS_PER_REQ REDIS_CMDS STORM_RESULT NGINX_CPU
GW_COUNT="" GW_MEAN="" GW_P50="" GW_P50_EST="" GW_P99="" GW_P99_EST=""

ensure_wrk
command -v jq >/dev/null 2>&1 || { log "jq is needed (Debian: apt-get install -y jq)"; exit 1; }
if [[ $SKIP_BUILD != 1 ]]; then
  log "building the release binaries"
  (cd "$ROOT" && cargo build --release -p ainative-server -p ainative-benches)
fi
for bin in "$SERVER_BIN" "$BARE_BIN" "$FAKE_PROVIDER_BIN" "$OPENLOOP_BIN"; do
  [[ -x $bin ]] || { log "missing $bin"; exit 1; }
done
for scenario in $SCENARIOS; do
  [[ " auth apikey turns overhead nginx " == *" $scenario "* ]] || { log "unknown scenario $scenario"; exit 1; }
done
((WAIT_QUIET > 0)) && wait_quiet "$WAIT_QUIET"

run_bare

if has auth || has apikey || has turns; then
  for config in $CONFIGS; do
    case $config in
      embedded)
        PG_URL="" REDIS_MONITOR_PORT=""
        run_config embedded
        ;;
      postgres)
        if ! fresh_pg_db; then
          log "skipping the postgres configuration"
          continue
        fi
        ensure_redis
        REDIS_MONITOR_PORT=$REDIS_PORT
        run_config postgres "DATABASE_URL=$PG_URL" "REDIS_URL=$REDIS_RUN_URL" \
          "REDIS_KEY_PREFIX=ainative-bench-$$-$RANDOM:"
        ;;
      *)
        log "unknown configuration $config"
        exit 1
        ;;
    esac
  done
fi
PG_URL="" REDIS_MONITOR_PORT=""
if has overhead; then run_overhead; fi
if has nginx; then run_nginx; fi

# --- report ------------------------------------------------------------------------------------

bare_rps=${RPS[bare/json]}
# A quantile's bucket bound: "≤ 5", or "> 1000" past the last finite bucket.
at_most() { if [[ $1 == '>'* ]]; then echo "> ${1#>}"; else echo "≤ $1"; fi; }
ratio() { awk -v a="${RPS[$1]:-0}" -v b="$bare_rps" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }
# CPU the server spends per request beyond the bare handler's.
extra_cpu() { awk -v a="${CPU_US[$1]:--}" -v b="${CPU_US[bare/json]:--}" 'BEGIN { if (a != "-" && b != "-") printf "%+.1f", a - b; else print "-" }'; }
{
  echo "# ainative load scenario, $STAMP"
  echo
  echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
  echo "- commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- load generator: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $THREADS thread, on the same machine and loopback; ${DURATION} s per run after a ${WARMUP} s warm-up (c1 runs: 5 s); server LOG_LEVEL=$LOG_LEVEL_BENCH${BENCH_SERVER_ENV:+, extra server environment: $BENCH_SERVER_ENV}"
  echo
  echo "| config | scenario | req/s | p50 ms | p99 ms | errors | ratio to bare | server CPU µs/req | vs bare µs/req | other processes' CPU | load avg at start |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for cfg in bare $CONFIGS overhead nginx; do
    for scenario in json_c1 json auth_me_c1 auth_me auth_me_key list live cached cached_new turns turns_open \
      direct_auth_me_c1 proxy_auth_me_c1 direct_auth_me proxy_auth_me direct_turns_c1 proxy_turns_c1 direct_turns \
      proxy_turns live_idle_probe live_storm; do
      key=$cfg/$scenario
      [[ -n ${P50[$key]:-} ]] || continue
      via=""
      case $scenario in
        direct_*) via=", direct" scenario=${scenario#direct_} ;;
        proxy_*) via=", through nginx" scenario=${scenario#proxy_} ;;
      esac
      case $scenario in
        turns_c1) conns=1 label="uncached turns" ;;
        *_c1) conns=1 label=${scenario%_c1} ;;
        turns) conns=$TURN_CONNS label="uncached turns" ;;
        turns_open) conns="$OVERHEAD_RATE turns/s offered" label="uncached turns, open loop, $PROVIDER_DELAY_MS ms provider" ;;
        live_idle_probe | live_storm) conns=$PROBE_CONNS label=$scenario ;;
        cached) conns=1 label="cached interaction (sequential, keep-alive)" ;;
        cached_new) conns=1 label="cached interaction (sequential, new connections)" ;;
        *) conns=$CONNS label=$scenario ;;
      esac
      [[ $conns == [0-9]* && $conns != *" "* ]] && conns=c$conns
      echo "| $cfg | $label$via ($conns) | ${RPS[$key]} | ${P50[$key]} | ${P99[$key]} | ${ERR[$key]} | $(ratio "$key") | ${CPU_US[$key]} | $(extra_cpu "$key") | ${OTHER[$key]:--} | ${LOAD[$cfg]} |"
    done
  done
  echo
  if has auth || has apikey || has turns; then
    echo "| config | ready ms | idle RSS MB | RSS after load MB | peak RSS MB | overhead µs, c1 | overhead µs, c$CONNS | DB transactions per /auth/me | Redis commands per /auth/me | DB share of CPU: /auth/me, list | login storm (c$STORM) | stop after the storm |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
    for cfg in bare $CONFIGS; do
      [[ -n ${READY[$cfg]:-} ]] || continue
      share="-"
      [[ -n ${DB_SHARE[$cfg/auth_me]:-} ]] && share="${DB_SHARE[$cfg/auth_me]}%, ${DB_SHARE[$cfg/list]:--}%"
      echo "| $cfg | ${READY[$cfg]} | ${IDLE_RSS[$cfg]} | ${AFTER_RSS[$cfg]:--} | ${PEAK_RSS[$cfg]:--} | ${OVERHEAD_C1[$cfg]:--} | ${OVERHEAD[$cfg]:--} | ${DB_PER_REQ[$cfg]:--} | ${REDIS_PER_REQ[$cfg]:--}${REDIS_CMDS[$cfg]:+ (${REDIS_CMDS[$cfg]})} | $share | ${STORM_RESULT[$cfg]:--} | ${STOP_MS[$cfg]:--} |"
    done
    echo
  fi
  if [[ -n $GW_COUNT ]]; then
    echo "| gateway_overhead_seconds (PostgreSQL + Redis, $OVERHEAD_RATE turns/s offered, open loop) | turns | mean ms | p50 ms | p99 ms |"
    echo "|---|---:|---:|---:|---:|"
    echo "| from the bucket deltas of the measured run (≤: the bucket's upper edge; est.: interpolated) | $GW_COUNT | $GW_MEAN | $(at_most "$GW_P50") (est. $GW_P50_EST) | $(at_most "$GW_P99") (est. $GW_P99_EST) |"
    echo
  fi
  echo "Overhead: the server's own http_request_overhead_seconds (time outside the handler), mean over the run."
  echo "Other processes' CPU: the share of the machine busy outside the server, wrk and the private Redis during the run (PostgreSQL counts here)."
  for key in "${!NOTE[@]}"; do echo "- $key: ${NOTE[$key]}"; done
  echo
  has auth && echo "Targets (SPEC §8):"
  check() { # check DESCRIPTION OK
    if [[ $2 == 1 ]]; then echo "- met: $1"; else echo "- MISS: $1"; fi
  }
  ge() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { print (a + 0 >= b) ? 1 : 0 }'; }
  le() { awk -v a="${1:--}" -v b="$2" 'BEGIN { print (a != "-" && a + 0 <= b) ? 1 : 0 }'; }
  if has auth && [[ -n ${RPS[embedded/auth_me]:-} ]]; then
    check "embedded /auth/me ≥ 25000 req/s at c$CONNS (${RPS[embedded/auth_me]})" "$(ge "${RPS[embedded/auth_me]}" 25000)"
    check "embedded /auth/me p99 ≤ 10 ms at c$CONNS (${P99[embedded/auth_me]})" "$(le "${P99[embedded/auth_me]}" 10)"
    check "middleware adds ≤ 25 µs per request in process (${OVERHEAD_C1[embedded]} µs at c1; $(extra_cpu embedded/auth_me) µs of server CPU per /auth/me over the bare handler)" \
      "$(le "${OVERHEAD_C1[embedded]:--}" 25)"
    check "/health/live p99 ≤ 20 ms during the login storm (${P99[embedded/live_storm]})" "$(le "${P99[embedded/live_storm]}" 20)"
    check "cached interaction p50 ≤ 2 ms (${P50[embedded/cached]})" "$(le "${P50[embedded/cached]}" 2)"
    check "idle RSS ≤ 50 MB (${IDLE_RSS[embedded]})" "$(le "${IDLE_RSS[embedded]}" 50)"
    check "ready ≤ 1 s on the embedded default (${READY[embedded]} ms)" "$(le "${READY[embedded]}" 1000)"
  fi
  if has auth && [[ -n ${RPS[postgres/auth_me]:-} ]]; then
    check "PostgreSQL + Redis /auth/me ≥ 15000 req/s at c$CONNS (${RPS[postgres/auth_me]})" "$(ge "${RPS[postgres/auth_me]}" 15000)"
    check "PostgreSQL + Redis /auth/me p99 ≤ 10 ms at c$CONNS (${P99[postgres/auth_me]})" "$(le "${P99[postgres/auth_me]}" 10)"
    if [[ -n ${REDIS_PER_REQ[postgres]:-} ]]; then
      check "at most one Redis round trip per authenticated request (${REDIS_PER_REQ[postgres]} commands)" "$(le "${REDIS_PER_REQ[postgres]}" 1)"
    fi
    if [[ -n ${DB_PER_REQ[postgres]:-} ]]; then
      check "no database query on every /auth/me (${DB_PER_REQ[postgres]} transactions per request)" "$(le "${DB_PER_REQ[postgres]}" 0.05)"
    fi
    if [[ -n ${DB_PER_REQ_KEY[postgres]:-} ]]; then
      check "no database query on every /auth/me with an API key (${DB_PER_REQ_KEY[postgres]} transactions per request)" "$(le "${DB_PER_REQ_KEY[postgres]}" 0.05)"
    fi
  fi
  echo
  echo "Targets (issue 13, issue 11):"
  if [[ -n ${RPS[embedded/turns]:-} ]]; then
    check "embedded uncached turns ≥ 1500 turns/s at c$TURN_CONNS (${RPS[embedded/turns]})" "$(ge "${RPS[embedded/turns]}" 1500)"
  fi
  if [[ -n ${RPS[postgres/turns]:-} ]]; then
    check "PostgreSQL + Redis uncached turns ≥ 1500 turns/s at c$TURN_CONNS (${RPS[postgres/turns]})" "$(ge "${RPS[postgres/turns]}" 1500)"
    check "PostgreSQL + Redis uncached turn p99 ≤ 50 ms at c$TURN_CONNS (${P99[postgres/turns]})" "$(le "${P99[postgres/turns]}" 50)"
  fi
  if [[ -n ${RPS[overhead/turns_open]:-} ]]; then
    # The figure only means something at the rate asked for: the generator and the server kept up.
    check "the open-loop run sustained $OVERHEAD_RATE turns/s without errors (${RPS[overhead/turns_open]} answered/s, ${ERR[overhead/turns_open]} errors)" \
      "$(awk -v r="${RPS[overhead/turns_open]}" -v t="$OVERHEAD_RATE" -v e="${ERR[overhead/turns_open]}" 'BEGIN { print (r >= 0.98 * t && e == 0) ? 1 : 0 }')"
  fi
  if [[ -n $GW_COUNT && $GW_P50 != - ]]; then
    check "gateway overhead p50 ≤ 1 ms at $OVERHEAD_RATE turns/s on PostgreSQL ($(at_most "$GW_P50") ms, est. $GW_P50_EST)" "$(le "${GW_P50#>}" 1)"
    check "gateway overhead p99 ≤ 5 ms at $OVERHEAD_RATE turns/s on PostgreSQL ($(at_most "$GW_P99") ms, est. $GW_P99_EST)" "$(le "${GW_P99#>}" 5)"
  fi
  # The target at one connection: the latency the hop adds. Saturated, a p50 is connections
  # divided by throughput, so those runs compare throughput and CPU (decision 145).
  for pair in auth_me_c1 turns_c1 auth_me turns; do
    if [[ -n ${P50[nginx/direct_$pair]:-} && -n ${P50[nginx/proxy_$pair]:-} ]]; then
      added=$(awk -v p="${P50[nginx/proxy_$pair]}" -v d="${P50[nginx/direct_$pair]}" 'BEGIN { printf "%.2f", p - d }')
      what="${P50[nginx/proxy_$pair]} through nginx vs ${P50[nginx/direct_$pair]} direct: $added ms"
      if [[ $pair == *_c1 ]]; then
        check "nginx adds ≤ 1 ms p50, ${pair//_/ } ($what)" "$(le "$added" 1)"
      else
        echo "- saturated, ${pair//_/ }: p50 $what; ${RPS[nginx/proxy_$pair]} vs ${RPS[nginx/direct_$pair]} req/s, ${CPU_US[nginx/proxy_$pair]} vs ${CPU_US[nginx/direct_$pair]} µs of CPU per request (both instances and nginx vs one instance)"
      fi
    fi
  done
  for cfg in $CONFIGS; do
    if [[ -n ${RPS[$cfg/auth_me_key]:-} && -n ${RPS[$cfg/auth_me]:-} ]]; then
      check "$cfg /auth/me with an API key within 20 % of the JWT figure (${RPS[$cfg/auth_me_key]} vs ${RPS[$cfg/auth_me]} req/s)" \
        "$(ge "${RPS[$cfg/auth_me_key]}" "$(awk -v j="${RPS[$cfg/auth_me]}" 'BEGIN { printf "%.0f", j * 0.8 }')")"
    fi
  done
} >"$RESULTS"

echo
cat "$RESULTS"
echo
log "results kept in $RESULTS"

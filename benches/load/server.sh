# Starting servers and preparing their data for benches/load.sh (sourced by it; uses its globals
# and helpers: WORK, PIDS, free_port, wait_ready, api, log, ...).

# start_server LABEL DIR ENV...: `ainative serve` in DIR (its ./data: generated keys, SQLite;
# log in DIR/server-LABEL.log) on free loopback ports, with the bench
# defaults (rate limits out of reach: every request is still checked and counted) and ENV.
# Sets SERVER_PID, BASE, METRICS, SERVER_ENV (the environment, for the CLI), READY[LABEL],
# IDLE_RSS[LABEL] and LOAD[LABEL].
start_server() {
  local label=$1 dir=$2 port mport start
  shift 2
  mkdir -p "$dir"
  port=$(free_port)
  mport=$(free_port)
  BASE=http://127.0.0.1:$port
  METRICS=http://127.0.0.1:$mport
  SERVER_ENV=(env -i "PATH=$PATH" "HOME=${HOME:-/root}" "APP_HOST=127.0.0.1" "APP_PORT=$port"
    "METRICS_ADDR=127.0.0.1:$mport" "LOG_LEVEL=$LOG_LEVEL_BENCH"
    "RATE_LIMIT_ANONYMOUS=$UNLIMITED" "RATE_LIMIT_FREE_TIER=$UNLIMITED" "RATE_LIMIT_LOGIN=10000"
    "$@" "${SERVER_ENV_EXTRA[@]}")
  LOAD[$label]=$(cut -d' ' -f1-3 /proc/loadavg)
  log "[$label] starting ainative on $BASE"
  start=$(now_ms)
  (cd "$dir" && exec "${SERVER_ENV[@]}" "$SERVER_BIN" serve >"$dir/server-$label.log" 2>&1) &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  READY[$label]=$(wait_ready "$BASE/api/v1/health/ready" "$SERVER_PID" "$start") || {
    tail -20 "$dir/server-$label.log" >&2
    return 1
  }
  sleep 1
  IDLE_RSS[$label]=$(rss_mb "$SERVER_PID")
  log "[$label] ready in ${READY[$label]} ms; idle RSS ${IDLE_RSS[$label]} MB"
}

# prepare_data LABEL DIR COUNT: through the public API of BASE, a student (STUDENT: the access
# token), an administrator made with `ainative create-admin` (ADMIN_TOKEN; also an instructor),
# COUNT identical published activities and one session of the student on each (one id a line in
# DIR/sessions.txt). A student has one active session per activity, hence one activity each.
prepare_data() {
  local label=$1 dir=$2 count=$3 activity session i
  STUDENT=$(api POST /auth/register "" \
    "{\"email\":\"bench.student@example.com\",\"username\":\"bench_student\",\"password\":\"$PASSWORD\",\"full_name\":\"Bench Student\"}" |
    jq -r '.data.access_token')
  (cd "$dir" && "${SERVER_ENV[@]}" "ADMIN_PASSWORD=$ADMIN_PASSWORD_BENCH" "$SERVER_BIN" create-admin \
    --email bench.admin@example.com --username bench_admin >>"$dir/admin.log" 2>&1)
  ADMIN_TOKEN=$(api POST /auth/login "" "{\"username\":\"bench_admin\",\"password\":\"$ADMIN_PASSWORD_BENCH\"}" |
    jq -r '.data.access_token')
  local activity_body='{"title":"Loops in Python","subject":"python","difficulty":"beginner","instructions":"Write total(xs) that sums a list of numbers with a for loop.","tags":["loops"],"policies":{"max_help_level":"high"}}'
  : >"$dir/sessions.txt"
  log "[$label] preparing $count activities and sessions"
  for i in $(seq 1 "$count"); do
    activity=$(api POST /activities "$ADMIN_TOKEN" "$activity_body" | jq -r '.data.id')
    api POST "/activities/$activity/publish" "$ADMIN_TOKEN" >/dev/null
    session=$(api POST /sessions "$STUDENT" "{\"activity_id\":\"$activity\"}" | jq -r '.data.id')
    echo "$session" >>"$dir/sessions.txt"
  done
}

# fresh_pg_db: a new database on BENCH_POSTGRES_URL (dropped on exit); sets PG_URL. Fails when
# PostgreSQL does not answer.
fresh_pg_db() {
  PG_ADMIN_URL=$PG_BASE/postgres
  if ! psql -Atq "$PG_ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1; then
    log "PostgreSQL does not answer at $PG_BASE"
    return 1
  fi
  local db=ainative_bench_$$_$RANDOM
  psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE \"$db\"" >/dev/null
  PG_DBS+=("$db")
  PG_URL=$PG_BASE/$db
}

# ensure_redis: sets REDIS_RUN_URL: BENCH_REDIS_URL when given, else a private redis-server on a
# free port (started once per run: REDIS_PORT, REDIS_PID; clean command counts), else
# redis://127.0.0.1:6379. Every server gets a key prefix of its own anyway.
ensure_redis() {
  if [[ -n $REDIS_URL_GIVEN ]]; then
    REDIS_RUN_URL=$REDIS_URL_GIVEN
  elif [[ -n $REDIS_PID ]]; then
    return 0
  elif command -v redis-server >/dev/null 2>&1; then
    local i
    REDIS_PORT=$(free_port)
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --dir "$WORK" >"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    for i in $(seq 1 100); do
      redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    REDIS_RUN_URL=redis://127.0.0.1:$REDIS_PORT
  else
    REDIS_RUN_URL=redis://127.0.0.1:6379
  fi
}

# metric_labelled NAME LABEL... METRICS_URL...: the sum, over the metrics listeners, of the
# series of NAME whose labels contain every LABEL (e.g. 'result="miss"'). Arguments that start
# with http:// are listeners, the others labels.
metric_labelled() {
  local name=$1 arg labels=() urls=()
  shift
  for arg in "$@"; do
    if [[ $arg == http://* ]]; then urls+=("$arg"); else labels+=("$arg"); fi
  done
  for arg in "${urls[@]}"; do curl -fsS --max-time 5 "$arg/metrics"; done |
    awk -v n="$name" -v want="${labels[*]}" '
      index($1, n "{") == 1 {
        k = split(want, w, " "); ok = 1
        for (i = 1; i <= k; i++) if (index($1, w[i]) == 0) ok = 0
        if (ok) s += $2
      }
      END { printf "%.0f", s + 0 }'
}

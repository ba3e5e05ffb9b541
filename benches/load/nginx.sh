# nginx in front of two instances against one instance reached directly, in the same run (issue
# 13), for benches/load.sh (sourced by it). Both instances share a fresh PostgreSQL database and
# Redis (prefix of their own); nginx runs the shipped deploy/nginx/ainative.conf.template as an
# unprivileged process (as crates/server/tests/behind_nginx.rs does). Direct and proxied runs
# alternate: /auth/me and uncached turns at 1 connection (the hop's latency without queueing:
# the ≤ 1 ms target) and at BENCH_CONNECTIONS and BENCH_TURN_CONNECTIONS (throughput, p99 and
# CPU per request when the machine is saturated; decision 145). CPU per request counts every
# process that served it (through the proxy: both instances and nginx).

# start_nginx DIR PORT UPSTREAM1 UPSTREAM2: nginx in the foreground (its master is NGINX_PID).
start_nginx() {
  local dir=$1 port=$2 up1=$3 up2=$4
  mkdir -p "$dir/temp"
  sed -e "s/\${AINATIVE_INSTANCE_1}/$up1/" -e "s/\${AINATIVE_INSTANCE_2}/$up2/" \
    -e "s/\${NGINX_LISTEN}/127.0.0.1:$port/" "$ROOT/deploy/nginx/ainative.conf.template" >"$dir/site.conf"
  if grep -q '\${' "$dir/site.conf"; then
    log "a template variable of deploy/nginx/ainative.conf.template is not set"
    return 1
  fi
  cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes $NGINX_WORKERS;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/temp/body;
  proxy_temp_path $dir/temp/proxy;
  fastcgi_temp_path $dir/temp/fastcgi;
  uwsgi_temp_path $dir/temp/uwsgi;
  scgi_temp_path $dir/temp/scgi;
  include $dir/site.conf;
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
}

# The nginx master and its workers.
nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

# nginx_pair NAME DURATION CONNECTIONS PATH [wrk options...]: the direct run, then the proxied.
nginx_pair() {
  local name=$1 duration=$2 conns=$3 path=$4 n0 n1
  shift 4
  wrk -t"$THREADS" -c"$conns" -d"${WARMUP}s" --timeout 10s "$@" "$A_BASE$path" >/dev/null
  wrk_run "nginx/direct_$name" "$A_PID" "$duration" "$conns" "$A_BASE$path" "$@"
  wrk -t"$THREADS" -c"$conns" -d"${WARMUP}s" --timeout 10s "$@" "$PROXY$path" >/dev/null
  n0=$(cpu_ticks_of $(nginx_pids))
  wrk_run "nginx/proxy_$name" "$A_PID $B_PID $(nginx_pids)" "$duration" "$conns" "$PROXY$path" "$@"
  n1=$(cpu_ticks_of $(nginx_pids))
  nginx_note "nginx/proxy_$name" "$n0" "$n1"
}

# nginx_note KEY TICKS_BEFORE TICKS_AFTER: nginx's own share of the CPU per request.
nginx_note() {
  local key=$1 requests
  requests=$(sed -n 's/^WRK_RESULT requests=\([0-9]*\).*/\1/p' "$WORK/wrk-${key//\//-}.txt")
  NGINX_CPU[$key]=$(awk -v t="$(($3 - $2))" -v hz="$CLK_TCK" -v r="${requests:-0}" \
    'BEGIN { if (r > 0) printf "%.1f", t / hz * 1e6 / r; else print "-" }')
  NOTE[$key]="${NOTE[$key]:+${NOTE[$key]}; }server CPU is both instances' and nginx's ($NGINX_WORKERS workers), of which nginx ${NGINX_CPU[$key]} µs/req"
}

run_nginx() {
  local label=nginx dir=$WORK/nginx port
  if ! command -v nginx >/dev/null 2>&1; then
    log "nginx is not installed (Debian: apt-get install -y nginx): skipping the nginx scenario"
    return 0
  fi
  fresh_pg_db || { log "skipping the nginx scenario"; return 0; }
  ensure_redis
  local shared=("DATABASE_URL=$PG_URL" "REDIS_URL=$REDIS_RUN_URL" "REDIS_KEY_PREFIX=ainative-bench-$$-$RANDOM:"
    "TRUSTED_PROXIES=127.0.0.1/32")
  # One after the other: the first applies the migrations. One working directory: the keys
  # generated into ./data (signing key, API-key pepper) are shared, as a deployment's are.
  start_server "$label" "$dir" "${shared[@]}"
  A_PID=$SERVER_PID A_BASE=$BASE
  local a_metrics=$METRICS
  start_server "${label}_b" "$dir" "${shared[@]}"
  B_PID=$SERVER_PID
  local b_metrics=$METRICS
  port=$(free_port)
  PROXY=http://127.0.0.1:$port
  start_nginx "$dir/proxy" "$port" "${A_BASE#http://}" "${BASE#http://}"
  wait_ready "$PROXY/api/v1/health/ready" "$NGINX_PID" "$(now_ms)" >/dev/null || {
    cat "$dir/proxy/error.log" >&2
    return 1
  }
  BASE=$A_BASE
  prepare_data "$label" "$dir" "$CACHED"
  local auth=(-H "Authorization: Bearer $STUDENT")
  nginx_pair auth_me_c1 5 1 /api/v1/auth/me "${auth[@]}"
  nginx_pair auth_me "$DURATION" "$CONNS" /api/v1/auth/me "${auth[@]}"
  # A turn at one connection: the hop's latency without queueing (the target's measure).
  TURN_CONNS=1 DURATION=5 scenario_turns nginx/direct_turns_c1 "$A_PID" "$A_BASE" "$STUDENT" \
    "$dir/sessions.txt" "$a_metrics"
  TURN_CONNS=1 DURATION=5 scenario_turns nginx/proxy_turns_c1 "$A_PID $B_PID $(nginx_pids)" \
    "$PROXY" "$STUDENT" "$dir/sessions.txt" "$a_metrics" "$b_metrics"
  scenario_turns nginx/direct_turns "$A_PID" "$A_BASE" "$STUDENT" "$dir/sessions.txt" "$a_metrics"
  PART_PIDS=$(nginx_pids) scenario_turns nginx/proxy_turns "$A_PID $B_PID $(nginx_pids)" "$PROXY" \
    "$STUDENT" "$dir/sessions.txt" "$a_metrics" "$b_metrics"
  nginx_note nginx/proxy_turns 0 "$PART_TICKS"
  stop_pid "$NGINX_PID"
  stop_pid "$B_PID" 40
  stop_pid "$A_PID" 40
}

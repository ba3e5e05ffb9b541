# The AI gateway's own cost per turn at a constant arrival rate (issue 13), for benches/load.sh
# (sourced by it). PostgreSQL + Redis; the server talks to ainative-fake-provider, an
# OpenAI-compatible provider answering after a fixed BENCH_PROVIDER_DELAY_MS (20); the open-loop
# ainative-openloop sends BENCH_OVERHEAD_RATE (500) uncached turns a second whatever the answers
# do. The figure is the server's gateway_overhead_seconds (the turn's time in the gateway minus
# the wait for the model), from the bucket deltas of the measured run.

# histogram_quantiles BEFORE AFTER NAME: "count mean_ms p50_bound_ms p50_est_ms p99_bound_ms
# p99_est_ms" of the observations between two /metrics snapshots. bound: the upper edge of the
# bucket holding the quantile (exact: the quantile is at most this); est: linear within that
# bucket, as Prometheus' histogram_quantile.
histogram_quantiles() {
  awk -v n="$3" '
    function le_of(s) { sub(/.*le="/, "", s); sub(/".*/, "", s); return s }
    FNR == 1 { file++ }
    index($1, n "_bucket{") == 1 { le = le_of($1); v[file, le] = $2; if (file == 1) les[++k] = le }
    $1 == n "_sum" { sum[file] = $2 }
    $1 == n "_count" { cnt[file] = $2 }
    END {
      total = cnt[2] - cnt[1]
      if (total <= 0) { print "0 - - - - -"; exit }
      printf "%d %.3f", total, (sum[2] - sum[1]) / total * 1000
      split("0.5 0.99", qs, " ")
      for (q = 1; q <= 2; q++) {
        rank = qs[q] * total; prev_le = 0; prev_c = 0
        for (i = 1; i <= k; i++) {
          c = v[2, les[i]] - v[1, les[i]]
          if (c >= rank) {
            if (les[i] == "+Inf") { printf " >%g -", prev_le * 1000; break }
            est = prev_le + (les[i] - prev_le) * (c > prev_c ? (rank - prev_c) / (c - prev_c) : 1)
            printf " %g %.3f", les[i] * 1000, est * 1000
            break
          }
          prev_le = les[i]; prev_c = c
        }
      }
      print ""
    }' "$1" "$2"
}

# openloop_run KEY "PIDS" BASE TOKEN SESSIONS RATE SECONDS: one measured open-loop run; records
# the end-to-end figures like wrk_run (latency from the moment each request was due).
openloop_run() {
  local key=$1 pids=$2 base=$3 token=$4 sessions=$5 rate=$6 seconds=$7 before after out line
  before=$(cpu_ticks_of $pids)
  out=$("$OPENLOOP_BIN" "$base" "$token" "$sessions" "$rate" "$seconds" "run$RANDOM$RANDOM")
  after=$(cpu_ticks_of $pids)
  echo "$out" >"$WORK/openloop-${key//\//-}.txt"
  line=$(sed -n 's/^OPENLOOP_RESULT //p' <<<"$out")
  [[ -n $line ]] || { log "ainative-openloop printed no result for $key"; echo "$out" >&2; return 1; }
  local requests duration_us p50_us p90_us p99_us max_us socket_errors non2xx dropped max_lag_us
  eval "$line"
  RPS[$key]=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
  P50[$key]=$(awk -v v="$p50_us" 'BEGIN { printf "%.2f", v / 1000 }')
  P99[$key]=$(awk -v v="$p99_us" 'BEGIN { printf "%.2f", v / 1000 }')
  ERR[$key]=$((socket_errors + non2xx + dropped))
  CPU_US[$key]=$(awk -v t="$((after - before))" -v hz="$CLK_TCK" -v r="$requests" \
    'BEGIN { if (r > 0) printf "%.1f", t / hz * 1e6 / r; else print "-" }')
  NOTE[$key]="open loop at $rate turns/s for $seconds s: $requests answered, $non2xx non-2xx, $socket_errors socket errors, $dropped not sent (4,096 in flight); the generator was at most $(awk -v v="$max_lag_us" 'BEGIN { printf "%.1f", v / 1000 }') ms late; latency counted from when each turn was due"
  log "$key: ${RPS[$key]} turns/s, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms (end to end, provider delay included), errors ${ERR[$key]}"
}

run_overhead() {
  local label=overhead dir=$WORK/overhead provider_pid provider_port i
  mkdir -p "$dir"
  fresh_pg_db || { log "skipping the overhead scenario"; return 0; }
  ensure_redis
  "$FAKE_PROVIDER_BIN" "$PROVIDER_DELAY_MS" >"$dir/provider.log" 2>&1 &
  provider_pid=$!
  PIDS+=("$provider_pid")
  for i in $(seq 1 200); do
    provider_port=$(sed -n 's/^port=//p' "$dir/provider.log")
    [[ -n $provider_port ]] && break
    sleep 0.05
  done
  [[ -n $provider_port ]] || { log "ainative-fake-provider did not start: $(cat "$dir/provider.log")"; return 1; }
  start_server "$label" "$dir" "DATABASE_URL=$PG_URL" "REDIS_URL=$REDIS_RUN_URL" \
    "REDIS_KEY_PREFIX=ainative-bench-$$-$RANDOM:" "LLM_PROVIDER=openai" \
    "LLM_BASE_URL=http://127.0.0.1:$provider_port/v1" "LLM_MODEL=bench-model" \
    "LLM_API_KEY=sk-bench-fake-provider" "LLM_MAX_RETRIES=0"
  local pid=$SERVER_PID
  prepare_data "$label" "$dir" "$OVERHEAD_SESSIONS"
  log "[$label] warm-up: $OVERHEAD_RATE turns/s for $WARMUP s"
  "$OPENLOOP_BIN" "$BASE" "$STUDENT" "$dir/sessions.txt" "$OVERHEAD_RATE" "$WARMUP" "warm$RANDOM" >/dev/null
  curl -fsS --max-time 5 "$METRICS/metrics" >"$dir/metrics-before.txt"
  openloop_run "$label/turns_open" "$pid" "$BASE" "$STUDENT" "$dir/sessions.txt" "$OVERHEAD_RATE" "$DURATION"
  curl -fsS --max-time 5 "$METRICS/metrics" >"$dir/metrics-after.txt"
  local calls0 calls1
  calls0=$(awk 'index($1, "llm_requests_total{") == 1 { s += $2 } END { printf "%.0f", s + 0 }' "$dir/metrics-before.txt")
  calls1=$(awk 'index($1, "llm_requests_total{") == 1 { s += $2 } END { printf "%.0f", s + 0 }' "$dir/metrics-after.txt")
  read -r GW_COUNT GW_MEAN GW_P50 GW_P50_EST GW_P99 GW_P99_EST \
    <<<"$(histogram_quantiles "$dir/metrics-before.txt" "$dir/metrics-after.txt" gateway_overhead_seconds)"
  NOTE[$label/turns_open]+="; the provider (fixed $PROVIDER_DELAY_MS ms) was called $((calls1 - calls0)) times"
  log "[$label] gateway_overhead_seconds over $GW_COUNT turns: mean $GW_MEAN ms, p50 $GW_P50 ms (bucket bound; est. $GW_P50_EST), p99 $GW_P99 ms (est. $GW_P99_EST)"
  stop_pid "$pid" 40
  stop_pid "$provider_pid"
}

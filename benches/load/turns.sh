# The uncached tutoring turn over HTTP (issue 13), for benches/load.sh (sourced by it): wrk at
# BENCH_TURN_CONNECTIONS (32) connections posting interactions round-robin over prepared
# sessions, every prompt unique (the run's tag, the wrk thread and a counter), so no turn is a
# response-cache hit; the servers' own cache counters are read before and after to show it.

TURN_PROMPT='How should I think about adding up the numbers of a list with a for loop? What should the total start at?'

# turns_script FILE TOKEN SESSIONS_FILE TAG: the wrk script (report.lua's report included).
turns_script() {
  local file=$1 token=$2 sessions=$3 tag=$4
  {
    cat "$WORK/report.lua"
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo "wrk.headers[\"Authorization\"] = \"Bearer $token\""
    printf 'local sessions = {'
    sed 's/.*/"&",/' "$sessions" | tr -d '\n'
    echo '}'
    cat <<LUA
local count = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  count = count + 1
  local session = sessions[(count + (tid or 0) * 7) % #sessions + 1]
  local body = string.format('{"prompt":"%s (turn %s-%d-%d)"}', "$TURN_PROMPT", "$tag", tid or 0, count)
  return wrk.format(nil, "/api/v1/sessions/" .. session .. "/interactions", nil, body)
end
LUA
  } >"$file"
}

# scenario_turns KEY "PIDS" BASE_URL TOKEN SESSIONS_FILE METRICS_URL...: a warm-up, then one
# measured run (server CPU: the sum over PIDS); the note says how many of the measured turns the
# servers (METRICS_URLs) counted as provider calls and as cache hits. With PART_PIDS set, the
# CPU ticks of those processes during the measured run are left in PART_TICKS.
scenario_turns() {
  local key=$1 pids=$2 base=$3 token=$4 sessions=$5
  shift 5
  local script=$WORK/turns-${key//\//-}.lua hit0 miss0 hit1 miss1 requests
  turns_script "$script.warm" "$token" "$sessions" "warm$RANDOM$RANDOM"
  turns_script "$script" "$token" "$sessions" "run$RANDOM$RANDOM"
  wrk -t"$THREADS" -c"$TURN_CONNS" -d"${WARMUP}s" --timeout 10s -s "$script.warm" "$base/" >/dev/null
  hit0=$(metric_labelled cache_requests_total 'cache="llm"' 'result="hit"' "$@")
  miss0=$(metric_labelled cache_requests_total 'cache="llm"' 'result="miss"' "$@")
  local p0=0 p1=0
  if [[ -n ${PART_PIDS:-} ]]; then p0=$(cpu_ticks_of $PART_PIDS); fi
  WRK_SCRIPT=$script wrk_run "$key" "$pids" "$DURATION" "$TURN_CONNS" "$base/"
  if [[ -n ${PART_PIDS:-} ]]; then p1=$(cpu_ticks_of $PART_PIDS); fi
  PART_TICKS=$((p1 - p0))
  hit1=$(metric_labelled cache_requests_total 'cache="llm"' 'result="hit"' "$@")
  miss1=$(metric_labelled cache_requests_total 'cache="llm"' 'result="miss"' "$@")
  requests=$(sed -n 's/^WRK_RESULT requests=\([0-9]*\).*/\1/p' "$WORK/wrk-${key//\//-}.txt")
  NOTE[$key]="$requests uncached turns (unique prompts) over $(wc -l <"$sessions") sessions; the servers counted $((miss1 - miss0)) provider calls (cache misses) and $((hit1 - hit0)) cache hits"
  log "$key: ${NOTE[$key]}"
}

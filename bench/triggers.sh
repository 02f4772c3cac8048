#!/usr/bin/env bash
# Triggers benchmark (issue: triggers and functions). Prints a table; never
# fails on timings.
#   1. An endpoint trigger running a trivial command (echo '{"ok":true}')
#      under wrk -t2 -c16, against the `webhook` package running the same
#      command through /bin/sh with include-command-output-in-response.
#      centrali also records every request as a run (group commit).
#   2. Event-driven runs keeping up with ingestion: RATE events/s for SECONDS
#      to a `--provider none` source whose event trigger runs `true`; reports
#      when the last run finished and the run throughput.
#   DURATION=10s RATE=1000 SECONDS_LOAD=10 CONCURRENCY=8 bench/triggers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-10s}
RATE=${RATE:-1000}
SECONDS_LOAD=${SECONDS_LOAD:-10}
CONCURRENCY=${CONCURRENCY:-8}
bin="$PWD/$BUILD/centrali"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_url() {  # first stdout line of a server -> URL
  local file=$1
  for _ in $(seq 1 100); do
    if [ -s "$file" ]; then sed -n '1s/.*\(http:[^ ]*\).*/\1/p' "$file"; return; fi
    sleep 0.05
  done
  echo "server did not start" >&2; exit 1
}

run_wrk() {  # url -> "req/s p99 non2xx"
  local out rps p99 bad
  out=$(wrk -t2 -c16 -d"$DURATION" --latency "$1" 2>&1)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "$rps $p99 ${bad:-0}"
}

echo "triggers benchmark: $(nproc) cores; endpoint under wrk -t2 -c16 -d$DURATION; events at $RATE/s for ${SECONDS_LOAD}s" >&2

# --- 1. Endpoint trigger vs the webhook package ------------------------------
cmd="echo '{\"ok\":true}'"
cat > "$work/hooks.json" <<JSON
[{"id": "ok", "execute-command": "/bin/sh", "include-command-output-in-response": true,
  "pass-arguments-to-command": [{"source": "string", "name": "-c"}, {"source": "string", "name": "$(printf '%s' "$cmd" | sed 's/"/\\"/g')"}]}]
JSON
wh_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$wh_port" > "$work/webhook.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$wh_port/hooks/ok" && break; sleep 0.05; done
wh_sample=$(curl -s "http://127.0.0.1:$wh_port/hooks/ok")
read -r wh_rps wh_p99 wh_bad < <(run_wrk "http://127.0.0.1:$wh_port/hooks/ok")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

export CENTRALI_STORE="$work/endpoint.db"
# --concurrency 16: as many runs at once as wrk has connections (webhook has no limit).
"$bin" triggers add ok --on endpoint --path /ok --concurrency 16 --run "$cmd" > /dev/null
"$bin" listen --port 0 -q > "$work/listen1.out" 2> "$work/listen1.err" & listen_pid=$!; pids+=($listen_pid)
c_url=$(wait_url "$work/listen1.out")
c_sample=$(curl -s "$c_url/endpoints/ok")
read -r c_rps c_p99 c_bad < <(run_wrk "$c_url/endpoints/ok")
kill -TERM "$listen_pid"; wait "$listen_pid" 2>/dev/null || true
# Ceiling: the same command started, read and reaped from 16 threads, no HTTP.
spawn_rps=$("$BUILD/bench/bench_spawn" "$cmd" "${DURATION%s}" 16)
recorded=$("$bin" store info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tables"]["runs"])')

# --- 2. Event-driven runs keeping up with ingestion ---------------------------
export CENTRALI_STORE="$work/events.db"
"$bin" sources add open --provider none > /dev/null
"$bin" triggers add ping --on event --events '*' --source open --concurrency "$CONCURRENCY" --run true > /dev/null
printf '%s' '{"type":"ping","data":{"n":1}}' > "$work/body.json"
"$bin" listen --port 0 -q > "$work/listen2.out" 2> "$work/listen2.err" & listen_pid=$!; pids+=($listen_pid)
e_url=$(wait_url "$work/listen2.out")
t0=$(date +%s.%N)
read -r sent ok rate _ < <("$BUILD/bench/bench_load" "$e_url" /ingest/open "$RATE" "$SECONDS_LOAD" 8 "$work/body.json")
t_load=$(date +%s.%N)
# Poll until every run has finished (or 120 s have passed).
open_runs=1
for _ in $(seq 1 1200); do
  open_runs=$("$bin" triggers runs ping --status queued --limit 0 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  running=$("$bin" triggers runs ping --status running --limit 0 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  open_runs=$((open_runs + running))
  [ "$open_runs" -eq 0 ] && break
  sleep 0.1
done
t_done=$(date +%s.%N)
kill -TERM "$listen_pid"; wait "$listen_pid" 2>/dev/null || true
"$bin" triggers runs ping --limit 0 --json > "$work/runs.json"
read -r n_runs n_completed first_start last_end < <(python3 - "$work/runs.json" <<'PY'
import json, sys, datetime
runs = json.load(open(sys.argv[1]))
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
starts = [t(r["started_at"]) for r in runs if r["started_at"]]
ends = [t(r["ended_at"]) for r in runs if r["ended_at"]]
done = sum(1 for r in runs if r["status"] == "completed")
print(len(runs), done, min(starts) if starts else 0, max(ends) if ends else 0)
PY
)

py() { python3 -c "print($1)"; }
printf '\n%-58s %10s %10s %8s\n' "endpoint, trivial command (wrk -t2 -c16 -d$DURATION)" "req/s" "p99" "non-2xx"
printf '%-58s %10s %10s %8s\n' "webhook $(webhook -version 2>&1 | awk '{print $3}'), include-command-output-in-response" "$wh_rps" "$wh_p99" "$wh_bad"
printf '%-58s %10s %10s %8s\n' "centrali listen /endpoints/ok (run recorded per request)" "$c_rps" "$c_p99" "$c_bad"
printf '%-58s %10s\n' "ceiling: posix_spawn sh -c, 16 threads, no HTTP" "$spawn_rps"
echo "responses: webhook '$(echo "$wh_sample" | tr -d '\n')', centrali '$(echo "$c_sample" | tr -d '\n')'; runs recorded by centrali: $recorded"
echo "centrali / webhook: $(py "f'{float($c_rps)/float($wh_rps):.2f}'")   (target >= 1.50)"
echo "centrali / spawn ceiling: $(py "f'{float($c_rps)/float($spawn_rps):.2f}'"); webhook / spawn ceiling: $(py "f'{float($wh_rps)/float($spawn_rps):.2f}'")"
echo
echo "event-driven runs ('true', trigger --concurrency $CONCURRENCY), ingestion open loop at $RATE/s for ${SECONDS_LOAD}s:"
echo "  events sent $sent, accepted $ok, achieved ${rate}/s"
echo "  runs recorded $n_runs, completed $n_completed, still open at the end $open_runs"
echo "  last run finished $(py "f'{max(0.0, $last_end - $t_load):.2f}'") s after the load ended (load took $(py "f'{$t_load - $t0:.1f}'") s)"
echo "  run throughput: $(py "f'{$n_runs / max(0.001, $last_end - $first_start):.0f}'") runs/s (first start to last end)   (target >= $RATE)"

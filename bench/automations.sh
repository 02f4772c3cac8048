#!/usr/bin/env bash
# Automations benchmark (issue #27). Prints a table; never fails on timings.
#   1. Steps that start no process: N pending events, each starting a run of
#      an event automation of STEPS steps (decisions and 0s delays, no
#      compute); `dispatch --until-idle` fans them out and runs every step.
#      Reports steps/s end to end (target >= 5,000).
#   2. Keeping up with ingestion: RATE events/s for SECONDS_LOAD s into a
#      listener, each starting (a) an event trigger running `true` and, in a
#      second listener, (b) an automation of one compute step running `true`.
#      Reports when the last run finished after the load, for both.
#   N=2000 STEPS=10 RATE=1000 SECONDS_LOAD=10 bench/automations.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-2000}
STEPS=${STEPS:-10}
RATE=${RATE:-1000}
SECONDS_LOAD=${SECONDS_LOAD:-10}
bin="$PWD/$BUILD/centrali"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
py() { python3 -c "print($1)"; }

wait_url() {  # first stdout line of a server -> URL
  local file=$1
  for _ in $(seq 1 100); do
    if [ -s "$file" ]; then sed -n '1s/.*\(http:[^ ]*\).*/\1/p' "$file"; return; fi
    sleep 0.05
  done
  echo "server did not start" >&2; exit 1
}

echo "automations benchmark: $(nproc) cores; $N runs of $STEPS instant steps; events at $RATE/s for ${SECONDS_LOAD}s" >&2

# --- 1. Instant steps ----------------------------------------------------------
export CENTRALI_STORE="$work/steps.db"
python3 - "$STEPS" > "$work/instant.json" <<'PY'
import json, sys
n = int(sys.argv[1])
steps = []
for i in range(n):
    nxt = f"s{i+1}" if i + 1 < n else None
    if i % 2 == 0:
        s = {"id": f"s{i}", "type": "decision",
             "cases": [{"when": [{"path": "input.data.n", "op": "lt", "value": 0}], "next": nxt or f"s{i}"}]}
        if nxt: s["default"] = nxt
    else:
        s = {"id": f"s{i}", "type": "delay", "duration": "0s"}
        if nxt: s["next"] = nxt
    if nxt is None and s["type"] == "decision":
        s["cases"][0]["next"] = "s0"  # never taken: n >= 0
    steps.append(s)
print(json.dumps({"name": "instant", "trigger": {"type": "event", "events": ["bench.*"]}, "steps": steps}))
PY
"$bin" automations add -f "$work/instant.json" > /dev/null
"$BUILD/bench/bench_seed" pending "$CENTRALI_STORE" "$N" bench.step > /dev/null
t0=$(date +%s.%N)
"$bin" dispatch --until-idle > /dev/null 2>&1
t1=$(date +%s.%N)
read -r runs completed steps_total < <("$bin" automations runs instant --limit 0 --json | python3 -c '
import json, sys
runs = json.load(sys.stdin)
print(len(runs), sum(1 for r in runs if r["status"] == "completed"), sum(r.get("steps_run", 0) for r in runs))')
[ "$steps_total" -gt 0 ] || steps_total=$((completed * STEPS))

# --- 2. Keeping up with ingestion: trigger vs automation -------------------------
printf '%s' '{"type":"ping","data":{"n":1}}' > "$work/body.json"
cat > "$work/one.json" <<'JSON'
{"name": "one", "trigger": {"type": "event", "events": ["*"], "source": "open"},
 "steps": [{"id": "c", "type": "compute", "run": "true"}]}
JSON
keep_up() {  # kind -> "sent ok achieved finished_after open"
  local kind=$1
  export CENTRALI_STORE="$work/$kind.db"
  "$bin" sources add open --provider none > /dev/null
  if [ "$kind" = trigger ]; then
    "$bin" triggers add one --on event --events '*' --source open --concurrency 8 --run true > /dev/null
  else
    "$bin" automations add -f "$work/one.json" > /dev/null
  fi
  "$bin" listen --port 0 -q > "$work/$kind.out" 2> "$work/$kind.err" & local pid=$!; pids+=($pid)
  local url; url=$(wait_url "$work/$kind.out")
  local sent ok rate
  read -r sent ok rate _ < <("$BUILD/bench/bench_load" "$url" /ingest/open "$RATE" "$SECONDS_LOAD" 8 "$work/body.json")
  local t_load; t_load=$(date +%s.%N)
  local open=1
  for _ in $(seq 1 1200); do
    if [ "$kind" = trigger ]; then
      open=$("$bin" triggers runs one --limit 0 --json | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["status"] in ("queued","running")))')
    else
      open=$("$bin" automations runs one --limit 0 --json | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["status"] in ("running","waiting")))')
    fi
    [ "$open" -eq 0 ] && break
    sleep 0.1
  done
  local t_done; t_done=$(date +%s.%N)
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$sent $ok $rate $(py "f'{max(0.0, $t_done - $t_load):.2f}'") $open"
}
read -r t_sent t_ok t_rate t_after t_open < <(keep_up trigger)
read -r a_sent a_ok a_rate a_after a_open < <(keep_up automation)

echo
echo "instant steps (decision, 0s delay), $N event runs x $STEPS steps, dispatch --until-idle:"
echo "  runs $runs, completed $completed, steps $steps_total in $(py "f'{$t1 - $t0:.2f}'") s"
echo "  steps/s: $(py "f'{$steps_total / max(0.001, $t1 - $t0):.0f}'")   (target >= 5000; includes fan-out and process start)"
echo
printf '%-52s %8s %9s %10s %16s %6s\n' "events at $RATE/s for ${SECONDS_LOAD}s, each starting" "sent" "accepted" "achieved/s" "done after load" "open"
printf '%-52s %8s %9s %10s %15ss %6s\n' "an event trigger running 'true' (concurrency 8)" "$t_sent" "$t_ok" "$t_rate" "$t_after" "$t_open"
printf '%-52s %8s %9s %10s %15ss %6s\n' "an automation of one compute step running 'true'" "$a_sent" "$a_ok" "$a_rate" "$a_after" "$a_open"
echo "keeps up: the automation's backlog clears within $(py "f'{float($a_after):.2f}'") s of the load ending (trigger: $t_after s)"

#!/usr/bin/env bash
# Outbound delivery benchmark (issue: outbound webhooks). In one run:
#   ceiling  wrk against a local keep-alive receiver (bare cpp-httplib, answers 202),
#            POSTing a delivery's headers and a body of its size
#   centrali `dispatch --until-idle` fanning out N pending events to one webhook on that
#            receiver: each delivery signed (Standard Webhooks), POSTed on reused
#            connections, its attempt logged durably
# then `deliveries list --status failed` on a store with 1,000,000 attempts.
# The two alternate for ROUNDS rounds (a fresh store each time) and each
# figure is the median, so outside load on a shared machine moves a round,
# not a figure. centrali's figure is end to end: process start, fan-out of
# the N events into deliveries, every attempt sent and logged, exit.
# Prints a table with ratios; never fails on timings. It also prints the CPU
# each party spends per request (sender, receiver): both share the machine's
# cores, so the ratio is bounded by those costs, not by waiting.
#   N=20000 ROUNDS=3 SEED=1000000 bench/deliveries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-20000}
ROUNDS=${ROUNDS:-3}
SEED=${SEED:-1000000}
bin="$PWD/$BUILD/centrali"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$BUILD/bench/bench_bare_server" > "$work/recv.out" & pids+=($!)
recv_pid=$!
for _ in $(seq 1 100); do [ -s "$work/recv.out" ] && break; sleep 0.05; done
recv_url=$(sed -n '1s/.*\(http:[^ ]*\).*/\1/p' "$work/recv.out")

# The ceiling sends what a delivery sends: a probe delivery goes out first
# and wrk replays its request headers (the Standard Webhooks and Centrali
# copies, User-Agent) with a body of the envelope's size. The receiver's
# cost per request grows with its header count, so a bare three-header POST
# would be a ceiling no webhook sender could reach.
export CENTRALI_STORE="$work/probe.db"
"$bin" webhooks add --url "$recv_url/hook" --events 'order.*' > /dev/null 2> "$work/add.err"
"$BUILD/bench/bench_seed" pending "$CENTRALI_STORE" 1 order.created
"$bin" dispatch --until-idle > /dev/null 2>&1
body='{"type":"order.created","timestamp":"2026-11-27T10:00:00Z","data":{"type":"order.created","n":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}'
python3 - "$CENTRALI_STORE" "$body" > "$work/post.lua" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
headers = json.loads(db.execute("SELECT request_headers FROM attempts").fetchone()[0])
print('wrk.method = "POST"')
print(f"wrk.body = [[{sys.argv[2]}]]")
print('wrk.headers["Content-Type"] = "application/json"')
for name, value in headers:
    print(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
PY
# CPU seconds (user + system) of the receiver so far, and of a command the
# shell times (TIMEFORMAT gives user and system seconds).
recv_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$recv_pid/stat"; }
TIMEFORMAT='%U %S'
per_request_us() { python3 -c "print(f'{($2 - $1) * 1e6 / $3:.0f}')"; }  # from to count
cpu_us() { read -r u s < <(tail -n 1 "$1"); per_request_us 0 "$u + $s" "$2"; }  # time-file count
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wrk_all=(); rate_all=(); ms_all=(); sending_all=()
wrk_cpu_all=(); wrk_recv_all=(); c_cpu_all=(); c_recv_all=()
for round in $(seq 1 "$ROUNDS"); do
  r0=$(recv_cpu)
  { time wrk -t2 -c16 -d5s -s "$work/post.lua" "$recv_url/hook" > "$work/wrk.out"; } 2> "$work/wrk.time"
  r1=$(recv_cpu)
  wrk_all+=("$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")")
  sent=$(awk '/requests in/ {print $1}' "$work/wrk.out")
  wrk_cpu_all+=("$(cpu_us "$work/wrk.time" "$sent")"); wrk_recv_all+=("$(per_request_us "$r0" "$r1" "$sent")")
  export CENTRALI_STORE="$work/out-$round.db"
  "$bin" webhooks add --url "$recv_url/hook" --events 'order.*' > /dev/null 2> "$work/add.err"
  "$BUILD/bench/bench_seed" pending "$CENTRALI_STORE" "$N" order.created
  r0=$(recv_cpu); t0=$(date +%s%N)
  { time "$bin" dispatch --until-idle > /dev/null 2>&1; } 2> "$work/dispatch.time"
  t1=$(date +%s%N); r1=$(recv_cpu)
  ms=$(( (t1 - t0) / 1000000 ))
  ok=$("$bin" --json store info | python3 -c 'import json,sys; print(json.load(sys.stdin)["tables"]["attempts"])')
  rate_all+=("$(python3 -c "print(f'{$ok / ($ms / 1000):.0f}')")"); ms_all+=("$ms")
  c_cpu_all+=("$(cpu_us "$work/dispatch.time" "$ok")"); c_recv_all+=("$(per_request_us "$r0" "$r1" "$ok")")
  # For the reader: the rate once the fan-out has made every delivery (the
  # attempts' own timestamps), i.e. sending and logging alone.
  sending_all+=("$(python3 - "$CENTRALI_STORE" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
made = db.execute("SELECT max(created_ms) FROM deliveries").fetchone()[0]
n, end = db.execute("SELECT count(*), max(started_ms + duration_ms) FROM attempts WHERE started_ms >= ?", (made,)).fetchone()
print(f"{n / max((end - made) / 1000, 0.001):.0f}" if n else 0)
PY
)")
  echo "round $round: wrk ${wrk_all[-1]}/s, centrali ${rate_all[-1]}/s = $(python3 -c "print(f'{${rate_all[-1]} / ${wrk_all[-1]}:.2f}')") ($ok attempts in $ms ms; ${sending_all[-1]}/s after the fan-out)" >&2
  rm -f "$CENTRALI_STORE" "$CENTRALI_STORE-wal" "$CENTRALI_STORE-shm"
done
wrk_rps=$(median "${wrk_all[@]}"); rate=$(median "${rate_all[@]}"); ms=$(median "${ms_all[@]}")
sending=$(median "${sending_all[@]}")

"$BUILD/bench/bench_seed" deliveries "$work/big.db" "$SEED"
"$bin" --store "$work/big.db" deliveries list --status failed --limit 50 > /dev/null
best=999999
for _ in 1 2 3 4 5; do
  s0=$(date +%s%N)
  "$bin" --store "$work/big.db" --json deliveries list --status failed --limit 50 > /dev/null
  s1=$(date +%s%N)
  q=$(( (s1 - s0) / 1000000 ))
  [ "$q" -lt "$best" ] && best=$q
done

printf '\n%-58s %12s\n' "what (receiver: bare cpp-httplib on loopback)" "per second"
printf '%-58s %12s\n' "wrk -t2 -c16, a delivery's POST (ceiling, median of $ROUNDS)" "$wrk_rps"
printf '%-58s %12s\n' "centrali dispatch: $N signed deliveries, attempts logged" "$rate"
printf '%-58s %12s\n' "  of which sending once every delivery exists (info)" "$sending"
echo
echo "CPU per request, µs (median): wrk $(median "${wrk_cpu_all[@]}") + receiver $(median "${wrk_recv_all[@]}");" \
  "centrali $(median "${c_cpu_all[@]}") + receiver $(median "${c_recv_all[@]}")"
echo "centrali / wrk: $(python3 -c "print(f'{$rate / $wrk_rps:.2f}')")   (target >= 0.50); $N events took ${ms} ms end to end (median)"
echo "deliveries list --status failed on $SEED attempts: best of 5 = ${best} ms (whole process)   (target < 100 ms)"

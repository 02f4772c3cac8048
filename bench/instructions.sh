#!/usr/bin/env bash
# User-space instructions per delivery, counted by callgrind: a measure of
# centrali's own work that does not move with the machine's load (wall-clock
# runs on a shared 2-CPU VM move ±20 % within minutes; this moves about 1 %).
# Seeds N pending events for one webhook on the bare receiver, runs
# `dispatch --until-idle` under valgrind, prints instructions per delivery,
# the median of ROUNDS runs. Compare two builds with BIN=… (and SEED_BIN=…
# when their schemas differ). Kernel time is not counted, and OpenSSL runs
# without SHA-NI under valgrind, so signing weighs more here than it does.
#   N=4000 ROUNDS=3 bench/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-4000}
ROUNDS=${ROUNDS:-3}
bin=${BIN:-$PWD/$BUILD/centrali}
seed=${SEED_BIN:-$PWD/$BUILD/bench/bench_seed}
command -v valgrind > /dev/null || { echo "needs valgrind (apt install valgrind)" >&2; exit 2; }
work=$(mktemp -d)
recv=""
cleanup() { [ -n "$recv" ] && kill "$recv" 2> /dev/null; wait 2> /dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$BUILD/bench/bench_bare_server" > "$work/recv.out" & recv=$!
for _ in $(seq 1 100); do [ -s "$work/recv.out" ] && break; sleep 0.05; done
url=$(sed -n '1s/.*\(http:[^ ]*\).*/\1/p' "$work/recv.out")

counts=()
for round in $(seq 1 "$ROUNDS"); do
  export CENTRALI_STORE="$work/s-$round.db"
  "$bin" webhooks add --url "$url/hook" --events 'order.*' > /dev/null 2>&1
  "$seed" pending "$CENTRALI_STORE" "$N" order.created
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$bin" dispatch --until-idle > /dev/null 2> "$work/valgrind.err"
  total=$(grep -h '^summary:' "$work"/cg.* | awk '{s += $2} END {print s}')
  rm -f "$work"/cg.*
  done_n=$("$bin" --json store info | python3 -c 'import json,sys; print(json.load(sys.stdin)["tables"]["attempts"])')
  counts+=("$(( total / done_n ))")
  echo "round $round: $done_n attempts, ${counts[-1]} instructions per delivery" >&2
done
median=$(printf '%s\n' "${counts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "centrali dispatch, $N deliveries: $median user-space instructions per delivery (median of $ROUNDS)"

#!/usr/bin/env bash
# How long the behaviours the tests check without a clock take: process
# timeouts and kills, the log writer with a stopped reader, cron's search,
# signature checks, a client timeout, a fast-forwarded retry schedule. Each
# line prints the measurement, a baseline from the same run and their
# ratio; never fails on timings.
#   bench/timings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
cmake --build "$BUILD" --target bench_timings centrali >/dev/null
"$BUILD/bench/bench_timings"

# `dispatch --until-idle --fast-forward` over the default retry schedule
# (5 attempts to a refused port, 42 minutes of schedule), against the same
# command on a store with nothing to do.
centrali=$PWD/$BUILD/centrali
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
refused_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$centrali" --store "$tmp/idle.db" store info >/dev/null
"$centrali" --store "$tmp/ff.db" webhooks add --url "http://127.0.0.1:$refused_port/x" --events 'order.*' >/dev/null 2>&1
"$centrali" --store "$tmp/ff.db" events emit order.created --data '{"id":1}' >/dev/null
us_of() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000)); }
ff_us=$(us_of "$centrali" --store "$tmp/ff.db" dispatch --until-idle --fast-forward)
idle_us=$(us_of "$centrali" --store "$tmp/idle.db" dispatch --until-idle --fast-forward)
attempts=$("$centrali" --store "$tmp/ff.db" --json deliveries list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["attempts"])')
python3 - "$ff_us" "$idle_us" "$attempts" <<'PY'
import sys
ff, idle, attempts = int(sys.argv[1]) / 1000, int(sys.argv[2]) / 1000, sys.argv[3]
what = f"dispatch --fast-forward, default schedule ({attempts} attempts)"
print(f"{what:<58} {ff:10.2f} ms   {'the same, nothing due':<34} {idle:9.2f} ms   x{ff / idle if idle else 0:.2f}")
PY

#!/usr/bin/env bash
# How long the behaviours the tests check without a clock take: process
# timeouts and kills, the log writer with a stopped reader, cron's search,
# signature checks, a client timeout. Each line prints the measurement, a
# baseline from the same run and their ratio; never fails on timings.
#   bench/timings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
cmake --build "$BUILD" --target bench_timings >/dev/null
"$BUILD/bench/bench_timings"

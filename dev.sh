#!/usr/bin/env bash
# One entry point for setting up, building and testing centrali on Debian 12.
#   ./dev.sh demo       install what is missing, build, start `centrali listen` on a demo workspace
#   ./dev.sh test       install what is missing, build, run the whole test suite (with a throwaway PostgreSQL)
#   ./dev.sh build      install what is missing and build (build/centrali)
#   ./dev.sh sanitize   build and run the tests with AddressSanitizer + UBSan (build-asan/)
#   ./dev.sh bench      build and run the benchmarks in bench/ (prints ratios; never fails on timings)
#   ./dev.sh mutants    apply each mutant in tests/mutation/mutants.txt, rebuild, run its tests, list survivors
# Every step is idempotent: with everything installed and built it takes seconds.
set -euo pipefail
cd "$(dirname "$0")"

# Debian package names; the versions are the ones Debian 12 ships.
BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libcli11-dev libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev
                libssl-dev libsqlitecpp-dev libsqlite3-dev catch2 libhowardhinnant-date-dev tzdata libjemalloc-dev util-linux curl openssl python3 dpkg-dev file
                zsh fish bash-completion groff-base man-db libpq-dev)
# The server the tests run PostgreSQL stores against (tests/postgres/cluster.sh).
TEST_PACKAGES=(postgresql)
BENCH_PACKAGES=(wrk webhook)

install_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "dev.sh: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

configure_and_build() {  # $1 = build dir, $2 = target ("all" for everything), rest = extra cmake args
  local dir=$1 target=$2; shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCENTRALI_WERROR=ON "$@" >&2
  fi
  cmake --build "$dir" --target "$target" -j "$(nproc)" >&2
}

# Starts a throwaway PostgreSQL cluster for the tests (CENTRALI_TEST_POSTGRES
# holds its URL) and stops it when this script exits, pass or fail.
start_test_postgres() {  # $1 = build dir, where the cluster's state file goes
  export CENTRALI_PG_STATE="$PWD/$1/postgres-cluster"
  trap 'tests/postgres/cluster.sh stop' EXIT
  CENTRALI_TEST_POSTGRES=$(tests/postgres/cluster.sh start)
  export CENTRALI_TEST_POSTGRES
  echo "dev.sh: PostgreSQL for the tests at $CENTRALI_TEST_POSTGRES" >&2
}

run_tests() {  # $1 = build dir
  # --no-tests=error: a suite that found no test is a failure, not a pass.
  ctest --test-dir "$1" --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300
}

cmd=${1:-}
case "$cmd" in
  build)
    install_missing "${BUILD_PACKAGES[@]}"
    configure_and_build build all
    ;;
  test)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    configure_and_build build all
    start_test_postgres build
    run_tests build
    ;;
  sanitize)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    configure_and_build build-asan all -DCENTRALI_SANITIZE=ON
    start_test_postgres build-asan
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build-asan
    ;;
  bench)
    install_missing "${BUILD_PACKAGES[@]}" "${BENCH_PACKAGES[@]}"
    configure_and_build build all
    for script in bench/*.sh; do bash "$script"; done
    ;;
  mutants)
    # Slow (a rebuild and a test run per mutant), so not part of `test`.
    # With a PostgreSQL server: some promises are only kept (and broken) there.
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    shift
    start_test_postgres build
    python3 tests/mutation/run.py "$@"
    ;;
  demo)
    install_missing "${BUILD_PACKAGES[@]}"
    configure_and_build build centrali
    mkdir -p demo
    export CENTRALI_STORE="$PWD/demo/.centrali/centrali.db"
    bin="$PWD/build/centrali"
    secret="whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXRlc3RpbmctMTIzNDU2"
    if ! "$bin" sources show demo >/dev/null 2>&1; then
      "$bin" sources add demo --provider standard --secret "$secret" >/dev/null
    fi
    cat >&2 <<MSG
centrali demo: source 'demo' (Standard Webhooks), store $CENTRALI_STORE
From another terminal, send it a signed event and look at it:
  export CENTRALI_STORE=$CENTRALI_STORE
  body='{"type":"invoice.paid","data":{"id":"in_1","amount":4200}}'
  curl -sS http://127.0.0.1:${PORT:-8787}/ingest/demo --data-binary "\$body" \\
    -H @<(build/centrali sign --scheme standard --secret $secret --data "\$body")
  build/centrali events list
MSG
    exec "$bin" listen --port "${PORT:-8787}"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

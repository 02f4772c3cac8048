#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a fresh cluster in a temp dir,
# listening on 127.0.0.1 only, on a free port, with trust authentication.
#   tests/postgres/cluster.sh start   start one (if none is running) and print its URL
#   tests/postgres/cluster.sh url     print the running cluster's URL
#   tests/postgres/cluster.sh stop    stop it and delete its files (nothing running: no-op)
# The port is a free one, or $CENTRALI_PG_PORT (a test that starts a server
# where a listener already waits for one).
# The URL is postgresql://centrali@127.0.0.1:PORT/centrali; the tests read it
# from CENTRALI_TEST_POSTGRES. Which cluster is "the" cluster is kept in a state
# file, $CENTRALI_PG_STATE (default: build/postgres-cluster beside this repo's
# build), so `stop` finds what `start` made. Run as root, the server runs as
# the system user centrali-pg (created when absent): PostgreSQL refuses root.
# The server keeps its durability settings (fsync, synchronous_commit on);
# only initdb skips syncing the files it makes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
state=${CENTRALI_PG_STATE:-$repo/build/postgres-cluster}
server_user=centrali-pg

die() { echo "cluster.sh: $*" >&2; exit 1; }

# The newest server installed, where Debian puts it.
find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] || die "no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  echo "$dir"
}

# Runs a server program as the user that owns the cluster.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$server_user" -- "$@"; else "$@"; fi
}

# The running cluster's dir, or nothing.
running_dir() {
  [ -f "$state" ] || return 0
  local dir
  dir=$(cat "$state")
  # pg_ctl status alone trusts the pid file, whose process may be a zombie.
  if [ -f "$dir/port" ] && as_server "$(find_bin)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 &&
      "$(find_bin)/pg_isready" -q -h 127.0.0.1 -p "$(cat "$dir/port")"; then
    echo "$dir"
  fi
}

url_of() { echo "postgresql://centrali@127.0.0.1:$(cat "$1/port")/centrali"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_dir() {  # $1 = cluster dir
  local dir=$1
  if [ -d "$dir/data" ]; then
    as_server "$(find_bin)/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

start() {
  local dir bin port
  dir=$(running_dir)
  if [ -n "$dir" ]; then url_of "$dir"; return 0; fi
  # A cluster left by a run that died: clear it before making a new one.
  if [ -f "$state" ]; then stop_dir "$(cat "$state")"; rm -f "$state"; fi

  bin=$(find_bin)
  if [ "$(id -u)" -eq 0 ] && ! id "$server_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$server_user"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/centrali-pg.XXXXXX")
  [ "$(id -u)" -eq 0 ] && chown "$server_user" "$dir"
  mkdir -p "$(dirname "$state")"
  echo "$dir" >"$state"

  as_server "$bin/initdb" -D "$dir/data" -A trust -U centrali -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { tail -n 20 "$dir/initdb.log" >&2; die "initdb failed"; }

  # The port is free when asked for but may be taken before the server binds
  # it: try a few.
  local attempt
  for attempt in 1 2 3 4 5; do
    port=${CENTRALI_PG_PORT:-$(free_port)}
    if as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir" start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U centrali -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE centrali" >/dev/null || die "cannot create database centrali"
      url_of "$dir"
      return 0
    fi
    [ -z "${CENTRALI_PG_PORT:-}" ] && grep -q "Address already in use" "$dir/server.log" 2>/dev/null || break
  done
  echo "cluster.sh: the server did not start; the end of its log:" >&2
  tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
  stop_dir "$dir"
  rm -f "$state"
  exit 1
}

case ${1:-} in
  start) start ;;
  url)
    dir=$(running_dir)
    [ -n "$dir" ] || die "no cluster is running (state file $state)"
    url_of "$dir"
    ;;
  stop)
    if [ -f "$state" ]; then stop_dir "$(cat "$state")"; rm -f "$state"; fi
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

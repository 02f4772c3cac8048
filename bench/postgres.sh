#!/usr/bin/env bash
# PostgreSQL store benchmark (issue: past one machine). In one run, on one
# PostgreSQL server (a throwaway cluster from tests/postgres/cluster.sh, or
# the server at $CENTRALI_BENCH_POSTGRES, whose user may create databases):
#   ingestion
#     ceiling   pgbench, two clients, each transaction one INSERT of BATCH
#               rows into a copy of the events table (same columns, indexes,
#               body and headers), synchronous_commit on: rows per second
#     centrali  two `listen` processes on one PostgreSQL store, a wrk
#               (-t1 -c16) against each at once: GitHub HMAC verified, each
#               event acknowledged after its commit
#     peer      `webhook`, the same HMAC check and /bin/true (wrk -t2 -c32),
#               after the listeners in each round
#   deliveries
#     N pending events fanned out to one webhook on a bare local receiver:
#     one `dispatch --until-idle`, then two at once, each on a fresh store
# Each figure is the median of ROUNDS rounds; the parties alternate within
# a round so load from elsewhere moves a round, not a figure. Prints a table
# with ratios; never fails on timings.
#   DURATION=5s ROUNDS=5 N=20000 BATCH=32 bench/postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-5}
N=${N:-20000}
BATCH=${BATCH:-32}
bin="$PWD/$BUILD/centrali"
work=$(mktemp -d)
pids=()
export CENTRALI_PG_STATE="$work/cluster"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "${CENTRALI_BENCH_POSTGRES:-}" ] && tests/postgres/cluster.sh stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
server=${CENTRALI_BENCH_POSTGRES:-$(tests/postgres/cluster.sh start)}
for tool in pgbench psql wrk webhook; do
  command -v "$tool" >/dev/null || { echo "bench/postgres.sh needs $tool" >&2; exit 1; }
done

fresh_db() {  # -> URL of a new, empty database on the server (callable in a subshell)
  local name="centrali_bench_$$_$(date +%s%N)"
  psql -q -v ON_ERROR_STOP=1 -d "$server" -c "CREATE DATABASE $name" >/dev/null
  echo "${server%/*}/$name"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }
wait_url() {  # first stdout line of a server -> URL
  for _ in $(seq 1 200); do
    if [ -s "$1" ]; then sed -n '1s/.*\(http:[^ ]*\).*/\1/p' "$1"; return; fi
    sleep 0.05
  done
  echo "server did not start: $(cat "${1%.out}.err" 2>/dev/null)" >&2; exit 1
}

secret="bench-secret-$$"
body='{"action":"opened","number":1347,"issue":{"id":1,"title":"Found a bug","body":"I am having a problem with this.","labels":[{"name":"bug"}]},"repository":{"id":1296269,"full_name":"octocat/Hello-World"},"sender":{"login":"octocat","id":1}}'
printf '%s' "$body" > "$work/body.json"
sig=$("$bin" sign --scheme github --secret "$secret" --data-file "$work/body.json" | sed -n 's/^X-Hub-Signature-256: //p')

cat > "$work/load.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "issues"
wrk.headers["X-Hub-Signature-256"] = "$sig"
local n = 0
function request()
  n = n + 1
  -- a fresh delivery id per request (per wrk process too): every one is a new event
  wrk.headers["X-GitHub-Delivery"] = string.format("%s-%d", tag or "x", n)
  return wrk.format()
end
function setup(thread) thread:set("tag", os.getenv("TAG") or "x") end
LUA
wrk_rps() { awk '/Requests\/sec/ {print $2}' "$1"; }

# The ceiling's rows: what a listener stores for this request, BATCH to an
# INSERT. As pgbench runs a script by default (simple protocol), each
# transaction sends its rows as SQL text, as a listener sends them as
# parameters: ids and delivery ids from pgbench's random numbers, the rest
# the listener's very values. For information, also the same rows made by
# the server itself (generate_series): nothing crosses the socket.
python3 - "$body" "$BATCH" > "$work/insert_sent.sql" <<'PY'
import json, sys
body, batch = sys.argv[1], int(sys.argv[2])
headers = json.dumps([["Host", "127.0.0.1:40000"], ["Content-Type", "application/json"], ["X-GitHub-Event", "issues"],
                      ["X-Hub-Signature-256", "sha256=" + "0" * 64], ["X-GitHub-Delivery", "x-0000000000"],
                      ["Content-Length", str(len(body))]])
rows = []
for i in range(batch):
    print(f"\\set k{i} random(1, 9000000000000000000)")
    rows.append(f"('evt_' || :client_id || '_' || :k{i}, 'gh', 'issues.opened', 'accepted', NULL, 202, "
                f"'d' || :client_id || '_' || :k{i}, NULL, 'POST', '/ingest/gh', '127.0.0.1', "
                f"(extract(epoch FROM clock_timestamp()) * 1000)::bigint, 0, '{headers}', '\\x{body.encode().hex()}'::bytea)")
print("INSERT INTO bench_events (id, source, type, status, reason, http_status, dedupe_key, duplicate_of, method, path, "
      "remote_addr, received_ms, dispatched, headers, body) VALUES\n" + ",\n".join(rows) + ";")
PY
headers=$(python3 -c 'import json; print(json.dumps([["Host","127.0.0.1:40000"],["Content-Type","application/json"],["X-GitHub-Event","issues"],["X-Hub-Signature-256","sha256=" + "0" * 64],["X-GitHub-Delivery","x-0000000000"],["Content-Length","232"]]))')
cat > "$work/insert_made.sql" <<SQL
INSERT INTO bench_events (id, source, type, status, reason, http_status, dedupe_key, method, path, remote_addr,
                          received_ms, dispatched, headers, body)
SELECT 'evt_' || md5(random()::text), 'gh', 'issues.opened', 'accepted', NULL, 202, md5(random()::text), 'POST',
       '/ingest/gh', '127.0.0.1', (extract(epoch FROM clock_timestamp()) * 1000)::bigint, 0,
       '$headers', convert_to('$body', 'UTF8')
FROM generate_series(1, $BATCH);
SQL
pgbench_rows() {  # url script -> rows per second
  psql -q -d "$1" -c "CREATE TABLE bench_events (LIKE events INCLUDING ALL)"
  pgbench -n -c 2 -j 2 -T "${DURATION%s}" -f "$2" "$1" >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out" >&2; exit 1; }
  psql -q -d "$1" -c "DROP TABLE bench_events"
  python3 -c "print(f'{$(awk '/^tps/ {print $3; exit}' "$work/pgbench.out") * $BATCH:.0f}')"
}

start_listeners() {  # URL -> two listeners on it; sets l_urls, l_pids
  l_urls=(); l_pids=()
  CENTRALI_STORE=$1 "$bin" sources add gh --provider github --secret "$secret" >/dev/null
  for i in 1 2; do
    CENTRALI_STORE=$1 "$bin" listen --port 0 -q >"$work/listen$i.out" 2>"$work/listen$i.err" &
    l_pids+=($!); pids+=($!)
  done
  for i in 1 2; do l_urls+=("$(wait_url "$work/listen$i.out")"); done
}
stop_listeners() { kill -TERM "${l_pids[@]}"; wait "${l_pids[@]}" 2>/dev/null || true; }

echo "PostgreSQL benchmark: $(nproc) cores, $(psql -At -d "$server" -c 'SHOW server_version'), synchronous_commit $(psql -At -d "$server" -c 'SHOW synchronous_commit'), $ROUNDS rounds" >&2

# Peer: the webhook package, same HMAC check, command run after answering.
cat > "$work/hooks.json" <<JSON
[{"id": "gh", "execute-command": "/bin/true", "response-message": "queued",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$secret",
                             "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
webhook_rps() {  # one run of the peer, alone -> requests per second
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$port" >"$work/webhook.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
  wrk -t2 -c32 -d"$DURATION" -s "$work/load.lua" "http://127.0.0.1:$port/hooks/gh" >"$work/wh.out" 2>&1
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  sleep 1  # the /bin/true it starts after answering end: they would slow what runs next
  wrk_rps "$work/wh.out"
}

# Each round runs every party once, one after the other, so that the
# machine's speed, which drifts by a quarter over minutes here, moves a
# round rather than one party's figure (the peer used to run after all the
# listeners' rounds, and its ratio moved with the drift).
pg_all=(); made_all=(); c_all=(); stored_all=(); wh_all=()
for round in $(seq 1 "$ROUNDS"); do
  url=$(fresh_db)
  CENTRALI_STORE=$url "$bin" store info >/dev/null  # creates the schema
  pg_all+=("$(pgbench_rows "$url" "$work/insert_sent.sql")")
  made_all+=("$(pgbench_rows "$url" "$work/insert_made.sql")")

  start_listeners "$url"
  TAG="a$round" wrk -t1 -c16 -d"$DURATION" -s "$work/load.lua" "${l_urls[0]}/ingest/gh" >"$work/wrk1.out" 2>&1 &
  w1=$!
  TAG="b$round" wrk -t1 -c16 -d"$DURATION" -s "$work/load.lua" "${l_urls[1]}/ingest/gh" >"$work/wrk2.out" 2>&1
  wait "$w1"
  c_all+=("$(python3 -c "print(f'{$(wrk_rps "$work/wrk1.out") + $(wrk_rps "$work/wrk2.out"):.0f}')")")
  stop_listeners
  stored_all+=("$(psql -At -d "$url" -c "SELECT count(*) FROM events WHERE status = 'accepted'")")
  wh_all+=("$(webhook_rps)")
  echo "round $round: pgbench $BATCH-row batches ${pg_all[-1]} rows/s sent (${made_all[-1]} made by the server), two listeners ${c_all[-1]} req/s (${stored_all[-1]} events stored), webhook ${wh_all[-1]} req/s" >&2
done
pg_rows=$(median "${pg_all[@]}"); made_rows=$(median "${made_all[@]}"); c_rps=$(median "${c_all[@]}")
wh_rps=$(median "${wh_all[@]}")

# Deliveries: one sender, then two, on fresh stores holding N pending events.
"$BUILD/bench/bench_bare_server" >"$work/recv.out" & pids+=($!)
recv_url=$(wait_url "$work/recv.out")
deliver() {  # senders -> "per-second attempts-in-ms"
  local url t0 t1 ms ok
  url=$(fresh_db)
  CENTRALI_STORE=$url "$bin" webhooks add --url "$recv_url/hook" --events 'order.*' >/dev/null 2>"$work/add.err"
  "$BUILD/bench/bench_seed" pending "$url" "$N" order.created
  local senders=()
  t0=$(date +%s%N)
  for _ in $(seq 1 "$1"); do CENTRALI_STORE=$url "$bin" dispatch --until-idle >/dev/null 2>&1 & senders+=($!); done
  wait "${senders[@]}"
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  ok=$(psql -At -d "$url" -c "SELECT count(*) FROM attempts")
  python3 -c "print(f'{$ok / ($ms / 1000):.0f}', '$ok-in-$ms')"
}
one_all=(); two_all=()
for round in $(seq 1 "$ROUNDS"); do
  read -r r1 d1 < <(deliver 1); one_all+=("$r1")
  read -r r2 d2 < <(deliver 2); two_all+=("$r2")
  echo "round $round: one sender $r1/s ($d1 ms), two senders $r2/s ($d2 ms)" >&2
done
one=$(median "${one_all[@]}"); two=$(median "${two_all[@]}")

printf '\n%-62s %12s\n' "ingestion into PostgreSQL (median of $ROUNDS)" "per second"
printf '%-62s %12s\n' "pgbench, 2 clients, $BATCH-row INSERTs sent (ceiling), rows" "$pg_rows"
printf '%-62s %12s\n' "  the same rows made by the server (generate_series; info)" "$made_rows"
printf '%-62s %12s\n' "webhook $(webhook -version 2>&1 | awk '{print $3}'), HMAC + /bin/true (peer), requests" "$wh_rps"
printf '%-62s %12s\n' "centrali, two listeners, verified + committed, requests" "$c_rps"
echo
echo "two listeners / pgbench batches: $(ratio "$c_rps" "$pg_rows")   (target >= 0.50; $(ratio "$c_rps" "$made_rows") of the server-made rows)"
echo "two listeners / webhook:         $(ratio "$c_rps" "$wh_rps")   (target >= 3.00)"
echo
printf '%-62s %12s\n' "deliveries on PostgreSQL: $N signed, attempts logged" "per second"
printf '%-62s %12s\n' "one dispatch --until-idle" "$one"
printf '%-62s %12s\n' "two dispatch --until-idle on one store" "$two"
echo
echo "two senders / one sender: $(ratio "$two" "$one")   (target >= 1.50)"

#include "centrali/store/runs.hpp"
#include "centrali/store/postgres/sql.hpp"

#include "centrali/store/columns.hpp"

#include <algorithm>
#include <unordered_map>


namespace centrali::store {
namespace {

// Every query over open runs repeats the partial index's own condition
// (`status IN ('queued','running')`): only then may SQLite use runs_open,
// and ordering by (status, seq) walks it without a sort.
constexpr const char* k_summary_columns = "seq, id, trigger, status, origin, event_id, rerun_of, output, exit_code, "
                                          "error, queued_ms, started_ms, ended_ms, lease_until_ms";

std::string blob_text(const Column& c)
{
  if (c.is_null()) return {};
  return c.as_string();
}

// Reads the summary columns, then (when present) input, stdout, stderr.
Run read_run(Statement& st, bool full)
{
  Run r;
  r.seq = st.column(0).as_int64();
  r.id = st.column(1).as_string();
  r.trigger = st.column(2).as_string();
  r.status = st.column(3).as_string();
  r.origin = st.column(4).as_string();
  r.event_id = st.column(5).as_string();
  r.rerun_of = st.column(6).as_string();
  r.output = st.column(7).as_string();
  if (!st.column(8).is_null()) r.exit_code = st.column(8).as_int();
  r.error = st.column(9).as_string();
  r.queued_ms = st.column(10).as_int64();
  r.started_ms = optional_int(st.column(11));
  r.ended_ms = optional_int(st.column(12));
  r.lease_until_ms = optional_int(st.column(13));
  if (full) {
    r.input = st.column(14).as_string();
    r.stdout_data = blob_text(st.column(15));
    r.stderr_data = blob_text(st.column(16));
  }
  return r;
}

Result<int> interrupt_expired(Store& store, std::int64_t now_ms)
{
  auto& st = store.statement(
      "UPDATE runs SET status = 'failure', error = ?, ended_ms = ?, lease_until_ms = NULL "
      "WHERE status IN ('queued','running') AND status = 'running' AND lease_until_ms < ?");
  st.bind(1, k_interrupted);
  st.bind(2, static_cast<int64_t>(now_ms));
  st.bind(3, static_cast<int64_t>(now_ms));
  return st.exec();
}

} // namespace

Result<void> insert_run(Store& store, const Run& r)
{
  return guarded("store run " + r.id, [&]() -> Result<void> {
    auto& st = store.statement(
        "INSERT INTO runs (id, trigger, status, origin, event_id, rerun_of, input, output, stdout, stderr, exit_code, "
        "error, queued_ms, started_ms, ended_ms, lease_until_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, r.id);
    st.bind(2, r.trigger);
    st.bind(3, r.status);
    st.bind(4, r.origin);
    bind_text_or_null(st, 5, r.event_id);
    bind_text_or_null(st, 6, r.rerun_of);
    bind_text_or_null(st, 7, r.input);
    bind_text_or_null(st, 8, r.output);
    if (r.stdout_data.empty()) st.bind(9);
    else st.bind_no_copy(9, r.stdout_data.data(), static_cast<int>(r.stdout_data.size()));
    if (r.stderr_data.empty()) st.bind(10);
    else st.bind_no_copy(10, r.stderr_data.data(), static_cast<int>(r.stderr_data.size()));
    if (r.exit_code) st.bind(11, *r.exit_code);
    else st.bind(11);
    bind_text_or_null(st, 12, r.error);
    st.bind(13, static_cast<int64_t>(r.queued_ms));
    bind_optional(st, 14, r.started_ms);
    bind_optional(st, 15, r.ended_ms);
    bind_optional(st, 16, r.lease_until_ms);
    st.exec();
    return {};
  });
}

Result<Run> get_run(Store& store, const std::string& id)
{
  return guarded("read run " + id, [&]() -> Result<Run> {
    Statement st(store, std::string("SELECT ") + k_summary_columns +
                                         ", input, stdout, stderr FROM runs WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return fail(ErrorKind::not_found, "no run " + id);
    return read_run(st, true);
  });
}

Result<std::vector<Run>> list_runs(Store& store, const RunFilter& f)
{
  return guarded("list runs", [&]() -> Result<std::vector<Run>> {
    std::string sql = std::string("SELECT ") + k_summary_columns + " FROM runs WHERE 1=1";
    if (!f.trigger.empty()) sql += " AND trigger = :trigger";
    if (!f.status.empty()) sql += " AND status = :status";
    sql += " ORDER BY seq DESC";
    if (f.limit > 0) sql += " LIMIT :limit";
    Statement st(store, sql);
    if (!f.trigger.empty()) st.bind(":trigger", f.trigger);
    if (!f.status.empty()) st.bind(":status", f.status);
    if (f.limit > 0) st.bind(":limit", f.limit);
    std::vector<Run> out;
    while (st.step()) out.push_back(read_run(st, false));
    return out;
  });
}

Result<std::vector<Run>> runs_for_event(Store& store, const std::string& event_id)
{
  return guarded("list runs of " + event_id, [&]() -> Result<std::vector<Run>> {
    Statement st(store, std::string("SELECT ") + k_summary_columns + " FROM runs WHERE event_id = ? ORDER BY seq");
    st.bind(1, event_id);
    std::vector<Run> out;
    while (st.step()) out.push_back(read_run(st, false));
    return out;
  });
}

Result<int> interrupt_expired_runs(Store& store, std::int64_t now_ms)
{
  return guarded("mark interrupted runs", [&]() -> Result<int> { return interrupt_expired(store, now_ms); });
}

Result<int> interrupt_departed_runs(Store& store, std::int64_t now_ms)
{
  if (store.backend() != Backend::postgresql) return 0;  // see store::release_departed_senders_leases
  return guarded("interrupt runs of departed processes", [&]() -> Result<int> {
    auto& st = store.statement(postgres::k_interrupt_departed_runs);
    st.bind(1, k_interrupted);
    st.bind(2, static_cast<int64_t>(now_ms));
    st.bind(3, postgres::k_sender_owner_class);
    int interrupted = st.exec();
    st.reset();
    return interrupted;
  });
}

Result<std::vector<ClaimedRun>> claim_runs(Store& store, std::int64_t now_ms, int limit, std::int64_t owner)
{
  return guarded("claim runs", [&]() -> Result<std::vector<ClaimedRun>> {
    std::vector<ClaimedRun> claimed;
    if (auto r = interrupt_expired(store, now_ms); !r) return std::unexpected(r.error());
    {
      auto& st = store.statement(
          "UPDATE runs SET status = 'cancelled', error = 'trigger removed', ended_ms = ? "
          "WHERE status IN ('queued','running') AND status = 'queued' AND trigger NOT IN (SELECT name FROM triggers)");
      st.bind(1, static_cast<int64_t>(now_ms));
      st.exec();
    }
    std::unordered_map<std::string, int> running;
    {
      auto& st = store.statement("SELECT trigger, count(*) FROM runs WHERE status IN ('queued','running') "
                                 "AND status = 'running' GROUP BY trigger");
      while (st.step()) running[st.column(0).as_string()] = st.column(1).as_int();
    }
    // Triggers with queued runs, the one waiting longest first, so a busy
    // trigger cannot starve the others out of the claim limit.
    std::vector<std::string> waiting;
    {
      auto& st = store.statement(
          "SELECT r.trigger FROM runs r JOIN triggers t ON t.name = r.trigger "
          "WHERE r.status IN ('queued','running') AND r.status = 'queued' AND t.paused = 0 "
          "GROUP BY r.trigger ORDER BY min(r.seq)");
      while (st.step()) waiting.push_back(st.column(0).as_string());
    }
    for (const auto& name : waiting) {
      if (static_cast<int>(claimed.size()) >= limit) break;
      auto trigger = get_trigger(store, name);
      if (!trigger) return std::unexpected(trigger.error());
      int free = trigger->concurrency - running[name];
      int take = std::min(free, limit - static_cast<int>(claimed.size()));
      if (take <= 0) continue;
      std::int64_t lease = now_ms + trigger->timeout_ms + k_lease_margin_ms;
      std::vector<Run> runs;
      {
        auto& st = store.statement(
            "SELECT seq, id, trigger, status, origin, event_id, rerun_of, output, exit_code, error, queued_ms, "
            "started_ms, ended_ms, lease_until_ms, input FROM runs "
            "WHERE status IN ('queued','running') AND status = 'queued' AND trigger = ? ORDER BY status, seq LIMIT ?");
        st.bind(1, name);
        st.bind(2, take);
        while (st.step()) {
          Run r = read_run(st, false);
          r.input = st.column(14).as_string();
          runs.push_back(std::move(r));
        }
      }
      for (auto& r : runs) {
        auto& up = store.statement(
            "UPDATE runs SET status = 'running', started_ms = ?, lease_until_ms = ?, lease_owner = ? WHERE seq = ?");
        up.bind(1, static_cast<int64_t>(now_ms));
        up.bind(2, static_cast<int64_t>(lease));
        if (owner) up.bind(3, static_cast<int64_t>(owner));
        else up.bind(3);
        up.bind(4, static_cast<int64_t>(r.seq));
        up.exec();
        r.status = "running";
        r.started_ms = now_ms;
        r.lease_until_ms = lease;
        claimed.push_back({std::move(r), *trigger});
      }
    }
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.run.seq < b.run.seq; });
    return claimed;
  });
}

Result<void> finish_run(Store& store, const RunResult& r)
{
  return guarded("record run " + r.id, [&]() -> Result<void> {
    // Written whatever the current status: if another process meanwhile
    // called this run interrupted, the real outcome is still the better record.
    auto& st = store.statement(
        "UPDATE runs SET status = ?, output = ?, stdout = ?, stderr = ?, exit_code = ?, error = ?, started_ms = ?, "
        "ended_ms = ?, lease_until_ms = NULL WHERE id = ?");
    st.bind(1, r.status);
    bind_text_or_null(st, 2, r.output);
    if (r.stdout_data.empty()) st.bind(3);
    else st.bind_no_copy(3, r.stdout_data.data(), static_cast<int>(r.stdout_data.size()));
    if (r.stderr_data.empty()) st.bind(4);
    else st.bind_no_copy(4, r.stderr_data.data(), static_cast<int>(r.stderr_data.size()));
    if (r.exit_code) st.bind(5, *r.exit_code);
    else st.bind(5);
    bind_text_or_null(st, 6, r.error);
    st.bind(7, static_cast<int64_t>(r.started_ms));
    st.bind(8, static_cast<int64_t>(r.ended_ms));
    st.bind(9, r.id);
    st.exec();
    if (store.changes() == 0) return fail(ErrorKind::not_found, "no run " + r.id);
    return {};
  });
}

Result<void> release_run(Store& store, const std::string& id)
{
  return guarded("release run " + id, [&]() -> Result<void> {
    auto& st = store.statement("UPDATE runs SET status = 'queued', started_ms = NULL, lease_until_ms = NULL "
                               "WHERE id = ? AND status = 'running'");
    st.bind(1, id);
    st.exec();
    return {};
  });
}

Result<bool> has_pending_runs(Store& store)
{
  return guarded("read run queue", [&]() -> Result<bool> {
    auto& running = store.statement(
        "SELECT 1 FROM runs WHERE status IN ('queued','running') AND status = 'running' LIMIT 1");
    // Reset at once: a half-stepped statement would keep this connection's
    // read snapshot open, and it would never see newer runs.
    bool any = running.step();
    running.reset();
    if (any) return true;
    auto& queued = store.statement(
        "SELECT 1 FROM runs r JOIN triggers t ON t.name = r.trigger "
        "WHERE r.status IN ('queued','running') AND r.status = 'queued' AND t.paused = 0 LIMIT 1");
    any = queued.step();
    queued.reset();
    return any;
  });
}

} // namespace centrali::store

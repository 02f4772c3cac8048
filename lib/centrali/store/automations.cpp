#include "centrali/store/automations.hpp"
#include "centrali/store/postgres/sql.hpp"

#include "centrali/store/columns.hpp"


#include "centrali/store/string_list.hpp"
#include "centrali/util/ids.hpp"

namespace centrali::store {
namespace {

// Every query over open runs repeats the partial index's own condition
// (`status IN ('running','waiting')`): only then may SQLite use
// automation_runs_open.
constexpr const char* k_automation_columns =
    "name, definition, trigger, events, source, collection, path, cron, tz, every_ms, at_ms, next_fire_ms, paused, "
    "created_ms, updated_ms";
constexpr const char* k_run_columns =
    "seq, id, automation, status, origin, event_id, rerun_of, context, next_step, due_ms, lease_until_ms, steps_run, "
    "error, created_ms, updated_ms, ended_ms";
constexpr const char* k_step_columns =
    "seq, run_id, step, type, status, attempt, started_ms, ended_ms, output, next, error, detail, clock_offset_ms";

Automation read_automation(Statement& st)
{
  Automation a;
  a.name = st.column(0).as_string();
  a.definition = st.column(1).as_string();
  a.trigger = st.column(2).as_string();
  a.events = string_list_from_text(st.column(3).as_string());
  a.source = st.column(4).as_string();
  a.collection = st.column(5).as_string();
  a.path = st.column(6).as_string();
  a.cron = st.column(7).as_string();
  a.tz = st.column(8).as_string();
  a.every_ms = optional_int(st.column(9));
  a.at_ms = optional_int(st.column(10));
  a.next_fire_ms = optional_int(st.column(11));
  a.paused = st.column(12).as_int() != 0;
  a.created_ms = st.column(13).as_int64();
  a.updated_ms = st.column(14).as_int64();
  return a;
}

void bind_automation(Statement& st, const Automation& a)
{
  st.bind(1, a.name);
  st.bind(2, a.definition);
  st.bind(3, a.trigger);
  bind_text_or_null(st, 4, a.events.empty() ? std::string() : string_list_text(a.events));
  bind_text_or_null(st, 5, a.source);
  bind_text_or_null(st, 6, a.collection);
  bind_text_or_null(st, 7, a.path);
  bind_text_or_null(st, 8, a.cron);
  bind_text_or_null(st, 9, a.tz);
  bind_optional(st, 10, a.every_ms);
  bind_optional(st, 11, a.at_ms);
  bind_optional(st, 12, a.next_fire_ms);
  st.bind(13, a.paused ? 1 : 0);
  st.bind(14, static_cast<int64_t>(a.created_ms));
  st.bind(15, static_cast<int64_t>(a.updated_ms));
}

// An http automation's path is served once; rejected when another has it.
Result<void> require_free_path(Store& store, const Automation& a)
{
  if (a.trigger != "http") return {};
  Statement st(store, "SELECT name FROM automations WHERE trigger = 'http' AND path = ? AND name <> ?");
  st.bind(1, a.path);
  st.bind(2, a.name);
  if (st.step())
    return fail(ErrorKind::rejected,
                "path /automations/" + a.path + " is already served by automation '" + st.column(0).as_string() + "'");
  return {};
}

AutomationRun read_run(Statement& st)
{
  AutomationRun r;
  r.seq = st.column(0).as_int64();
  r.id = st.column(1).as_string();
  r.automation = st.column(2).as_string();
  r.status = st.column(3).as_string();
  r.origin = st.column(4).as_string();
  r.event_id = st.column(5).as_string();
  r.rerun_of = st.column(6).as_string();
  r.context = st.column(7).as_string();
  r.next_step = st.column(8).as_string();
  r.due_ms = st.column(9).as_int64();
  r.lease_until_ms = optional_int(st.column(10));
  r.steps_run = st.column(11).as_int();
  r.error = st.column(12).as_string();
  r.created_ms = st.column(13).as_int64();
  r.updated_ms = st.column(14).as_int64();
  r.ended_ms = optional_int(st.column(15));
  return r;
}

AutomationStep read_step(Statement& st)
{
  AutomationStep s;
  s.seq = st.column(0).as_int64();
  s.run_id = st.column(1).as_string();
  s.step = st.column(2).as_string();
  s.type = st.column(3).as_string();
  s.status = st.column(4).as_string();
  s.attempt = st.column(5).as_int();
  s.started_ms = st.column(6).as_int64();
  s.ended_ms = optional_int(st.column(7));
  s.output = st.column(8).as_string();
  s.next = st.column(9).as_string();
  s.error = st.column(10).as_string();
  s.detail = st.column(11).as_string();
  s.clock_offset_ms = st.column(12).as_int64();
  return s;
}

std::vector<AutomationStep> read_steps(Store& store, const std::string& run_id)
{
  std::vector<AutomationStep> steps;
  static const std::string sql =
      std::string("SELECT ") + k_step_columns + " FROM automation_steps WHERE run_id = ? ORDER BY run_id, seq";
  auto& st = store.statement(sql.c_str());
  st.bind(1, run_id);
  while (st.step()) steps.push_back(read_step(st));
  st.reset();
  return steps;
}

void write_step(Store& store, AutomationStep& s)
{
  if (s.seq == 0) {
#define CENTRALI_INSERT_STEP                                                                                \
  "INSERT INTO automation_steps (run_id, step, type, status, attempt, started_ms, ended_ms, output, next, " \
  "error, detail, clock_offset_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    auto& ins = store.statement(CENTRALI_INSERT_STEP, CENTRALI_INSERT_STEP " RETURNING seq");
#undef CENTRALI_INSERT_STEP
    ins.bind(1, s.run_id);
    ins.bind(2, s.step);
    ins.bind(3, s.type);
    ins.bind(4, s.status);
    ins.bind(5, s.attempt);
    ins.bind(6, static_cast<int64_t>(s.started_ms));
    bind_optional(ins, 7, s.ended_ms);
    bind_text_or_null(ins, 8, s.output);
    bind_text_or_null(ins, 9, s.next);
    bind_text_or_null(ins, 10, s.error);
    bind_text_or_null(ins, 11, s.detail);
    ins.bind(12, static_cast<int64_t>(s.clock_offset_ms));
    s.seq = store.insert_for_key(ins);
    return;
  }
  auto& up = store.statement("UPDATE automation_steps SET status = ?, ended_ms = ?, output = ?, next = ?, error = ?, "
                             "detail = ? WHERE seq = ?");
  up.bind(1, s.status);
  bind_optional(up, 2, s.ended_ms);
  bind_text_or_null(up, 3, s.output);
  bind_text_or_null(up, 4, s.next);
  bind_text_or_null(up, 5, s.error);
  bind_text_or_null(up, 6, s.detail);
  up.bind(7, static_cast<int64_t>(s.seq));
  up.exec();
  up.reset();
}

Result<void> require_automation(Store& store, const std::string& name)
{
  if (store.changes() == 0) return fail(ErrorKind::not_found, "no automation named '" + name + "'");
  return {};
}

} // namespace

Result<void> add_automation(Store& store, const Automation& a)
{
  return write_transaction(store, [&]() -> Result<void> {
    Statement exists(store, "SELECT 1 FROM automations WHERE name = ?");
    exists.bind(1, a.name);
    if (exists.step())
      return fail(ErrorKind::rejected, "automation '" + a.name + "' already exists (change it with 'centrali automations "
                                       "update -f FILE')");
    if (auto r = require_free_path(store, a); !r) return r;
    Statement st(store, std::string("INSERT INTO automations (") + k_automation_columns +
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bind_automation(st, a);
    st.exec();
    return {};
  });
}

Result<void> update_automation(Store& store, const Automation& a)
{
  return write_transaction(store, [&]() -> Result<void> {
    Statement old(store, "SELECT created_ms, paused FROM automations WHERE name = ?");
    old.bind(1, a.name);
    if (!old.step())
      return fail(ErrorKind::not_found, "no automation named '" + a.name + "' (add it with 'centrali automations add -f FILE')");
    Automation kept = a;
    kept.created_ms = old.column(0).as_int64();
    kept.paused = old.column(1).as_int() != 0;
    old.reset();
    if (auto r = require_free_path(store, kept); !r) return r;
    Statement del(store, "DELETE FROM automations WHERE name = ?");
    del.bind(1, a.name);
    del.exec();
    Statement st(store, std::string("INSERT INTO automations (") + k_automation_columns +
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bind_automation(st, kept);
    st.exec();
    return {};
  });
}

Result<Automation> get_automation(Store& store, const std::string& name)
{
  return guarded("read automation ", name, [&]() -> Result<Automation> {
    static const std::string sql = std::string("SELECT ") + k_automation_columns + " FROM automations WHERE name = ?";
    auto& st = store.statement(sql.c_str());
    st.bind(1, name);
    if (!st.step()) {
      st.reset();
      return fail(ErrorKind::not_found, "no automation named '" + name + "'");
    }
    auto a = read_automation(st);
    st.reset();
    return a;
  });
}

Result<std::vector<Automation>> list_automations(Store& store)
{
  return guarded("list automations", [&]() -> Result<std::vector<Automation>> {
    std::vector<Automation> out;
    Statement st(store, std::string("SELECT ") + k_automation_columns + " FROM automations ORDER BY name");
    while (st.step()) out.push_back(read_automation(st));
    st.reset();
    return out;
  });
}

Result<void> remove_automation(Store& store, const std::string& name, std::int64_t now_ms)
{
  return write_transaction(store, [&]() -> Result<void> {
    Statement del(store, "DELETE FROM automations WHERE name = ?");
    del.bind(1, name);
    del.exec();
    if (auto r = require_automation(store, name); !r) return r;
    Statement cancel(store,
                             "UPDATE automation_runs SET status = 'cancelled', error = 'automation removed', "
                             "next_step = NULL, lease_until_ms = NULL, ended_ms = ?, updated_ms = ? "
                             "WHERE status IN ('running','waiting') AND automation = ?");
    cancel.bind(1, static_cast<int64_t>(now_ms));
    cancel.bind(2, static_cast<int64_t>(now_ms));
    cancel.bind(3, name);
    cancel.exec();
    return {};
  });
}

Result<void> set_automation_paused(Store& store, const std::string& name, bool paused,
                                   std::optional<std::int64_t> next_fire_ms)
{
  return guarded("pause automation ", name, [&]() -> Result<void> {
    Statement st(store, paused ? "UPDATE automations SET paused = 1 WHERE name = ?"
                                            : "UPDATE automations SET paused = 0, next_fire_ms = ? WHERE name = ?");
    if (paused) {
      st.bind(1, name);
    } else {
      bind_optional(st, 1, next_fire_ms);
      st.bind(2, name);
    }
    st.exec();
    return require_automation(store, name);
  });
}

Result<Automation> automation_for_path(Store& store, const std::string& path)
{
  return guarded("read automation for path ", path, [&]() -> Result<Automation> {
    static const std::string sql =
        std::string("SELECT ") + k_automation_columns + " FROM automations WHERE trigger = 'http' AND path = ?";
    auto& st = store.statement(sql.c_str());
    st.bind(1, path);
    if (!st.step()) {
      st.reset();
      return fail(ErrorKind::not_found, "no automation at /automations/" + path);
    }
    auto a = read_automation(st);
    st.reset();
    return a;
  });
}

Result<void> set_automation_next_fire(Store& store, const std::string& name, std::optional<std::int64_t> next_fire_ms)
{
  return guarded("schedule automation ", name, [&]() -> Result<void> {
    auto& st = store.statement("UPDATE automations SET next_fire_ms = ? WHERE name = ?");
    bind_optional(st, 1, next_fire_ms);
    st.bind(2, name);
    st.exec();
    st.reset();
    return require_automation(store, name);
  });
}

Result<bool> advance_automation_schedule(Store& store, const std::string& name, std::int64_t due_ms,
                                         std::optional<std::int64_t> next_ms)
{
  return guarded("advance schedule of automation ", name, [&]() -> Result<bool> {
    auto& st = store.statement(
        "UPDATE automations SET next_fire_ms = ? WHERE name = ? AND next_fire_ms = ? AND paused = 0");
    bind_optional(st, 1, next_ms);
    st.bind(2, name);
    st.bind(3, static_cast<int64_t>(due_ms));
    st.exec();
    st.reset();
    return store.changes() > 0;
  });
}

Result<void> insert_automation_run(Store& store, const AutomationRun& r)
{
  return guarded("insert automation run ", r.id, [&]() -> Result<void> {
    auto& st = store.statement(
        "INSERT INTO automation_runs (id, automation, definition, status, origin, event_id, rerun_of, input, context, "
        "next_step, due_ms, lease_until_ms, steps_run, error, created_ms, updated_ms, ended_ms) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, r.id);
    st.bind(2, r.automation);
    st.bind(3, r.definition);
    st.bind(4, r.status);
    st.bind(5, r.origin);
    bind_text_or_null(st, 6, r.event_id);
    bind_text_or_null(st, 7, r.rerun_of);
    bind_text_or_null(st, 8, r.input);
    st.bind(9, r.context.empty() ? std::string("{}") : r.context);
    bind_text_or_null(st, 10, r.next_step);
    st.bind(11, static_cast<int64_t>(r.due_ms));
    bind_optional(st, 12, r.lease_until_ms);
    st.bind(13, r.steps_run);
    bind_text_or_null(st, 14, r.error);
    st.bind(15, static_cast<int64_t>(r.created_ms));
    st.bind(16, static_cast<int64_t>(r.updated_ms));
    bind_optional(st, 17, r.ended_ms);
    st.exec();
    st.reset();
    return {};
  });
}

Result<void> queue_automation_event_run(Store& store, const std::string& automation, const std::string& definition,
                                        const std::string& event_id, std::int64_t now_ms)
{
  return guarded("queue a run of automation ", automation, [&]() -> Result<void> {
    auto& st = store.statement(
        "INSERT INTO automation_runs (id, automation, definition, status, origin, event_id, next_step, due_ms, "
        "created_ms, updated_ms) VALUES (?, ?, ?, 'running', 'event', ?, NULL, ?, ?, ?)");
    st.bind(1, ids::make(ids::k_automation_run));
    st.bind(2, automation);
    st.bind(3, definition);
    st.bind(4, event_id);
    st.bind(5, static_cast<int64_t>(now_ms));
    st.bind(6, static_cast<int64_t>(now_ms));
    st.bind(7, static_cast<int64_t>(now_ms));
    st.exec();
    st.reset();
    return {};
  });
}

Result<AutomationRun> get_automation_run(Store& store, const std::string& id)
{
  return guarded("read automation run ", id, [&]() -> Result<AutomationRun> {
    static const std::string sql =
        std::string("SELECT ") + k_run_columns + ", definition, input FROM automation_runs WHERE id = ?";
    auto& st = store.statement(sql.c_str());
    st.bind(1, id);
    if (!st.step()) {
      st.reset();
      return fail(ErrorKind::not_found, "no automation run " + id);
    }
    auto r = read_run(st);
    r.definition = st.column(16).as_string();
    r.input = st.column(17).as_string();
    st.reset();
    return r;
  });
}

Result<std::vector<AutomationStep>> automation_run_steps(Store& store, const std::string& run_id)
{
  return guarded("read steps of automation run ", run_id,
                 [&]() -> Result<std::vector<AutomationStep>> { return read_steps(store, run_id); });
}

Result<std::vector<AutomationRun>> list_automation_runs(Store& store, const AutomationRunFilter& f)
{
  return guarded("list automation runs", [&]() -> Result<std::vector<AutomationRun>> {
    std::string sql = std::string("SELECT ") + k_run_columns + " FROM automation_runs WHERE 1 = 1";
    if (!f.automation.empty()) sql += " AND automation = ?";
    if (!f.status.empty()) sql += " AND status = ?";
    sql += " ORDER BY seq DESC";
    if (f.limit > 0) sql += " LIMIT ?";
    Statement st(store, sql);
    int i = 1;
    if (!f.automation.empty()) st.bind(i++, f.automation);
    if (!f.status.empty()) st.bind(i++, f.status);
    if (f.limit > 0) st.bind(i++, f.limit);
    std::vector<AutomationRun> out;
    while (st.step()) out.push_back(read_run(st));
    return out;
  });
}

Result<std::vector<ClaimedAutomationRun>> claim_automation_runs(Store& store, std::int64_t now_ms,
                                                                std::int64_t lease_until_ms, int limit,
                                                                std::int64_t owner)
{
  return guarded("claim automation runs", [&]() -> Result<std::vector<ClaimedAutomationRun>> {
    std::vector<ClaimedAutomationRun> claimed;
    {
      static const std::string sql = std::string("SELECT ") + k_run_columns +
                                     ", definition, input FROM automation_runs "
                                     "WHERE status IN ('running','waiting') AND due_ms <= ? "
                                     "AND (lease_until_ms IS NULL OR lease_until_ms < ?) ORDER BY due_ms, seq LIMIT ?";
      auto& st = store.statement(sql.c_str());
      st.bind(1, static_cast<int64_t>(now_ms));
      st.bind(2, static_cast<int64_t>(now_ms));
      st.bind(3, limit);
      while (st.step()) {
        ClaimedAutomationRun c;
        c.run = read_run(st);
        c.run.definition = st.column(16).as_string();
        c.run.input = st.column(17).as_string();
        claimed.push_back(std::move(c));
      }
      st.reset();
    }
    auto& lease = store.statement("UPDATE automation_runs SET lease_until_ms = ?, lease_owner = ? WHERE seq = ?");
    for (auto& c : claimed) {
      lease.bind(1, static_cast<int64_t>(lease_until_ms));
      if (owner) lease.bind(2, static_cast<int64_t>(owner));
      else lease.bind(2);
      lease.bind(3, static_cast<int64_t>(c.run.seq));
      lease.exec();
      lease.reset();
      c.run.lease_until_ms = lease_until_ms;
      c.steps = read_steps(store, c.run.id);
    }
    return claimed;
  });
}

Result<bool> write_run_progress(Store& store, RunProgress& p)
{
  return guarded("record progress of automation run ", p.run_id, [&]() -> Result<bool> {
    auto& up = store.statement(
        "UPDATE automation_runs SET status = ?, input = coalesce(?, input), context = ?, next_step = ?, due_ms = ?, "
        "lease_until_ms = ?, steps_run = ?, error = ?, ended_ms = ?, updated_ms = ? "
        "WHERE id = ? AND status IN ('running','waiting')");  // open runs only: a cancel wins
    up.bind(1, p.status);
    bind_text_or_null(up, 2, p.input);
    up.bind(3, p.context.empty() ? std::string("{}") : p.context);
    bind_text_or_null(up, 4, p.next_step);
    up.bind(5, static_cast<int64_t>(p.due_ms));
    bind_optional(up, 6, p.lease_until_ms);
    up.bind(7, p.steps_run);
    bind_text_or_null(up, 8, p.error);
    bind_optional(up, 9, p.ended_ms);
    up.bind(10, static_cast<int64_t>(p.now_ms));
    up.bind(11, p.run_id);
    up.exec();
    up.reset();
    if (store.changes() == 0) return false;  // cancelled (or removed) meanwhile
    for (auto* s : p.steps) write_step(store, *s);
    return true;
  });
}

Result<bool> cancel_automation_run(Store& store, const std::string& id, std::int64_t now_ms)
{
  bool cancelled = false;
  auto done = write_transaction(store, [&]() -> Result<void> {
    Statement exists(store, "SELECT 1 FROM automation_runs WHERE id = ?");
    exists.bind(1, id);
    if (!exists.step()) return fail(ErrorKind::not_found, "no automation run " + id);
    exists.reset();
    Statement up(store, "UPDATE automation_runs SET status = 'cancelled', next_step = NULL, "
                                     "lease_until_ms = NULL, error = 'cancelled', ended_ms = ?, updated_ms = ? "
                                     "WHERE id = ? AND status IN ('running','waiting')");
    up.bind(1, static_cast<int64_t>(now_ms));
    up.bind(2, static_cast<int64_t>(now_ms));
    up.bind(3, id);
    up.exec();
    cancelled = store.changes() > 0;
    if (!cancelled) return {};
    Statement steps(store, "UPDATE automation_steps SET status = 'cancelled', ended_ms = ? "
                                        "WHERE run_id = ? AND (status = 'running' OR status = 'waiting')");
    steps.bind(1, static_cast<int64_t>(now_ms));
    steps.bind(2, id);
    steps.exec();
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return cancelled;
}

Result<int> release_abandoned_automation_leases(Store& store)
{
  return guarded("release abandoned automation run leases", [&]() -> Result<int> {
    auto& st = store.statement("UPDATE automation_runs SET lease_until_ms = NULL "
                               "WHERE status IN ('running','waiting') AND lease_until_ms IS NOT NULL");
    int freed = st.exec();
    st.reset();
    return freed;
  });
}

Result<int> release_departed_automation_leases(Store& store)
{
  if (store.backend() != Backend::postgresql) return 0;  // see store::release_departed_senders_leases
  return guarded("release automation run leases of departed processes", [&]() -> Result<int> {
    auto& st = store.statement(postgres::k_release_departed_automation_leases);
    st.bind(1, postgres::k_sender_owner_class);
    int freed = st.exec();
    st.reset();
    return freed;
  });
}

Result<std::optional<std::int64_t>> next_automation_due_ms(Store& store)
{
  return guarded("read automation run queue", [&]() -> Result<std::optional<std::int64_t>> {
    auto& st = store.statement("SELECT due_ms FROM automation_runs WHERE status IN ('running','waiting') "
                               "ORDER BY due_ms LIMIT 1");
    std::optional<std::int64_t> due;
    if (st.step()) due = st.column(0).as_int64();
    st.reset();
    return due;
  });
}

Result<int> count_all_open_automation_runs(Store& store)
{
  return guarded("count open automation runs", [&]() -> Result<int> {
    auto& st = store.statement("SELECT count(*) FROM automation_runs WHERE status IN ('running','waiting')");
    st.step();
    int n = st.column(0).as_int();
    st.reset();
    return n;
  });
}

Result<bool> has_due_automation_runs(Store& store, std::int64_t now_ms)
{
  return guarded("read automation run queue", [&]() -> Result<bool> {
    auto& st = store.statement("SELECT 1 FROM automation_runs WHERE status IN ('running','waiting') "
                               "AND due_ms <= ? LIMIT 1");
    st.bind(1, static_cast<int64_t>(now_ms));
    bool any = st.step();
    st.reset();
    return any;
  });
}

Result<void> insert_automation_run_with_steps(Store& store, const AutomationRun& run, std::vector<AutomationStep>& steps)
{
  return write_transaction(store, [&]() -> Result<void> {
    if (auto r = insert_automation_run(store, run); !r) return r;
    return guarded("insert steps of automation run ", run.id, [&]() -> Result<void> {
      for (auto& s : steps) write_step(store, s);
      return {};
    });
  });
}

Result<int> count_open_automation_runs(Store& store, const std::string& automation)
{
  return guarded("count open runs of automation ", automation, [&]() -> Result<int> {
    // Through automation_runs_automation; the status test reads each of its rows.
    auto& st = store.statement(
        "SELECT count(*) FROM automation_runs WHERE automation = ? AND status IN ('running','waiting')");
    st.bind(1, automation);
    st.step();
    int n = st.column(0).as_int();
    st.reset();
    return n;
  });
}

} // namespace centrali::store

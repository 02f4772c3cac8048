#include "centrali/store/triggers.hpp"

#include "centrali/store/columns.hpp"


#include "centrali/store/records.hpp"
#include "centrali/store/string_list.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

using json = nlohmann::json;

constexpr const char* k_columns =
    "name, kind, command, exec, params, timeout_ms, concurrency, cwd, env, paused, events, source, collection, cron, "
    "tz, every_ms, at_ms, next_fire_ms, path, method, response_mode, created_ms, updated_ms, conditions";

Trigger read_trigger(Statement& st)
{
  Trigger t;
  t.name = st.column(0).as_string();
  t.kind = st.column(1).as_string();
  t.command = st.column(2).as_string();
  t.exec = st.column(3).as_int() != 0;
  t.params = parse_json(st.column(4).as_string());
  if (!t.params.is_object()) t.params = json::object();
  t.timeout_ms = st.column(5).as_int64();
  t.concurrency = st.column(6).as_int();
  t.cwd = st.column(7).as_string();
  auto env = parse_json(st.column(8).as_string());
  if (env.is_array())
    for (const auto& kv : env)
      if (kv.is_array() && kv.size() == 2 && kv[0].is_string() && kv[1].is_string())
        t.env.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
  t.paused = st.column(9).as_int() != 0;
  t.events = st.column(10).as_string();
  t.source = st.column(11).as_string();
  t.collection = st.column(12).as_string();
  t.cron = st.column(13).as_string();
  t.tz = st.column(14).as_string();
  t.every_ms = optional_int(st.column(15));
  t.at_ms = optional_int(st.column(16));
  t.next_fire_ms = optional_int(st.column(17));
  t.path = st.column(18).as_string();
  t.method = st.column(19).as_string();
  t.response_mode = st.column(20).as_string();
  t.created_ms = st.column(21).as_int64();
  t.updated_ms = st.column(22).as_int64();
  t.where = string_list_from_text(st.column(23).as_text());
  return t;
}

Result<void> require_changed(Store& store, const std::string& name)
{
  if (store.changes() == 0) return fail(ErrorKind::not_found, "no trigger named '" + name + "'");
  return {};
}

} // namespace

Result<void> add_trigger(Store& store, const Trigger& t)
{
  return write_transaction(store, [&]() -> Result<void> {
    Statement exists(store, "SELECT 1 FROM triggers WHERE name = ?");
    exists.bind(1, t.name);
    if (exists.step())
      return fail(ErrorKind::rejected, "trigger '" + t.name + "' already exists (remove it first with 'centrali triggers rm " +
                                           t.name + "')");
    if (t.kind == "endpoint") {
      // The unique index only sees equal (path, method) pairs; a trigger
      // without a method serves every method, so it clashes with any other.
      Statement same_path(store,
                                  "SELECT name, coalesce(method, '') FROM triggers WHERE kind = 'endpoint' AND path = ?");
      same_path.bind(1, t.path);
      while (same_path.step()) {
        std::string other_method = same_path.column(1).as_string();
        if (other_method.empty() || t.method.empty() || other_method == t.method)
          return fail(ErrorKind::rejected, "endpoint path " + t.path +
                                               (other_method.empty() ? "" : " (" + other_method + ")") +
                                               " is already served by trigger '" + same_path.column(0).as_string() + "'");
      }
    }
    Statement st(store, std::string("INSERT INTO triggers (") + k_columns +
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    json env = json::array();
    for (const auto& [k, v] : t.env) env.push_back({k, v});
    st.bind(1, t.name);
    st.bind(2, t.kind);
    st.bind(3, t.command);
    st.bind(4, t.exec ? 1 : 0);
    st.bind(5, t.params.dump(-1, ' ', false, json::error_handler_t::replace));
    st.bind(6, static_cast<int64_t>(t.timeout_ms));
    st.bind(7, t.concurrency);
    bind_text_or_null(st, 8, t.cwd);
    st.bind(9, env.dump(-1, ' ', false, json::error_handler_t::replace));
    st.bind(10, t.paused ? 1 : 0);
    bind_text_or_null(st, 11, t.events);
    bind_text_or_null(st, 12, t.source);
    bind_text_or_null(st, 13, t.collection);
    bind_text_or_null(st, 14, t.cron);
    bind_text_or_null(st, 15, t.tz);
    bind_optional(st, 16, t.every_ms);
    bind_optional(st, 17, t.at_ms);
    bind_optional(st, 18, t.next_fire_ms);
    bind_text_or_null(st, 19, t.path);
    bind_text_or_null(st, 20, t.method);
    st.bind(21, t.response_mode.empty() ? std::string("output") : t.response_mode);
    st.bind(22, static_cast<int64_t>(t.created_ms));
    st.bind(23, static_cast<int64_t>(t.updated_ms));
    st.bind(24, string_list_text(t.where));
    st.exec();
    return {};
  });
}

Result<void> replace_triggers(Store& store, const std::vector<Trigger>& triggers)
{
  return write_transaction(store, [&]() -> Result<void> {
    std::vector<Trigger> replacements;
    for (const auto& t : triggers) {
      auto current = get_trigger(store, t.name);
      if (!current) return std::unexpected(current.error());
      replacements.push_back(t);
      replacements.back().created_ms = current->created_ms;
      auto gone = guarded("replace trigger " + t.name, [&]() -> Result<void> {
        Statement del(store, "DELETE FROM triggers WHERE name = ?");
        del.bind(1, t.name);
        del.exec();
        return {};
      });
      if (!gone) return gone;
    }
    for (const auto& t : replacements)
      if (auto r = add_trigger(store, t); !r) return r;
    return {};
  });
}

Result<Trigger> get_trigger(Store& store, const std::string& name)
{
  return guarded("read trigger " + name, [&]() -> Result<Trigger> {
    Statement st(store, std::string("SELECT ") + k_columns + " FROM triggers WHERE name = ?");
    st.bind(1, name);
    if (!st.step()) return fail(ErrorKind::not_found, "no trigger named '" + name + "'");
    return read_trigger(st);
  });
}

Result<std::vector<Trigger>> list_triggers(Store& store, const std::string& kind)
{
  return guarded("list triggers", [&]() -> Result<std::vector<Trigger>> {
    std::string sql = std::string("SELECT ") + k_columns + " FROM triggers";
    if (!kind.empty()) sql += " WHERE kind = ?";
    sql += " ORDER BY name";
    Statement st(store, sql);
    if (!kind.empty()) st.bind(1, kind);
    std::vector<Trigger> out;
    while (st.step()) out.push_back(read_trigger(st));
    return out;
  });
}

Result<void> remove_trigger(Store& store, const std::string& name)
{
  return write_transaction(store, [&]() -> Result<void> {
    Statement del(store, "DELETE FROM triggers WHERE name = ?");
    del.bind(1, name);
    del.exec();
    if (auto r = require_changed(store, name); !r) return r;
    Statement cancel(store, "UPDATE runs SET status = 'cancelled', error = 'trigger removed' "
                                         "WHERE status IN ('queued','running') AND status = 'queued' AND trigger = ?");
    cancel.bind(1, name);
    cancel.exec();
    return {};
  });
}

Result<void> pause_trigger(Store& store, const std::string& name)
{
  return guarded("pause trigger " + name, [&]() -> Result<void> {
    Statement st(store, "UPDATE triggers SET paused = 1 WHERE name = ?");
    st.bind(1, name);
    st.exec();
    return require_changed(store, name);
  });
}

Result<void> resume_trigger(Store& store, const std::string& name, std::optional<std::int64_t> next_fire_ms)
{
  return guarded("resume trigger " + name, [&]() -> Result<void> {
    Statement st(store, "UPDATE triggers SET paused = 0, next_fire_ms = CASE WHEN kind = 'schedule' "
                                     "THEN ? ELSE next_fire_ms END WHERE name = ?");
    bind_optional(st, 1, next_fire_ms);
    st.bind(2, name);
    st.exec();
    return require_changed(store, name);
  });
}

Result<void> set_next_fire(Store& store, const std::string& name, std::optional<std::int64_t> next_fire_ms)
{
  return guarded("schedule trigger " + name, [&]() -> Result<void> {
    auto& st = store.statement("UPDATE triggers SET next_fire_ms = ? WHERE name = ?");
    bind_optional(st, 1, next_fire_ms);
    st.bind(2, name);
    st.exec();
    return require_changed(store, name);
  });
}

Result<bool> advance_schedule(Store& store, const std::string& name, std::int64_t due_ms,
                              std::optional<std::int64_t> next_ms)
{
  return guarded("schedule trigger " + name, [&]() -> Result<bool> {
    auto& st = store.statement(
        "UPDATE triggers SET next_fire_ms = ? WHERE name = ? AND next_fire_ms = ? AND paused = 0");
    bind_optional(st, 1, next_ms);
    st.bind(2, name);
    st.bind(3, static_cast<int64_t>(due_ms));
    st.exec();
    return store.changes() > 0;
  });
}

} // namespace centrali::store

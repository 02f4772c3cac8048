#include "centrali/store/webhooks.hpp"

#include <nlohmann/json.hpp>

#include "centrali/store/string_list.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

constexpr const char* k_columns =
    "id, name, url, events, secret, previous_secret, previous_until_ms, headers, retry_schedule, timeout_ms, "
    "insecure, active, disabled_reason, failing_since_ms, disable_after_ms, created_ms, updated_ms, conditions";

constexpr const char* k_get_webhook =
    "SELECT id, name, url, events, secret, previous_secret, previous_until_ms, headers, retry_schedule, timeout_ms, "
    "insecure, active, disabled_reason, failing_since_ms, disable_after_ms, created_ms, updated_ms, conditions "
    "FROM webhooks WHERE id = ?";

Webhook read_webhook(Statement& st)
{
  Webhook w;
  w.id = st.column(0).as_string();
  w.name = st.column(1).as_string();
  w.url = st.column(2).as_string();
  w.events = st.column(3).as_string();
  w.secret = st.column(4).as_string();
  w.previous_secret = st.column(5).as_string();
  if (!st.column(6).is_null()) w.previous_until_ms = st.column(6).as_int64();
  w.headers = headers_from_json(parse_json(st.column(7).as_string()));
  auto schedule = parse_json(st.column(8).as_string());
  if (schedule.is_array())
    for (const auto& v : schedule)
      if (v.is_number_integer()) w.retry_schedule_ms.push_back(v.get<std::int64_t>());
  w.timeout_ms = st.column(9).as_int64();
  w.insecure = st.column(10).as_int() != 0;
  w.active = st.column(11).as_int() != 0;
  w.disabled_reason = st.column(12).as_string();
  if (!st.column(13).is_null()) w.failing_since_ms = st.column(13).as_int64();
  w.disable_after_ms = st.column(14).as_int64();
  w.created_ms = st.column(15).as_int64();
  w.updated_ms = st.column(16).as_int64();
  w.filter = string_list_from_text(st.column(17).as_text());
  return w;
}

void bind_all(Statement& st, const Webhook& w)
{
  st.bind(1, w.id);
  st.bind(2, w.name);
  st.bind(3, w.url);
  st.bind(4, w.events);
  st.bind(5, w.secret);
  if (w.previous_secret.empty()) st.bind(6);
  else st.bind(6, w.previous_secret);
  if (w.previous_until_ms) st.bind(7, static_cast<int64_t>(*w.previous_until_ms));
  else st.bind(7);
  st.bind(8, headers_to_json_text(w.headers));
  st.bind(9, nlohmann::json(w.retry_schedule_ms).dump());
  st.bind(10, static_cast<int64_t>(w.timeout_ms));
  st.bind(11, w.insecure ? 1 : 0);
  st.bind(12, w.active ? 1 : 0);
  if (w.disabled_reason.empty()) st.bind(13);
  else st.bind(13, w.disabled_reason);
  if (w.failing_since_ms) st.bind(14, static_cast<int64_t>(*w.failing_since_ms));
  else st.bind(14);
  st.bind(15, static_cast<int64_t>(w.disable_after_ms));
  st.bind(16, static_cast<int64_t>(w.created_ms));
  st.bind(17, static_cast<int64_t>(w.updated_ms));
  st.bind(18, string_list_text(w.filter));
}

} // namespace

Result<void> insert_webhook(Store& store, const Webhook& w)
{
  return guarded("add webhook", [&]() -> Result<void> {
    Statement st(store, std::string("INSERT INTO webhooks (") + k_columns +
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bind_all(st, w);
    st.exec();
    return {};
  });
}

Result<Webhook> get_webhook(Store& store, const std::string& id)
{
  return guarded("read webhook " + id, [&]() -> Result<Webhook> {
    // Cached: every delivery attempt reads its webhook.
    auto& st = store.statement(k_get_webhook);
    st.bind(1, id);
    if (!st.step()) return fail(ErrorKind::not_found, "no webhook " + id);
    auto webhook = read_webhook(st);
    st.reset();
    return webhook;
  });
}

Result<Webhook> find_webhook(Store& store, const std::string& id_or_name)
{
  auto by_id = get_webhook(store, id_or_name);
  if (by_id || by_id.error().kind != ErrorKind::not_found || id_or_name.empty()) return by_id;
  return guarded("read webhook " + id_or_name, [&]() -> Result<Webhook> {
    Statement st(store, std::string("SELECT ") + k_columns + " FROM webhooks WHERE name = ? LIMIT 2");
    st.bind(1, id_or_name);
    if (!st.step()) return fail(ErrorKind::not_found, "no webhook with the id or name '" + id_or_name + "'");
    auto found = read_webhook(st);
    if (st.step())
      return fail(ErrorKind::usage, "several webhooks are named '" + id_or_name + "'; use the id ('centrali webhooks list')");
    return found;
  });
}

Result<std::optional<std::string>> webhook_named(Store& store, const std::string& name, const std::string& except_id)
{
  return guarded("read webhooks", [&]() -> Result<std::optional<std::string>> {
    Statement st(store, "SELECT id FROM webhooks WHERE name = ? AND id <> ? LIMIT 1");
    st.bind(1, name);
    st.bind(2, except_id);
    if (!st.step()) return std::optional<std::string>{};
    return std::optional<std::string>{st.column(0).as_string()};
  });
}

Result<std::vector<Webhook>> list_webhooks(Store& store)
{
  return guarded("list webhooks", [&]() -> Result<std::vector<Webhook>> {
    Statement st(store, std::string("SELECT ") + k_columns + " FROM webhooks ORDER BY created_ms, id");
    std::vector<Webhook> out;
    while (st.step()) out.push_back(read_webhook(st));
    return out;
  });
}

Result<void> update_webhook(Store& store, const Webhook& w)
{
  return write_transaction(store, [&]() -> Result<void> {
    return guarded("update webhook " + w.id, [&]() -> Result<void> {
      Statement before(store, "SELECT url FROM webhooks WHERE id = ?");
      before.bind(1, w.id);
      if (!before.step()) return fail(ErrorKind::not_found, "no webhook " + w.id);
      const bool url_changed = before.column(0).as_string() != w.url;
      before.reset();
      Statement st(store,
                           "UPDATE webhooks SET id = ?1, name = ?2, url = ?3, events = ?4, secret = ?5, "
                           "previous_secret = ?6, previous_until_ms = ?7, headers = ?8, retry_schedule = ?9, "
                           "timeout_ms = ?10, insecure = ?11, active = ?12, disabled_reason = ?13, "
                           "failing_since_ms = ?14, disable_after_ms = ?15, created_ms = ?16, updated_ms = ?17, conditions = ?18 "
                           "WHERE id = ?1");
      bind_all(st, w);
      st.exec();
      if (url_changed) {
        // Attempts go to the webhook's URL at send time (delivery layer);
        // the pending deliveries' own url follows, so listings and the
        // sender's per-endpoint queues agree. Only pending rows, through the
        // index of pending ones: a webhook's settled history can be millions
        // of rows, and each attempt keeps the URL it was actually sent to.
        Statement retarget(store,
                                   "UPDATE deliveries INDEXED BY deliveries_due SET url = ?1 "
                                   "WHERE status = 'pending' AND webhook_id = ?2 AND kind = 'webhook'");
        retarget.bind(1, w.url);
        retarget.bind(2, w.id);
        retarget.exec();
      }
      return {};
    });
  });
}

Result<void> remove_webhook(Store& store, const std::string& id)
{
  return guarded("remove webhook " + id, [&]() -> Result<void> {
    // Its deliveries stay, still naming it: `deliveries list --webhook ID`
    // keeps finding the log of a removed webhook, and a pending one fails
    // saying its webhook was removed when its turn comes. (Stores before
    // this kept the log but cleared the name.)
    Statement st(store, "DELETE FROM webhooks WHERE id = ?");
    st.bind(1, id);
    if (st.exec() == 0) return fail(ErrorKind::not_found, "no webhook " + id);
    return {};
  });
}

Result<WebhookHealth> note_webhook_health(Store& store, const std::string& id, bool success, std::int64_t now_ms)
{
  return guarded("update webhook ", id, [&]() -> Result<WebhookHealth> {
    WebhookHealth health;
    // Written only when the streak starts or ends: a healthy webhook's row
    // is not rewritten on every delivery.
    if (success) {
      // Read first: a write statement costs a statement journal even when
      // it changes nothing, and almost every success finds no streak.
      auto& streak = store.statement("SELECT failing_since_ms FROM webhooks WHERE id = ?");
      streak.bind_no_copy(1, id);  // `id` outlives the step and reset below
      if (streak.step() && !streak.column(0).is_null()) health.recovered_from = streak.column(0).as_int64();
      streak.reset();
      if (!health.recovered_from) return health;
      auto& clear = store.statement(
          "UPDATE webhooks SET failing_since_ms = NULL WHERE id = ? AND failing_since_ms IS NOT NULL");
      clear.bind(1, id);
      // Another process may have ended the streak since the read: only the one whose write
      // ended it says so.
      if (clear.exec() == 0) health.recovered_from.reset();
      return health;
    }
    auto& start = store.statement("UPDATE webhooks SET failing_since_ms = ? WHERE id = ? AND failing_since_ms IS NULL");
    start.bind(1, static_cast<int64_t>(now_ms));
    start.bind(2, id);
    start.exec();
    auto& read = store.statement("SELECT failing_since_ms FROM webhooks WHERE id = ?");
    read.bind(1, id);
    if (read.step() && !read.column(0).is_null()) health.failing_since = read.column(0).as_int64();
    read.reset();
    return health;
  });
}

Result<std::int64_t> max_webhook_timeout_ms(Store& store)
{
  return guarded("read webhooks", [&]() -> Result<std::int64_t> {
    auto& st = store.statement("SELECT coalesce(max(timeout_ms), 0) FROM webhooks");
    st.step();
    auto longest = st.column(0).as_int64();
    st.reset();
    return longest;
  });
}

std::string skipped_because(const std::string& disabled_reason)
{
  return "webhook disabled" + (disabled_reason.empty() ? std::string() : ": " + disabled_reason);
}

Result<bool> disable_webhook(Store& store, const std::string& id, const std::string& reason, std::int64_t now_ms)
{
  return guarded("disable webhook " + id, [&]() -> Result<bool> {
    auto& st = store.statement(
        "UPDATE webhooks SET active = 0, disabled_reason = ?, updated_ms = ? WHERE id = ? AND active = 1");
    st.bind(1, reason);
    st.bind(2, static_cast<int64_t>(now_ms));
    st.bind(3, id);
    return st.exec() == 1;
  });
}

} // namespace centrali::store

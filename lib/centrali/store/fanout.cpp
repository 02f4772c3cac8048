#include "centrali/store/fanout.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/sqlite/sql.hpp"

#include "centrali/store/string_list.hpp"
#include "centrali/util/ids.hpp"

namespace centrali::store {

Result<bool> has_pending_events(Store& store)
{
  return guarded("read fan-out queue", [&]() -> Result<bool> {
    auto& st = store.statement(
        "SELECT 1 FROM events WHERE seq > (SELECT last_seq FROM fanout_cursor) AND dispatched = 0 LIMIT 1");
    bool pending = st.step();
    st.reset();
    return pending;
  });
}

Result<std::vector<FanOutWebhook>> fan_out_webhooks(Store& store)
{
  return guarded("read webhooks for fan-out", "", [&]() -> Result<std::vector<FanOutWebhook>> {
    auto& st = store.statement(
        "SELECT id, url, events, conditions, active, coalesce(disabled_reason, '') FROM webhooks");
    std::vector<FanOutWebhook> out;
    while (st.step())
      out.push_back({st.column(0).as_string(), st.column(1).as_string(), st.column(2).as_string(),
                     string_list_from_text(st.column(3).as_text()), st.column(4).as_int() != 0,
                     st.column(5).as_string()});
    st.reset();
    return out;
  });
}

Result<std::vector<FanOutTrigger>> fan_out_triggers(Store& store)
{
  return guarded("read triggers for fan-out", "", [&]() -> Result<std::vector<FanOutTrigger>> {
    auto& st = store.statement("SELECT name, coalesce(events, '*'), coalesce(source, ''), coalesce(collection, ''), "
                               "conditions, paused FROM triggers WHERE kind = 'event'");
    std::vector<FanOutTrigger> out;
    while (st.step())
      out.push_back({st.column(0).as_string(), st.column(1).as_string(), st.column(2).as_string(),
                     st.column(3).as_string(), string_list_from_text(st.column(4).as_text()),
                     st.column(5).as_int() != 0});
    st.reset();
    return out;
  });
}

Result<std::vector<FanOutAutomation>> fan_out_automations(Store& store)
{
  return guarded("read automations for fan-out", "", [&]() -> Result<std::vector<FanOutAutomation>> {
    auto& st = store.statement("SELECT name, definition, coalesce(source, ''), coalesce(collection, ''), events "
                               "FROM automations WHERE trigger = 'event' AND paused = 0");
    std::vector<FanOutAutomation> out;
    while (st.step())
      out.push_back({st.column(0).as_string(), st.column(1).as_string(), st.column(2).as_string(),
                     st.column(3).as_string(), string_list_from_text(st.column(4).as_text())});
    st.reset();
    return out;
  });
}

Result<std::vector<PendingEvent>> pending_events(Store& store, int limit, PendingBodies bodies)
{
  return guarded("read fan-out queue", "", [&]() -> Result<std::vector<PendingEvent>> {
    // Bodies are large: read only when something will look at them.
    auto& pending = store.statement(
        bodies == PendingBodies::all
            ? "SELECT seq, id, source, type, body, received_ms "
              "FROM events WHERE seq > (SELECT last_seq FROM fanout_cursor) AND dispatched = 0 ORDER BY seq LIMIT ?"
            : "SELECT seq, id, source, type, CASE WHEN type LIKE 'record\\_%' ESCAPE '\\' THEN body ELSE NULL END, "
              "received_ms "
              "FROM events WHERE seq > (SELECT last_seq FROM fanout_cursor) AND dispatched = 0 ORDER BY seq LIMIT ?");
    pending.bind(1, limit);
    std::vector<PendingEvent> rows;
    while (pending.step()) {
      auto body = pending.column(4);
      rows.push_back({pending.column(0).as_int64(), pending.column(1).as_string(), pending.column(2).as_string(),
                      pending.column(3).as_string(),
                      body.is_null() ? std::string() :
                                      body.as_string(),
                      pending.column(5).as_int64()});
    }
    pending.reset();
    return rows;
  });
}

Result<void> queue_event_run(Store& store, const std::string& trigger, const std::string& event_id, std::int64_t now_ms)
{
  return guarded("queue a run of ", trigger, [&]() -> Result<void> {
    auto& ins = store.statement("INSERT INTO runs (id, trigger, status, origin, event_id, queued_ms) "
                                "VALUES (?, ?, 'queued', 'event', ?, ?)");
    ins.bind(1, ids::make(ids::k_run));
    ins.bind(2, trigger);
    ins.bind(3, event_id);
    ins.bind(4, static_cast<int64_t>(now_ms));
    ins.exec();
    return {};
  });
}

Result<void> advance_fan_out_cursor(Store& store, const std::vector<PendingEvent>& read, int limit)
{
  return guarded("advance fan-out cursor", "", [&]() -> Result<void> {
    // Everything up to the last row read is handled (the rows were read in
    // seq order, in this transaction). A short read reached the end, so the
    // cursor also passes the events never meant for fan-out (rejections,
    // imports) and the next look starts after them.
    if (static_cast<int>(read.size()) < limit) {
      auto& done = store.statement(sqlite::k_cursor_to_the_end, postgres::k_cursor_to_the_end);
      done.exec();
    } else {
      auto& done = store.statement("UPDATE fanout_cursor SET last_seq = ? WHERE id = 1");
      done.bind(1, static_cast<int64_t>(read.back().seq));
      done.exec();
    }
    return {};
  });
}

} // namespace centrali::store

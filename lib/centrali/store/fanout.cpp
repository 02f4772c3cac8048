#include "centrali/store/fanout.hpp"

#include <algorithm>
#include <memory>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/glob.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

struct WebhookTarget {
  std::string id, url, globs;
  bool active = true;
  std::string skip_reason;  // disabled: why its deliveries are skipped
};
struct TriggerTarget {
  std::string name, globs, source, collection;
};

// Record events carry their collection in the body; read it only when a
// trigger filters on it.
std::string collection_of(const std::string& body)
{
  auto j = parse_json(body);
  if (j.is_object() && j.contains("collection") && j["collection"].is_string()) return j["collection"];
  return {};
}

} // namespace

Result<bool> has_pending_events(Store& store)
{
  return guarded("read fan-out queue", [&]() -> Result<bool> {
    auto& st = store.statement(
        "SELECT 1 FROM events WHERE seq > (SELECT last_seq FROM fanout_cursor) AND dispatched = 0 LIMIT 1");
    bool pending = st.executeStep();
    st.reset();
    return pending;
  });
}

Result<FanOutResult> fan_out_pending(Store& store, int limit, std::int64_t now_ms, const FanOutLease* lease)
{
  return guarded("fan out events", [&]() -> Result<FanOutResult> {
    FanOutResult result;
    std::vector<WebhookTarget> webhooks;
    {
      // Disabled webhooks too: what they would have received is recorded
      // as skipped, so `webhooks recover` can send it once they are back.
      auto& st = store.statement("SELECT id, url, events, active, coalesce(disabled_reason, '') FROM webhooks");
      while (st.executeStep()) {
        const bool active = st.getColumn(3).getInt() != 0;
        const std::string reason = st.getColumn(4).getString();
        webhooks.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(), st.getColumn(2).getString(),
                            active, active ? std::string() : skipped_because(reason)});
      }
    }
    std::vector<TriggerTarget> triggers;
    {
      auto& st = store.statement(
          "SELECT name, coalesce(events, '*'), coalesce(source, ''), coalesce(collection, '') FROM triggers "
          "WHERE kind = 'event' AND paused = 0");
      while (st.executeStep())
        triggers.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(), st.getColumn(2).getString(),
                            st.getColumn(3).getString()});
    }
    // Bodies are read for record events (a trigger may filter on their
    // collection) and, when deliveries go to a worker with the payload they
    // send, for every event: the row is being read here anyway. Not when no
    // webhook could take one (a listener that only stores and triggers).
    const bool any_active = std::any_of(webhooks.begin(), webhooks.end(), [](const auto& w) { return w.active; });
    std::size_t payload_budget = lease && any_active ? lease->payload_budget : 0;
    auto& pending = store.statement(
        payload_budget > 0
            ? "SELECT seq, id, source, type, body, received_ms "
              "FROM events WHERE seq > (SELECT last_seq FROM fanout_cursor) AND dispatched = 0 ORDER BY seq LIMIT ?"
            : "SELECT seq, id, source, type, CASE WHEN type LIKE 'record\\_%' ESCAPE '\\' THEN body ELSE NULL END, "
              "received_ms "
              "FROM events WHERE seq > (SELECT last_seq FROM fanout_cursor) AND dispatched = 0 ORDER BY seq LIMIT ?");
    pending.bind(1, limit);
    struct Row {
      std::int64_t seq;
      std::string id, source, type, body;
      std::int64_t received_ms;
    };
    std::vector<Row> rows;
    while (pending.executeStep()) {
      auto body = pending.getColumn(4);
      rows.push_back({pending.getColumn(0).getInt64(), pending.getColumn(1).getString(), pending.getColumn(2).getString(),
                      pending.getColumn(3).getString(),
                      body.isNull() ? std::string() :
                                      std::string(static_cast<const char*>(body.getBlob()),
                                                  static_cast<std::size_t>(body.getBytes())),
                      pending.getColumn(5).getInt64()});
    }
    pending.reset();

    for (auto& row : rows) {
      // What get_event_payload would read, shared by the event's leased
      // deliveries; made for the first of them while the budget lasts.
      std::shared_ptr<Event> payload;
      bool payload_made = false;
      for (const auto& w : webhooks) {
        if (!glob_match_any(w.globs, row.type)) continue;
        Delivery d;
        d.id = ids::make(ids::k_delivery);
        d.kind = "webhook";
        d.event_id = row.id;
        d.webhook_id = w.id;
        d.event_type = row.type;
        d.url = w.url;
        d.created_ms = d.updated_ms = now_ms;
        if (!w.active) {
          d.status = "skipped";
          d.last_error = w.skip_reason;
          if (auto r = insert_delivery(store, d); !r) return std::unexpected(r.error());
          ++result.skipped;
          continue;
        }
        d.status = "pending";
        d.next_attempt_ms = now_ms;
        const bool leased = lease && lease->accept(w.url);
        if (leased) d.lease_until_ms = lease->lease_until_ms;
        if (auto r = insert_delivery(store, d); !r) return std::unexpected(r.error());
        ++result.deliveries;
        if (leased) {
          d.seq = store.db().getLastInsertRowid();
          if (!payload_made) {
            payload_made = true;
            if (row.body.size() <= payload_budget) {
              payload_budget -= row.body.size();
              payload = std::make_shared<Event>();
              payload->id = row.id;
              payload->type = row.type;
              payload->received_ms = row.received_ms;
              // Record events' triggers may still need the body below.
              payload->body = triggers.empty() ? std::move(row.body) : row.body;
            }
          }
          result.leased.push_back({std::move(d), payload});
        }
      }
      std::string collection;
      bool collection_read = false;
      for (const auto& t : triggers) {
        if (!glob_match_any(t.globs, row.type)) continue;
        if (!t.source.empty() && t.source != row.source) continue;
        if (!t.collection.empty()) {
          // A collection names records of this store: an inbound webhook
          // whose body says {"type":"record_created","collection":…} is
          // not a record change.
          if (row.source != "local") continue;
          if (!collection_read) {
            collection = collection_of(row.body);
            collection_read = true;
          }
          if (collection != t.collection) continue;
        }
        auto& ins = store.statement("INSERT INTO runs (id, trigger, status, origin, event_id, queued_ms) "
                                    "VALUES (?, ?, 'queued', 'event', ?, ?)");
        ins.bind(1, ids::make(ids::k_run));
        ins.bind(2, t.name);
        ins.bind(3, row.id);
        ins.bind(4, static_cast<int64_t>(now_ms));
        ins.exec();
        ++result.runs;
      }
      ++result.events;
    }
    // Everything up to the last row read is handled (the rows were read in
    // seq order, in this transaction). A short read reached the end, so the
    // cursor also passes the events never meant for fan-out (rejections,
    // imports) and the next look starts after them.
    if (static_cast<int>(rows.size()) < limit) {
      auto& done = store.statement(
          "UPDATE fanout_cursor SET last_seq = (SELECT coalesce(max(seq), 0) FROM events) "
          "WHERE id = 1 AND last_seq <> (SELECT coalesce(max(seq), 0) FROM events)");  // idle: write nothing
      done.exec();
    } else {
      auto& done = store.statement("UPDATE fanout_cursor SET last_seq = ? WHERE id = 1");
      done.bind(1, static_cast<int64_t>(rows.back().seq));
      done.exec();
    }
    return result;
  });
}

} // namespace centrali::store

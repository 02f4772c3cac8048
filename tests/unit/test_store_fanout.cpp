// The fan-out queue (store/fanout.hpp): which events wait, in which order,
// with which bodies; the cursor that makes each of them read once; what
// fan-out reads of webhooks and triggers; and the delivery queue's lease,
// which keeps a delivery from being in flight twice when several writers
// (a listener and a `dispatch`) claim from one store.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

using Ids = std::vector<std::string>;

void add_event(store::Store& s, const std::string& id, const std::string& type, std::string body = "{}",
               const std::string& status = "accepted", bool dispatch = true, const std::string& source = "src")
{
  store::Event e;
  e.id = id;
  e.source = source;
  e.type = type;
  e.status = status;
  e.body = std::move(body);
  e.received_ms = 42;
  REQUIRE(store::insert_event(s, e, dispatch));
}

std::vector<store::PendingEvent> pending(store::Store& s, int limit, store::PendingBodies bodies)
{
  auto rows = store::pending_events(s, limit, bodies);
  REQUIRE(rows);
  return std::move(*rows);
}

Ids ids_of(const std::vector<store::PendingEvent>& rows)
{
  Ids out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

std::int64_t cursor(store::Store& s)
{
  return s.query_int64("SELECT last_seq FROM fanout_cursor WHERE id = 1");
}

bool has_pending(store::Store& s)
{
  auto r = store::has_pending_events(s);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("store::pending_events lists accepted events waiting for fan-out, oldest first, with the bodies asked for",
          "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  const std::string binary("\x00\xfe\xff{not json", 12);
  add_event(s, "evt_1", "order.created", binary);
  add_event(s, "evt_refused", "order.created", "{}", "rejected");
  add_event(s, "evt_imported", "order.created", "{}", "accepted", false);
  add_event(s, "evt_record", "record_created", R"({"collection":"orders"})", "accepted", true, "local");
  add_event(s, "evt_lookalike", "recordXcreated", "looks like a record event");

  auto records = pending(s, 10, store::PendingBodies::records);
  REQUIRE(ids_of(records) == Ids{"evt_1", "evt_record", "evt_lookalike"});
  // Only record events' bodies are read (a trigger may filter on their
  // collection); `_` in record_ is not a wildcard.
  CHECK(records[0].body.empty());
  CHECK(records[1].body == R"({"collection":"orders"})");
  CHECK(records[1].source == "local");
  CHECK(records[1].type == "record_created");
  CHECK(records[2].body.empty());
  CHECK(records[0].received_ms == 42);
  CHECK(records[0].seq < records[1].seq);

  auto all = pending(s, 10, store::PendingBodies::all);
  REQUIRE(all.size() == 3);
  CHECK(all[0].body == binary);  // byte for byte
  CHECK(all[2].body == "looks like a record event");

  CHECK(ids_of(pending(s, 1, store::PendingBodies::records)) == Ids{"evt_1"});
}

TEST_CASE("store::advance_fan_out_cursor: a full page moves past what was read, a short one past every event",
          "[store][sqlite]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  CHECK_FALSE(has_pending(s));
  for (int i = 1; i <= 5; ++i) add_event(s, "evt_" + std::to_string(i), "t");
  add_event(s, "evt_refused", "t", "{}", "rejected");
  CHECK(has_pending(s));

  auto page = pending(s, 2, store::PendingBodies::records);
  REQUIRE(ids_of(page) == Ids{"evt_1", "evt_2"});
  REQUIRE(store::advance_fan_out_cursor(s, page, 2));
  CHECK(cursor(s) == page.back().seq);
  // Never read twice, never skipped.
  page = pending(s, 3, store::PendingBodies::records);
  REQUIRE(ids_of(page) == Ids{"evt_3", "evt_4", "evt_5"});
  REQUIRE(store::advance_fan_out_cursor(s, page, 3));
  CHECK(cursor(s) == page.back().seq);
  CHECK_FALSE(has_pending(s));  // only the refusal is left behind it, and it never waits

  // A short read reached the end: the cursor passes the refusal too.
  page = pending(s, 3, store::PendingBodies::records);
  REQUIRE(page.empty());
  REQUIRE(store::advance_fan_out_cursor(s, page, 3));
  const auto max_seq = s.query_int64("SELECT max(seq) FROM events");
  CHECK(cursor(s) == max_seq);

  // An idle queue writes nothing (it is looked at every poll).
  const auto changes = s.query_int64("SELECT total_changes()");
  REQUIRE(store::advance_fan_out_cursor(s, pending(s, 3, store::PendingBodies::records), 3));
  CHECK(s.query_int64("SELECT total_changes()") == changes);

  // A new event waits behind the cursor as the first did.
  add_event(s, "evt_6", "t");
  CHECK(has_pending(s));
  CHECK(ids_of(pending(s, 10, store::PendingBodies::records)) == Ids{"evt_6"});
}

TEST_CASE("store::fan_out_webhooks reads every webhook, a disabled one with its reason, and fan_out_triggers only event "
          "triggers",
          "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  for (const char* id : {"whk_on", "whk_off"}) {
    store::Webhook w;
    w.id = id;
    w.name = id;
    w.url = std::string("http://127.0.0.1:9/") + id;
    w.events = "order.*,record_created";
    w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    if (std::string(id) == "whk_on") w.filter = {"data.amount>=100", "data.currency=eur"};
    REQUIRE(store::insert_webhook(s, w));
  }
  auto disabled = store::disable_webhook(s, "whk_off", "HTTP 410 at 2026-01-01T00:00:00Z", 5);
  REQUIRE(disabled);
  CHECK(*disabled);

  auto webhooks = store::fan_out_webhooks(s);
  REQUIRE(webhooks);
  REQUIRE(webhooks->size() == 2);
  std::map<std::string, store::FanOutWebhook> by_id;
  for (auto& w : *webhooks) by_id[w.id] = w;
  CHECK(by_id["whk_on"].active);
  CHECK(by_id["whk_on"].url == "http://127.0.0.1:9/whk_on");
  CHECK(by_id["whk_on"].events == "order.*,record_created");
  CHECK(by_id["whk_on"].filter == Ids{"data.amount>=100", "data.currency=eur"});
  CHECK_FALSE(by_id["whk_off"].active);
  CHECK(by_id["whk_off"].disabled_reason == "HTTP 410 at 2026-01-01T00:00:00Z");
  CHECK(by_id["whk_off"].filter.empty());

  auto trigger = [&](const std::string& name, const std::string& kind, const std::string& events) {
    store::Trigger t;
    t.name = name;
    t.kind = kind;
    t.command = "true";
    t.events = events;
    if (kind == "schedule") {
      t.every_ms = 60'000;
      t.next_fire_ms = 60'000;
    }
    if (name == "scoped") {
      t.source = "stripe";
      t.collection = "orders";
      t.where = {"data.ok=true"};
    }
    REQUIRE(store::add_trigger(s, t));
  };
  trigger("any", "event", "");
  trigger("scoped", "event", "order.*");
  trigger("later", "event", "x");
  trigger("ticker", "schedule", "");
  REQUIRE(store::pause_trigger(s, "later"));
  auto triggers = store::fan_out_triggers(s);
  REQUIRE(triggers);
  std::map<std::string, store::FanOutTrigger> by_name;
  for (auto& t : *triggers) by_name[t.name] = t;
  REQUIRE(by_name.size() == 3);  // not the schedule
  CHECK(by_name.count("ticker") == 0);
  CHECK(by_name["any"].events == "*");  // no globs: every event
  CHECK(by_name["any"].source.empty());
  CHECK(by_name["scoped"].events == "order.*");
  CHECK(by_name["scoped"].source == "stripe");
  CHECK(by_name["scoped"].collection == "orders");
  CHECK(by_name["scoped"].where == Ids{"data.ok=true"});
  CHECK(by_name["later"].paused);
  CHECK_FALSE(by_name["any"].paused);
}

TEST_CASE("store::queue_event_run queues one run of the trigger for the event", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_event(s, "evt_1", "t");
  REQUIRE(store::queue_event_run(s, "on-t", "evt_1", 777));
  REQUIRE(store::queue_event_run(s, "on-t", "evt_1", 778));  // a second run, with an id of its own
  store::Statement st(s, "SELECT id, trigger, status, origin, event_id, queued_ms FROM runs ORDER BY seq");
  REQUIRE(st.step());
  const auto first_id = st.column(0).as_string();
  CHECK(first_id.starts_with("run_"));
  CHECK(st.column(1).as_string() == "on-t");
  CHECK(st.column(2).as_string() == "queued");
  CHECK(st.column(3).as_string() == "event");
  CHECK(st.column(4).as_string() == "evt_1");
  CHECK(st.column(5).as_int64() == 777);
  REQUIRE(st.step());
  CHECK(st.column(0).as_string() != first_id);
  CHECK_FALSE(st.step());
}

TEST_CASE("store: two writers claiming from one store never hold the same delivery at once", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  constexpr int k_deliveries = 200;
  REQUIRE(store::write_transaction(s, [&]() -> Result<void> {
    for (int i = 0; i < k_deliveries; ++i) {
      const auto n = std::to_string(i);
      add_event(s, "evt_" + n, "t", "{}", "accepted", false);
      store::Delivery d;
      d.id = "dlv_" + n;
      d.kind = "forward";
      d.event_id = "evt_" + n;
      d.event_type = "t";
      d.url = "http://127.0.0.1:9/app";
      d.status = "pending";
      d.next_attempt_ms = i;
      if (auto r = store::insert_delivery(s, d); !r) return r;
    }
    return {};
  }));

  // Two processes' senders, each on its own connection, claim a few at a
  // time inside their writer's transaction, as the delivery worker does.
  std::mutex mutex;
  std::map<std::string, int> claims;
  std::vector<std::string> errors;
  auto sender = [&] {
    auto own = store::Store::open(unit::store_location(dir));
    if (!own) {
      std::lock_guard lock(mutex);
      errors.push_back(own.error().message);
      return;
    }
    for (int round = 0; round < 10 * k_deliveries; ++round) {
      std::vector<store::Delivery> got;
      auto r = store::write_transaction(*own, [&]() -> Result<void> {
        auto claimed = store::claim_due_deliveries(*own, 1'000'000, 3, 60'000);
        if (!claimed) return std::unexpected(claimed.error());
        got = std::move(*claimed);
        return {};
      });
      std::lock_guard lock(mutex);
      if (!r) {
        errors.push_back(r.error().message);
        return;
      }
      if (got.empty()) return;
      for (const auto& d : got) ++claims[d.id];
    }
  };
  std::thread a(sender), b(sender);
  a.join();
  b.join();
  INFO((errors.empty() ? std::string() : errors.front()));
  CHECK(errors.empty());
  CHECK(claims.size() == static_cast<std::size_t>(k_deliveries));
  for (const auto& [id, times] : claims) {
    INFO(id);
    CHECK(times == 1);
  }
  // Until the leases end, nobody takes them again; then anyone may.
  auto during = store::claim_due_deliveries(s, 1'000'000, k_deliveries, 60'000);
  REQUIRE(during);
  CHECK(during->empty());
  auto after = store::claim_due_deliveries(s, 1'060'000, 2 * k_deliveries, 60'000);
  REQUIRE(after);
  CHECK(after->size() == static_cast<std::size_t>(k_deliveries));
}

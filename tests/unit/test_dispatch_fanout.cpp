// Fan-out with content conditions: a webhook's filter and an event
// trigger's where decide, with the type globs, which events become
// deliveries and runs; the rule (dispatch/routing.hpp) is also what
// `events show --explain` reports.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include "centrali/dispatch/fanout.hpp"
#include "centrali/dispatch/routing.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

void add_event(store::Store& s, const std::string& id, const std::string& type, std::string body)
{
  store::Event e;
  e.id = id;
  e.source = "stripe";
  e.type = type;
  e.status = "accepted";
  e.body = std::move(body);
  e.received_ms = 1;
  REQUIRE(store::insert_event(s, e, true));
}

void add_webhook(store::Store& s, const std::string& id, std::vector<std::string> filter)
{
  store::Webhook w;
  w.id = id;
  w.url = "http://127.0.0.1:9/" + id;
  w.events = "invoice.*";
  w.filter = std::move(filter);
  w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  w.retry_schedule_ms = {};
  REQUIRE(store::insert_webhook(s, w));
}

std::string column(store::Store& s, const std::string& sql)
{
  store::Statement st(s, sql);
  return st.step() ? st.column(0).as_string() : std::string();
}

} // namespace

TEST_CASE("dispatch::fan_out_pending makes deliveries and runs only for events that meet their conditions", "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_all", {});
  add_webhook(s, "whk_big", {"data.object.amount>=1000"});
  add_webhook(s, "whk_cus", {"data.object.customer=cus_1", "data.object.refund !exists"});
  store::Trigger t;
  t.name = "refunds";
  t.kind = "event";
  t.command = "true";
  t.events = "*";
  t.where = {"data.object.refund exists"};
  REQUIRE(store::add_trigger(s, t));
  add_event(s, "evt_small", "invoice.paid", R"({"data":{"object":{"customer":"cus_1","amount":5}}})");
  add_event(s, "evt_big", "invoice.paid", R"({"data":{"object":{"customer":"cus_2","amount":5000}}})");
  add_event(s, "evt_refund", "invoice.paid", R"({"data":{"object":{"customer":"cus_1","amount":5000,"refund":{}}}})");
  add_event(s, "evt_text", "invoice.paid", "amount=5000");
  // Leased with room for every body: the body goes with the first delivery,
  // and the conditions of the webhooks and triggers after it still see it.
  store::FanOutLease lease{60'000, [](const std::string&) { return true; }, 1 << 20};
  auto out = dispatch::fan_out_pending(s, 100, 1'000, &lease);
  REQUIRE(out);
  CHECK(out->events == 4);
  auto got = [&](const std::string& webhook) {
    return column(s, "SELECT coalesce(group_concat(event_id, ','), '') FROM (SELECT event_id FROM deliveries "
                     "WHERE webhook_id = '" + webhook + "' ORDER BY seq)");
  };
  CHECK(got("whk_all") == "evt_small,evt_big,evt_refund,evt_text");
  CHECK(got("whk_big") == "evt_big,evt_refund");
  CHECK(got("whk_cus") == "evt_small");
  CHECK(column(s, "SELECT group_concat(event_id) FROM runs") == "evt_refund");
  CHECK(out->deliveries == 7);
  CHECK(out->runs == 1);
}

TEST_CASE("dispatch::route_event: a stored condition this binary cannot read takes nothing, and says why", "[dispatch]")
{
  auto route = dispatch::webhook_route(true, "*", {"data.amount>>5"});
  const dispatch::EventFacts event("invoice.paid", "stripe", R"({"data":{"amount":10}})");
  auto verdict = dispatch::route_event(route, event);
  CHECK(verdict.miss == dispatch::Miss::unreadable);
  CHECK_THAT(dispatch::describe(verdict, route, event, false), Catch::Contains("'>5' is not a value"));
  auto failing = dispatch::webhook_route(true, "invoice.*", {"data.amount>=100"});
  auto v = dispatch::route_event(failing, event);
  CHECK(v.miss == dispatch::Miss::condition);
  CHECK(dispatch::describe(v, failing, event, false) == "data.amount>=100 does not hold (data.amount is 10)");
  auto orders = dispatch::webhook_route(true, "order.*", {});
  CHECK(dispatch::describe(dispatch::route_event(orders, event), orders, event, false) ==
        "type invoice.paid does not match 'order.*'");
  CHECK(dispatch::route_event(dispatch::webhook_route(false, "*", {}), event).miss == dispatch::Miss::disabled);
}

TEST_CASE("dispatch::fan_out_pending with nothing to route to passes every event, and routes those after a webhook comes",
          "[dispatch]")
{
  // A listener that only stores (and forwards, at ingestion) has no webhook,
  // trigger or automation: its fan-out moves past what arrived, reading none of it.
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  for (int i = 0; i < 5; ++i) add_event(s, "evt_before_" + std::to_string(i), "invoice.paid", "{}");
  auto out = dispatch::fan_out_pending(s, 2, 1'000);
  REQUIRE(out);
  CHECK(out->deliveries == 0);
  auto pending = store::has_pending_events(s);
  REQUIRE(pending);
  CHECK_FALSE(*pending);  // all five passed in one pass, past its page of two

  add_webhook(s, "whk_all", {});
  add_event(s, "evt_after", "invoice.paid", "{}");
  out = dispatch::fan_out_pending(s, 2, 1'000);
  REQUIRE(out);
  CHECK(out->events == 1);
  CHECK(column(s, "SELECT group_concat(event_id) FROM deliveries") == "evt_after");
}

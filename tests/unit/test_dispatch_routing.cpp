// The one routing rule (dispatch/routing.hpp) that fan-out and `events show
// --explain` share: type globs (operational centrali.* events only for a
// glob that names them), a trigger's source and collection, and why a
// route did not take an event.
#include <catch2/catch.hpp>

#include "centrali/dispatch/routing.hpp"

using namespace centrali;
using namespace centrali::dispatch;

TEST_CASE("dispatch::types_match: '*' and other globs take application events, centrali.* only when named",
          "[dispatch]")
{
  CHECK(types_match("*", "order.created"));
  CHECK(types_match("order.*", "order.created"));
  CHECK(types_match("invoice.*, order.*", "order.created"));
  CHECK_FALSE(types_match("invoice.*", "order.created"));
  CHECK_FALSE(types_match("", "order.created"));

  CHECK_FALSE(types_match("*", "centrali.webhook.disabled"));
  CHECK_FALSE(types_match("*.disabled", "centrali.webhook.disabled"));
  CHECK_FALSE(types_match("?entrali.*", "centrali.webhook.disabled"));
  CHECK(types_match("centrali.*", "centrali.webhook.disabled"));
  CHECK(types_match("centrali.webhook.disabled", "centrali.webhook.disabled"));
  CHECK(types_match("order.*, centrali.delivery.*", "centrali.delivery.exhausted"));
  CHECK_FALSE(types_match("centrali.delivery.*", "centrali.webhook.recovered"));
  // Only the prefix with its dot names them: an application's own
  // "centralized.*" type is an ordinary one.
  CHECK(types_match("*", "centralized.sync"));
  CHECK(types_match("*", "centrali"));
}

TEST_CASE("dispatch::route_event: a trigger's source and collection narrow what it takes", "[dispatch]")
{
  const EventFacts stripe("invoice.paid", "stripe", R"({"collection":"orders"})");
  const EventFacts record("record_created", "local", R"({"collection":"orders","id":"r1"})");
  const EventFacts other_record("record_created", "local", R"({"collection":"users"})");
  const EventFacts bare_record("record_created", "local", R"({"id":"r1"})");

  auto from_stripe = trigger_route(false, "*", "stripe", "", {});
  CHECK(route_event(from_stripe, stripe).taken());
  CHECK(route_event(from_stripe, record).miss == Miss::source);

  auto orders = trigger_route(false, "record_*", "", "orders", {});
  CHECK(route_event(orders, record).taken());
  CHECK(route_event(orders, other_record).miss == Miss::collection);
  CHECK(route_event(orders, bare_record).miss == Miss::collection);
  CHECK(describe(route_event(orders, other_record), orders, other_record, true) == "collection users is not orders");
  CHECK(describe(route_event(orders, bare_record), orders, bare_record, true) ==
        "the event has no collection, not orders");
  // A body from the network that looks like a record change is not one.
  const EventFacts posing("record_created", "github", R"({"collection":"orders"})");
  CHECK(route_event(orders, posing).miss == Miss::not_local);

  auto paused = trigger_route(true, "*", "", "", {});
  CHECK(route_event(paused, stripe).miss == Miss::disabled);
  CHECK(describe(route_event(paused, stripe), paused, stripe, true) == "the trigger is paused");
  CHECK(describe(route_event(from_stripe, stripe), from_stripe, stripe, true) == "matches");
}

TEST_CASE("dispatch::route_event: a condition on a body that is not JSON does not hold, and says so", "[dispatch]")
{
  const EventFacts text("order.created", "app", "amount=5000");
  auto big = webhook_route(true, "*", {"amount>=100"});
  auto v = route_event(big, text);
  CHECK(v.miss == Miss::condition);
  CHECK(v.condition == 0);
  CHECK_THAT(describe(v, big, text, false), Catch::Contains("the body is not JSON"));
  auto two = webhook_route(true, "*", {"a=1", "b=2"});
  const EventFacts half("t", "app", R"({"a":1,"b":3})");
  auto second = route_event(two, half);
  CHECK(second.miss == Miss::condition);
  CHECK(second.condition == 1);  // which one failed
  CHECK_THAT(describe(second, two, half, false), Catch::Contains("b is 3"));
  CHECK(route_event(two, EventFacts("t", "app", R"({"a":1,"b":2})")).taken());
}

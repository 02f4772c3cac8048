// How long a delivery stays leased: what a crashed sender's deliveries wait
// before another process sends them (README, "The queue is the store").
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "centrali/delivery/worker.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/time.hpp"
#include "pending_delivery.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

void add_event(store::Store& s, const std::string& id)
{
  store::Event e;
  e.id = id;
  e.source = "src";
  e.type = "t";
  e.status = "accepted";
  e.method = "POST";
  e.path = "/ingest/src";
  e.received_ms = 1;
  REQUIRE(store::insert_event(s, e, false));
}

// A pending delivery of kind `kind` ("forward" or "webhook"), due at 1 ms.
void add_delivery(store::Store& s, const std::string& id, const std::string& kind, const std::string& webhook_id = "")
{
  add_event(s, "evt_" + id);
  auto d = testing::pending_delivery(id, 1, kind);
  d.webhook_id = webhook_id;
  REQUIRE(store::insert_delivery(s, d));
}

store::Webhook webhook_with_timeout(std::int64_t timeout_ms)
{
  store::Webhook w;
  w.id = "whk_two_seconds";
  w.url = "http://127.0.0.1:9/hook";
  w.events = "*";
  w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  w.timeout_ms = timeout_ms;
  return w;
}

} // namespace

TEST_CASE("delivery: the forward timeout counts toward a lease only when the lease covers a forward", "[delivery]")
{
  delivery::WorkerOptions o;  // 4 rounds, 30 s forwards, 60 s slack
  CHECK(delivery::lease_length_ms(o, 2'000, delivery::LeaseCovers::webhooks) == 4 * 2'000 + 60'000);
  CHECK(delivery::lease_length_ms(o, 2'000, delivery::LeaseCovers::forwards_too) == 4 * 30'000 + 60'000);
  CHECK(delivery::lease_length_ms(o, 45'000, delivery::LeaseCovers::forwards_too) == 4 * 45'000 + 60'000);
  CHECK(delivery::lease_length_ms(o, 0, delivery::LeaseCovers::webhooks) == 60'000);
}

TEST_CASE("delivery: a 2 s webhook's fresh deliveries are leased for 68 s, not 180 s", "[delivery]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  REQUIRE(store::insert_webhook(s, webhook_with_timeout(2'000)));
  auto writer_store = store::Store::open(unit::store_location(dir));
  REQUIRE(writer_store);
  store::GroupCommitter writer(std::move(*writer_store));
  delivery::Worker worker(writer, unit::store_location(dir), {}, {});
  // The fan-out's hand-over leases what it makes (webhook deliveries) to
  // the worker, as a claim would.
  auto hand_off = worker.hand_off();
  const auto now = timeutil::now_ms();
  auto lease = hand_off.lease(s, now);
  hand_off.take({});
  CHECK(lease.lease_until_ms - now == 4 * 2'000 + 60'000);
}

TEST_CASE("store: a claim leases for the forward timeout only when it takes a forward", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  REQUIRE(store::insert_webhook(s, webhook_with_timeout(2'000)));
  const store::ClaimLease lease{68'000, 180'000};

  add_delivery(s, "dlv_webhook", "webhook", "whk_two_seconds");
  auto only_webhooks = store::claim_due_deliveries(s, 1'000, 10, lease);
  REQUIRE(only_webhooks);
  REQUIRE(only_webhooks->size() == 1);
  CHECK(only_webhooks->front().lease_until_ms == 1'000 + 68'000);

  add_delivery(s, "dlv_forward", "forward");
  add_delivery(s, "dlv_webhook_2", "webhook", "whk_two_seconds");
  auto with_forward = store::claim_due_deliveries(s, 2'000, 10, lease);
  REQUIRE(with_forward);
  REQUIRE(with_forward->size() == 2);
  for (const auto& d : *with_forward) CHECK(d.lease_until_ms == 2'000 + 180'000);
  // What the store holds agrees with what the claim returned.
  auto stored = store::get_delivery(s, "dlv_forward");
  REQUIRE(stored);
  CHECK(stored->next_attempt_ms == 2'000 + 180'000);
}

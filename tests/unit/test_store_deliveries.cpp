#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/dispatch/fanout.hpp"
#include "centrali/store/webhooks.hpp"
#include "pending_delivery.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

// An accepted event received at 1 ms; `pending`: waiting for fan-out.
void add_event(store::Store& s, const std::string& id, const std::string& type, bool pending, std::string body = "")
{
  store::Event e;
  e.id = id;
  e.source = "src";
  e.type = type;
  e.status = "accepted";
  e.method = "POST";
  e.path = "/ingest/src";
  e.body = std::move(body);
  e.received_ms = 1;
  REQUIRE(store::insert_event(s, e, pending));
}

// A forward delivery of a fresh event, due at `due_ms`.
void add_delivery(store::Store& s, const std::string& id, std::int64_t due_ms)
{
  add_event(s, "evt_" + id, "t", false);
  REQUIRE(store::insert_delivery(s, testing::pending_delivery(id, due_ms)));
}

// Claims what is due at `now_ms` with a one-minute lease.
std::vector<store::Delivery> claim(store::Store& s, std::int64_t now_ms, int limit)
{
  auto claimed = store::claim_due_deliveries(s, now_ms, limit, 60'000);
  REQUIRE(claimed);
  return std::move(*claimed);
}

// A scheduled attempt of `delivery_id` starting at `started_ms`.
store::Attempt scheduled_attempt(const std::string& id, const std::string& delivery_id, std::int64_t started_ms)
{
  store::Attempt a;
  a.id = id;
  a.delivery_id = delivery_id;
  a.trigger = "scheduled";
  a.url = "http://127.0.0.1:9/app";
  a.started_ms = started_ms;
  return a;
}

} // namespace

TEST_CASE("store: a claimed delivery is held until its lease ends, then can be claimed again", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_delivery(s, "dlv_a", 100);
  add_delivery(s, "dlv_b", 200);

  auto first = claim(s, 1'000, 1);
  REQUIRE(first.size() == 1);
  CHECK(first[0].id == "dlv_a");
  CHECK(first[0].next_attempt_ms == 100);  // as it was before the claim

  // Held: the next claim and the next due time pass over it.
  auto second = claim(s, 1'000, 10);
  REQUIRE(second.size() == 1);
  CHECK(second[0].id == "dlv_b");
  auto none = claim(s, 1'000, 10);
  CHECK(none.empty());
  auto due = store::next_due_ms(s, 1'000);  // nothing free: the first lease's end
  REQUIRE(due);
  CHECK(due->value_or(0) == 61'000);
  auto after = store::next_due_ms(s, 61'000);  // nothing after that
  REQUIRE(after);
  CHECK_FALSE(after->has_value());
  auto queue = store::queue_state(s);  // both wait, due again when the leases end
  REQUIRE(queue);
  CHECK(queue->pending == 2);
  CHECK(queue->next_due_ms == 61'000);

  // A holder that died: once the lease has ended, another claim takes it.
  auto taken_over = claim(s, 61'000, 10);
  CHECK(taken_over.size() == 2);
}

TEST_CASE("store: a leasing fan-out stores what its worker takes as a claim leaves it, the rest due now", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  const std::string held_url = "http://127.0.0.1:9/held", other_url = "http://127.0.0.1:9/other";
  for (const auto& [id, url] : {std::pair{"whk_held", held_url}, std::pair{"whk_other", other_url}}) {
    store::Webhook w;
    w.id = id;
    w.name = id;
    w.url = url;
    w.events = "order.*";
    w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    w.retry_schedule_ms = {30'000};
    REQUIRE(store::insert_webhook(s, w));
  }
  for (const char* id : {"evt_1", "evt_2"}) add_event(s, id, "order.created", true, "{}");
  // The worker takes one URL's deliveries, leased until 60 s, and room for
  // one event's body (2 bytes) besides.
  store::FanOutLease lease{60'000, [&](const std::string& url) { return url == held_url; }, 2};
  auto out = dispatch::fan_out_pending(s, 100, 1'000, &lease);
  REQUIRE(out);
  CHECK(out->events == 2);
  CHECK(out->deliveries == 4);
  REQUIRE(out->leased.size() == 2);
  for (const auto& l : out->leased) {
    const auto& d = l.delivery;
    CHECK(d.url == held_url);
    CHECK(d.seq > 0);
    CHECK(d.lease_until_ms == 60'000);
    CHECK(d.next_attempt_ms == 1'000);  // due as made: where a release puts it back
  }
  // The first comes with its event as get_event_payload reads it; the
  // budget is spent before the second.
  REQUIRE(out->leased[0].payload);
  const auto& payload = *out->leased[0].payload;
  CHECK(payload.id == out->leased[0].delivery.event_id);
  CHECK(payload.type == "order.created");
  CHECK(payload.received_ms == 1);
  CHECK(payload.body == "{}");
  CHECK_FALSE(out->leased[1].payload);
  // Only the others are due now; the leased ones once their lease ends
  // (should their holder have died), as claimed ones are.
  auto now = claim(s, 1'000, 10);
  REQUIRE(now.size() == 2);
  for (const auto& d : now) CHECK(d.url == other_url);
  CHECK(claim(s, 59'999, 10).empty());
  auto queue = store::queue_state(s);
  REQUIRE(queue);
  CHECK(queue->next_due_ms == 60'000);
  // Handed back unsent, a leased one is due again at once.
  REQUIRE(store::release_lease(s, out->leased[0].delivery));
  auto released = claim(s, 1'000, 10);
  REQUIRE(released.size() == 1);
  CHECK(released[0].id == out->leased[0].delivery.id);
  auto taken_over = claim(s, 60'000, 10);
  REQUIRE(taken_over.size() == 1);
  CHECK(taken_over[0].id == out->leased[1].delivery.id);
}

TEST_CASE("store::release_lease makes a delivery due when it was due before its claim", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_delivery(s, "dlv_a", 100);
  auto claimed = claim(s, 1'000, 1);
  REQUIRE(claimed.size() == 1);
  REQUIRE(store::release_lease(s, claimed[0]));
  auto d = store::get_delivery(s, "dlv_a");
  REQUIRE(d);
  CHECK(d->next_attempt_ms == 100);
  auto again = claim(s, 1'000, 1);
  CHECK(again.size() == 1);
}

TEST_CASE("store::release_lease gives back only its own lease, not a later holder's", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_delivery(s, "dlv_a", 100);
  auto first = claim(s, 1'000, 1);
  REQUIRE(first.size() == 1);
  CHECK(first[0].lease_until_ms == 61'000);
  // The first holder's lease ran out and another process claimed it.
  auto second = claim(s, 61'000, 1);
  REQUIRE(second.size() == 1);
  REQUIRE(store::release_lease(s, first[0]));
  auto d = store::get_delivery(s, "dlv_a");
  REQUIRE(d);
  CHECK(d->next_attempt_ms == 121'000);  // still the second holder's
  CHECK(claim(s, 61'000, 1).empty());
}

TEST_CASE("store::record_attempt numbers attempts and releases the lease of the scheduled one", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_delivery(s, "dlv_a", 100);
  auto claimed = claim(s, 1'000, 1);
  REQUIRE(claimed.size() == 1);
  auto a = scheduled_attempt("att_1", "dlv_a", 1'000);
  a.error = "connection refused";
  store::DeliveryUpdate u;
  u.status = "pending";
  u.next_attempt_ms = 31'000;
  u.last_error = a.error;
  auto n = store::record_attempt(s, a, u);
  REQUIRE(n);
  CHECK(*n == 1);
  auto d = store::get_delivery(s, "dlv_a");
  REQUIRE(d);
  CHECK(d->attempt_count == 1);
  CHECK(d->next_attempt_ms == 31'000);
  // The retry is claimable when due (the lease went with the attempt).
  auto retry = claim(s, 31'000, 1);
  CHECK(retry.size() == 1);
  a.id = "att_2";
  a.started_ms = 31'000;
  a.error.clear();
  a.response_status = 200;
  u = {};
  u.status = "succeeded";
  u.last_status = 200;
  n = store::record_attempt(s, a, u);
  REQUIRE(n);
  CHECK(*n == 2);
  auto attempts = store::list_attempts(s, "dlv_a");
  REQUIRE(attempts);
  REQUIRE(attempts->size() == 2);
  CHECK((*attempts)[1].number == 2);
  CHECK((*attempts)[1].response_status == 200);
}

TEST_CASE("store::record_attempt finds the delivery by its row when given one, and only if the id matches", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_delivery(s, "dlv_a", 100);
  add_delivery(s, "dlv_b", 100);
  auto claimed = claim(s, 1'000, 2);
  REQUIRE(claimed.size() == 2);
  const auto& b = claimed[0].id == "dlv_b" ? claimed[0] : claimed[1];
  const auto& a_row = claimed[0].id == "dlv_a" ? claimed[0] : claimed[1];
  auto a = scheduled_attempt("att_1", "dlv_b", 1'000);
  a.response_status = 204;
  store::DeliveryUpdate u;
  u.status = "succeeded";
  u.last_status = 204;
  // Another delivery's row: refused, nothing written to either.
  u.seq = a_row.seq;
  auto wrong = store::record_attempt(s, a, u);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == ErrorKind::not_found);
  u.seq = b.seq;
  auto n = store::record_attempt(s, a, u);
  REQUIRE(n);
  CHECK(*n == 1);
  auto stored_b = store::get_delivery(s, "dlv_b");
  auto stored_a = store::get_delivery(s, "dlv_a");
  REQUIRE(stored_b);
  REQUIRE(stored_a);
  CHECK(stored_b->status == "succeeded");
  CHECK(stored_a->status == "pending");
  CHECK(stored_a->attempt_count == 0);
}

TEST_CASE("store::record_attempt numbers from the count the caller saw, and reads it when another attempt came first", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_delivery(s, "dlv_a", 100);
  auto claimed = claim(s, 1'000, 1);
  REQUIRE(claimed.size() == 1);
  const auto seen = claimed[0];
  CHECK(seen.attempt_count == 0);
  // A resend from elsewhere is recorded first (found by id, no row given).
  auto resend = scheduled_attempt("att_resend", "dlv_a", 1'100);
  resend.trigger = "resend";
  resend.response_status = 500;
  store::DeliveryUpdate manual;
  manual.status = "pending";
  manual.next_attempt_ms = seen.next_attempt_ms;
  auto n = store::record_attempt(s, resend, manual);
  REQUIRE(n);
  CHECK(*n == 1);
  // The worker still believes no attempt was made: its attempt is number 2
  // all the same, and it releases the lease.
  auto a = scheduled_attempt("att_2", "dlv_a", 1'200);
  a.response_status = 200;
  store::DeliveryUpdate u;
  u.seq = seen.seq;
  u.attempts_seen = seen.attempt_count;
  u.status = "succeeded";
  u.last_status = 200;
  n = store::record_attempt(s, a, u);
  REQUIRE(n);
  CHECK(*n == 2);
  auto d = store::get_delivery(s, "dlv_a");
  REQUIRE(d);
  CHECK(d->attempt_count == 2);
  CHECK(d->status == "succeeded");
  // The usual case: the count seen is still the count.
  add_delivery(s, "dlv_b", 100);
  auto b = claim(s, 2'000, 1);
  REQUIRE(b.size() == 1);
  auto first = scheduled_attempt("att_b1", "dlv_b", 2'000);
  first.response_status = 204;
  store::DeliveryUpdate ub;
  ub.seq = b[0].seq;
  ub.attempts_seen = b[0].attempt_count;
  ub.status = "succeeded";
  ub.last_status = 204;
  n = store::record_attempt(s, first, ub);
  REQUIRE(n);
  CHECK(*n == 1);
  auto attempts = store::list_attempts(s, "dlv_b");
  REQUIRE(attempts);
  REQUIRE(attempts->size() == 1);
  CHECK((*attempts)[0].number == 1);
  // A row that is not this delivery's is refused either way.
  auto wrong = scheduled_attempt("att_x", "dlv_b", 3'000);
  store::DeliveryUpdate uw;
  uw.seq = seen.seq;  // dlv_a's row
  uw.attempts_seen = 2;
  uw.status = "failed";
  auto refused = store::record_attempt(s, wrong, uw);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::not_found);
}

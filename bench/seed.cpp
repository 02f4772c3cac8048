// Fills a store fast, through the store layer, in large transactions, for
// the benchmarks:
//   bench_seed events STORE N         N accepted events, ten types, 700-byte bodies
//   bench_seed pending STORE N TYPE   N local events of TYPE waiting for fan-out
//   bench_seed deliveries STORE N     N webhook deliveries with one attempt each (10 % failed)
//   bench_seed stripe STORE N         N accepted Stripe-like invoice events (~750-byte bodies) for
//                                     content queries: customer cus_<n % 1000>, amount_paid
//                                     (n * 7919) % 100000, no "dispute" anywhere
#include <cstdio>
#include <string>


#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

using namespace centrali;

namespace {

int fail_with(const Error& e)
{
  std::fprintf(stderr, "%s\n", e.message.c_str());
  return 4;
}

store::Event make_event(long i, long n, std::int64_t now, const std::string& type, const std::string& padding)
{
  store::Event e;
  e.id = ids::make_at(ids::k_event, static_cast<std::uint64_t>(now - (n - i)));
  e.source = "seed";
  e.type = type;
  e.status = "accepted";
  e.http_status = 202;
  e.dedupe_key = "seed-" + std::to_string(i) + "-" + std::to_string(now);
  e.received_ms = now - (n - i);
  e.headers = {{"Content-Type", "application/json"}};
  e.body = R"({"type":")" + type + R"(","n":)" + std::to_string(i) + R"(,"pad":")" + padding + "\"}";
  return e;
}

// A Stripe invoice.paid event as Stripe sends it, shortened: the fields a
// support engineer asks about sit among others, past a few hundred bytes.
std::string stripe_body(long i)
{
  const auto n = std::to_string(i);
  const auto customer = std::to_string(i % 1000);
  const auto amount = std::to_string((i * 7919) % 100000);
  return R"({"id":"evt_)" + n + R"(","object":"event","api_version":"2024-06-20","created":)" + std::to_string(1700000000 + i) +
         R"(,"type":"invoice.paid","livemode":false,"pending_webhooks":1,"data":{"object":{"id":"in_)" + n +
         R"(","object":"invoice","account_country":"DE","account_name":"Example GmbH","billing_reason":"subscription_cycle",)"
         R"("collection_method":"charge_automatically","lines":{"object":"list","data":[{"id":"il_)" + n +
         R"(","object":"line_item","amount":)" + amount +
         R"x(,"currency":"usd","description":"1 x Pro plan (at $49.00 / month)","period":{"start":1700000000,)x"
         R"("end":1702592000},"price":{"id":"price_1Pro","unit_amount":)" + amount +
         R"(,"recurring":{"interval":"month"}},"quantity":1}],"has_more":false},"customer":"cus_)" + customer +
         R"(","customer_email":"user)" + customer + R"(@example.com","amount_due":)" + amount + R"(,"amount_paid":)" + amount +
         R"(,"currency":"usd","status":"paid","paid":true,"metadata":{"order_id":"ord_)" + n +
         R"("}}},"request":{"id":"req_)" + n + R"(","idempotency_key":null}})";
}

} // namespace

int main(int argc, char** argv)
{
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_seed events|pending|deliveries|stripe STORE N [TYPE]\n");
    return 2;
  }
  std::string mode = argv[1];
  auto store = store::Store::open(argv[2], {store::Durability::normal});
  if (!store) return fail_with(store.error());
  long n = std::stol(argv[3]);
  auto now = timeutil::now_ms();
  std::string padding(mode == "pending" ? 100 : 600, 'x');

  std::string webhook_id;
  if (mode == "deliveries") {
    store::Webhook w;
    w.id = ids::make(ids::k_webhook);
    w.url = "http://127.0.0.1:9/seed";
    w.events = "*";
    w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    w.retry_schedule_ms = {};
    w.active = false;
    w.created_ms = w.updated_ms = now;
    if (auto r = store::insert_webhook(*store, w); !r) return fail_with(r.error());
    webhook_id = w.id;
  }
  for (long done = 0; done < n;) {
    store->connection().begin_write();
    for (long i = 0; i < 50'000 && done < n; ++i, ++done) {
      std::string type = mode == "pending" ? argv[4] : mode == "stripe" ? "invoice.paid" : "type." + std::to_string(done % 10);
      auto e = make_event(done, n, now, type, padding);
      if (mode == "stripe") {
        e.source = "stripe";
        e.body = stripe_body(done);
      }
      if (auto r = store::insert_event(*store, e, mode == "pending"); !r) return fail_with(r.error());
      if (mode != "deliveries") continue;
      bool failed = done % 10 == 0;
      store::Delivery d;
      d.id = ids::make(ids::k_delivery);
      d.kind = "webhook";
      d.event_id = e.id;
      d.webhook_id = webhook_id;
      d.event_type = type;
      d.url = "http://127.0.0.1:9/seed";
      d.status = "pending";
      d.next_attempt_ms = now + 3'600'000;
      d.created_ms = d.updated_ms = e.received_ms;
      if (auto r = store::insert_delivery(*store, d); !r) return fail_with(r.error());
      store::Attempt a;
      a.id = ids::make(ids::k_attempt);
      a.delivery_id = d.id;
      a.trigger = "scheduled";
      a.url = d.url;
      a.started_ms = e.received_ms;
      a.duration_ms = 3;
      if (failed) a.error = "connect to 127.0.0.1:9: connection refused or host unreachable";
      else a.response_status = 200;
      store::DeliveryUpdate u;
      u.status = failed ? "failed" : "succeeded";
      if (auto r = store::record_attempt(*store, a, u); !r) return fail_with(r.error());
    }
    store->exec("COMMIT");
  }
  return 0;
}

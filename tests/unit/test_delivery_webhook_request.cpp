// `webhooks rotate-secret` keeps the old secret signing alongside the new one
// for 24 h (README, "Outbound webhooks"): the attempt's time decides, so a
// receiver still holding the old secret verifies until then, and only then
// stops.
#include <catch2/catch.hpp>

#include <sstream>

#include "centrali/delivery/webhook_request.hpp"
#include "independent_signatures.hpp"

using namespace centrali;

namespace {

constexpr std::int64_t k_hour_ms = 3600LL * 1000;
constexpr std::int64_t k_rotated_ms = 1'795'000'000'000;
constexpr std::int64_t k_expires_ms = k_rotated_ms + 24 * k_hour_ms;
const std::string k_old_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string k_new_secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
// The attempt's time is not now: check the signatures, not their freshness.
constexpr long long k_any_age_s = 1LL << 40;

store::Webhook rotated_webhook()
{
  store::Webhook w;
  w.id = "whk_1";
  w.url = "http://127.0.0.1:9/hook";
  w.secret = k_new_secret;
  w.previous_secret = k_old_secret;
  w.previous_until_ms = k_expires_ms;
  w.timeout_ms = 1000;
  return w;
}

struct Signed {
  std::string id, timestamp, signatures, centrali_signatures, body;
  int count = 0;
};

Signed attempt_at(const store::Webhook& w, std::int64_t now_ms)
{
  const std::string body = R"({"type":"order.created","timestamp":"2026-11-18T11:06:40Z","data":{}})";
  delivery::WebhookRequestInput in;
  in.webhook = &w;
  in.delivery_id = "dlv_1";
  in.event_type = "order.created";
  in.body = body;
  in.now_ms = now_ms;
  auto req = delivery::webhook_request(in);
  REQUIRE(req);
  auto header = [&](const char* name) {
    const auto* v = find_header(req->headers, name);
    REQUIRE(v);
    return *v;
  };
  Signed s{header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"),
           header("Centrali-Signature"), req->body};
  std::istringstream words(s.signatures);
  for (std::string w; words >> w;) ++s.count;
  return s;
}

bool verifies_with(const std::string& secret, const Signed& s)
{
  return testing::standard_webhooks_valid(secret, s.id, s.timestamp, s.signatures, s.body, k_any_age_s);
}

} // namespace

TEST_CASE("delivery::webhook_request signs with the old secret too until the rotation expires", "[delivery][rotation]")
{
  const auto w = rotated_webhook();
  for (auto now : {k_rotated_ms, k_rotated_ms + 23 * k_hour_ms, k_expires_ms - 1}) {
    INFO("attempt " << (now - k_rotated_ms) << " ms after the rotation");
    auto s = attempt_at(w, now);
    CHECK(s.timestamp == std::to_string(now / 1000));
    CHECK(s.count == 2);
    CHECK(verifies_with(k_new_secret, s));
    CHECK(verifies_with(k_old_secret, s));
    CHECK(s.centrali_signatures == s.signatures);
  }
}

TEST_CASE("delivery::webhook_request signs with the new secret alone once the rotation expired", "[delivery][rotation]")
{
  const auto w = rotated_webhook();
  for (auto now : {k_expires_ms, k_expires_ms + 1, k_expires_ms + 24 * k_hour_ms}) {
    INFO("attempt " << (now - k_expires_ms) << " ms after the expiry");
    auto s = attempt_at(w, now);
    CHECK(s.count == 1);
    CHECK(verifies_with(k_new_secret, s));
    CHECK_FALSE(verifies_with(k_old_secret, s));
    CHECK(s.centrali_signatures == s.signatures);
  }
}

TEST_CASE("delivery::webhook_request signs with one secret when none was rotated", "[delivery][rotation]")
{
  auto w = rotated_webhook();
  w.previous_secret.clear();
  w.previous_until_ms.reset();
  auto s = attempt_at(w, k_rotated_ms);
  CHECK(s.count == 1);
  CHECK(verifies_with(k_new_secret, s));
}

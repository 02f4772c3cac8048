// Binary test of `webhooks rotate-secret` (README, "Outbound webhooks"): the
// old secret keeps signing alongside the new one for 24 h, then stops.
// Nothing in the CLI moves time, so the test moves the rotation instead: it
// sets the stored expiry into the past through the store's own API, as 24 h
// passing would, and sends again.
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "centrali/store/store.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/time.hpp"
#include "process.hpp"
#include "store_cli.hpp"
#include "webhook_endpoint.hpp"

using namespace testing;
using namespace testing::webhooks;

namespace {

constexpr std::int64_t k_day_ms = 24LL * 3600 * 1000;

int signature_count(const httplib::Request& req)
{
  std::istringstream words(req.get_header_value("webhook-signature"));
  int n = 0;
  for (std::string w; words >> w;) ++n;
  return n;
}

// What 24 h passing does to a rotated webhook: its old secret's expiry is behind.
void expire_rotation(const std::string& store_path, const std::string& webhook_id)
{
  auto store = centrali::store::Store::open(store_path);
  REQUIRE(store);
  auto w = centrali::store::get_webhook(*store, webhook_id);
  REQUIRE(w);
  REQUIRE(w->previous_until_ms);
  w->previous_until_ms = centrali::timeutil::now_ms() - 1000;
  REQUIRE(centrali::store::update_webhook(*store, *w));
}

} // namespace

TEST_CASE("rotate-secret signs with the old secret too for 24 h, and with the new one alone after", "[cli][webhooks][rotation]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url());

  const auto before = centrali::timeutil::now_ms();
  auto rotated = cli_json(store, {"webhooks", "rotate-secret", hook.id});
  const auto after = centrali::timeutil::now_ms();
  const auto fresh = rotated["secret"].get<std::string>();
  REQUIRE(fresh != hook.secret);
  // Until 24 h from the rotation (shown to the second or the millisecond).
  auto until = centrali::timeutil::parse_instant(rotated["previous_secret_valid_until"].get<std::string>());
  REQUIRE(until);
  CHECK(*until >= (before + k_day_ms) / 1000 * 1000);
  CHECK(*until <= after + k_day_ms);

  emit(store, "order.created", R"({"n":1})");
  cli_ok(store, {"dispatch", "--until-idle"});
  REQUIRE(ep.requests().size() == 1);
  auto during = ep.requests()[0];
  CHECK(signature_count(during) == 2);
  CHECK(standard_webhooks_valid(hook.secret, during));
  CHECK(standard_webhooks_valid(fresh, during));

  expire_rotation(store, hook.id);
  emit(store, "order.created", R"({"n":2})");
  cli_ok(store, {"dispatch", "--until-idle"});
  REQUIRE(ep.requests().size() == 2);
  auto later = ep.requests()[1];
  CHECK(signature_count(later) == 1);
  CHECK(standard_webhooks_valid(fresh, later));
  CHECK_FALSE(standard_webhooks_valid(hook.secret, later));
  CHECK(later.get_header_value("Centrali-Signature") == later.get_header_value("webhook-signature"));
}

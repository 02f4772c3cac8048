// Binary test: a receiver that is down (its port refuses connections) is
// reported as down for every delivery, however many wait for a connection.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "loopback.hpp"
#include "process.hpp"
#include "seed_events.hpp"
#include "temp_dir.hpp"
#include "webhook_endpoint.hpp"

using namespace testing;
using namespace testing::webhooks;
using json = nlohmann::json;

TEST_CASE("dispatch to a refused port records every attempt as refused - none waits for the timeout",
          "[cli][webhooks]")
{
  // Many more deliveries than connections per origin: most wait for a
  // connection slot, and each must get its own refused connect rather than
  // sit until the webhook's timeout and be recorded as "timed out".
  TempDir dir;
  const auto store = dir.store();
  RefusingPort down;
  REQUIRE(down.port() != 0);
  add_webhook(store, down.url("/x"), {"--retry-schedule", "none", "--timeout", "20s"});
  constexpr int k_deliveries = 300;
  store_local_events(store, "order.created", k_deliveries);
  auto r = centrali({"--store", store, "dispatch", "--until-idle"});
  CHECK(r.exit_code == 1);  // every delivery failed
  auto list = deliveries(store);
  REQUIRE(list.size() == k_deliveries);
  int refused = 0;
  int timed_out = 0;
  for (const auto& d : list) {
    const auto error = d["last_error"].is_string() ? d["last_error"].get<std::string>() : std::string();
    if (error.find("timed out") != std::string::npos) ++timed_out;
    if (error.find("connection refused") != std::string::npos) ++refused;
    else UNSCOPED_INFO(error);
  }
  CHECK(timed_out == 0);
  CHECK(refused == k_deliveries);
}

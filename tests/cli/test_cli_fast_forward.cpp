// Binary tests: `dispatch --until-idle --fast-forward` jumps the clock to
// the next due retry whenever nothing is due now, so CI can run a whole
// retry schedule at once; the jumped times are stored, and say so.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "centrali/util/time.hpp"
#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"
#include "temp_dir.hpp"
#include "webhook_endpoint.hpp"

using namespace testing;
using namespace testing::webhooks;
using json = nlohmann::json;

namespace {

std::int64_t started_ms(const json& attempt)
{
  auto t = centrali::timeutil::parse_instant(attempt["started_at"].get<std::string>());
  REQUIRE(t);
  return *t;
}

} // namespace

TEST_CASE("dispatch --fast-forward runs the default retry schedule to its end at once", "[cli][dispatch]")
{
  TempDir dir;
  const auto store = dir.store();
  RefusingPort down;
  REQUIRE(down.port() != 0);
  add_webhook(store, down.url("/x"));  // the default schedule: 30s, 2m, 10m, 30m
  emit(store, "order.created", R"({"id":1})");

  auto summary = cli_json(store, {"dispatch", "--until-idle", "--fast-forward"}, 1);  // failed for good
  CHECK(summary["attempts"] == 5);
  CHECK(summary["failed"] == 1);
  CHECK(summary["pending"] == 0);

  auto list = deliveries(store, {"--status", "failed"});
  REQUIRE(list.size() == 1);
  auto shown = show_delivery(store, list[0]["id"]);
  const auto& log = shown["attempt_log"];
  REQUIRE(log.size() == 5);
  const std::int64_t schedule_ms[] = {30'000, 120'000, 600'000, 1'800'000};
  std::int64_t jumped_by_last = 0;
  for (int i = 1; i < 5; ++i) {
    INFO("gap before attempt " << i + 1);
    const auto gap = started_ms(log[i]) - started_ms(log[i - 1]);
    CHECK(gap >= schedule_ms[i - 1] * 8 / 10);
    CHECK(gap <= schedule_ms[i - 1] * 12 / 10 + 1000);  // plus the real time between attempts
    CHECK(log[i]["clock_offset_ms"].get<std::int64_t>() > log[i - 1]["clock_offset_ms"].get<std::int64_t>());
    jumped_by_last = log[i]["clock_offset_ms"];
  }
  CHECK(log[0]["clock_offset_ms"] == 0);  // the first attempt was due at once
  CHECK(summary["fast_forwarded_ms"].get<std::int64_t>() >= jumped_by_last);

  // People see it on the attempt's line.
  auto text = cli(store, {"deliveries", "show", list[0]["id"]});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("(clock fast-forwarded by") != std::string::npos);
}

TEST_CASE("dispatch --fast-forward refuses while a listener sends from the same store", "[cli][dispatch]")
{
  TempDir dir;
  const auto store = dir.store();
  Listen listener(store);
  // Answered only once it serves, which is after its sender has started.
  REQUIRE(get(listener.url(), "/healthz").status == 200);
  auto r = cli(store, {"dispatch", "--until-idle", "--fast-forward"});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("another process sends from this store") != std::string::npos);
}

TEST_CASE("dispatch --fast-forward without --until-idle is a usage error", "[cli][dispatch]")
{
  TempDir dir;
  const auto store = dir.store();
  auto r = cli(store, {"dispatch", "--fast-forward"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--fast-forward") != std::string::npos);
}

TEST_CASE("dispatch --fast-forward with nothing due ends at once without a jump", "[cli][dispatch]")
{
  TempDir dir;
  const auto store = dir.store();
  auto summary = cli_json(store, {"dispatch", "--until-idle", "--fast-forward"});
  CHECK(summary["attempts"] == 0);
  CHECK(summary["fast_forwarded_ms"] == 0);
  CHECK(summary["next_due_at"].is_null());
}

TEST_CASE("fast-forwarded attempts are signed with the wall clock's time, so receivers still accept them",
          "[cli][dispatch]")
{
  TempDir dir;
  const auto store = dir.store();
  Receiver app;
  app.status = 503;  // every attempt fails: the whole schedule runs, jumped
  auto hook = add_webhook(store, app.url());
  emit(store, "order.created", R"({"id":1})");
  cli_json(store, {"dispatch", "--until-idle", "--fast-forward"}, 1);
  auto got = app.received();
  REQUIRE(got.size() == 5);
  for (const auto& r : got) {
    // The Standard Webhooks check with its usual 5-minute tolerance.
    INFO("webhook-timestamp " << r.headers.find("webhook-timestamp")->second);
    CHECK(testing::standard_webhooks_valid(hook.secret, r.headers.find("webhook-id")->second,
                                           r.headers.find("webhook-timestamp")->second,
                                           r.headers.find("webhook-signature")->second, r.body));
  }
}

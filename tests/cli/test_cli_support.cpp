// Binary tests of what a support engineer does after an outage: find the
// deliveries a webhook missed, see why, send them once it is back; and of
// the promise that manual sends never use up a delivery's retries.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include <SQLiteCpp/Database.h>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "store_cli.hpp"
#include "temp_dir.hpp"
#include "webhook_endpoint.hpp"

using namespace testing;
using namespace testing::webhooks;
using json = nlohmann::json;

namespace {

int data_n(const httplib::Request& req)
{
  return json::parse(req.body)["data"]["n"].get<int>();
}

} // namespace

TEST_CASE("events for a disabled webhook are skipped, counted on enable, and recovered once each, signed",
          "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> answer{410};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = answer; });
  auto hook = add_webhook(store, ep.url(), {"--name", "billing", "--retry-schedule", "none"});
  emit(store, "order.paid", R"({"n":0})");
  cli(store, {"dispatch", "--until-idle"});  // the 410 turns it off
  REQUIRE(ep.requests().size() == 1);
  for (int i = 1; i <= 12; ++i) emit(store, "order.paid", "{\"n\":" + std::to_string(i) + "}");
  emit(store, "invoice.paid", R"({"n":99})");  // not subscribed: not skipped either
  auto run = cli_json(store, {"dispatch", "--until-idle"});
  CHECK(run["skipped"] == 12);
  CHECK(ep.requests().size() == 1);  // nothing sent while it is off

  auto skipped = deliveries(store, {"--status", "skipped", "--webhook", "billing"});
  REQUIRE(skipped.size() == 12);
  for (const auto& d : skipped) {
    CHECK(d["attempts"] == 0);
    CHECK(d["webhook_name"] == "billing");
    CHECK_THAT(d["last_error"].get<std::string>(), Catch::Contains("webhook disabled: endpoint answered 410 Gone"));
  }
  auto listed = cli(store, {"webhooks", "list", "--status", "disabled"});
  CHECK_THAT(listed.out, Catch::Contains("billing") && Catch::Contains("endpoint answered 410 Gone"));
  CHECK(cli_json(store, {"webhooks", "list", "--status", "active"}).empty());

  // Recovering into a webhook that is still off sends nothing.
  auto early = cli(store, {"webhooks", "recover", "billing", "--since", "1h"});
  CHECK(early.exit_code == 1);
  CHECK_THAT(early.err, Catch::Contains("enable it first"));

  answer = 200;
  auto enabled = cli(store, {"webhooks", "enable", "billing"});
  CHECK(enabled.exit_code == 0);
  CHECK_THAT(enabled.err, Catch::Contains("12 deliveries were skipped") &&
                              Catch::Contains("centrali webhooks recover billing --since"));
  CHECK(cli_json(store, {"webhooks", "enable", "billing"})["skipped"] == 12);

  auto dry = cli_json(store, {"webhooks", "recover", "billing", "--since", "1h", "--dry-run"});
  CHECK(dry["matched"] == 13);  // the 12 skipped and the one that failed with the 410
  CHECK(ep.requests().size() == 1);

  auto recovered = cli_json(store, {"webhooks", "recover", "billing", "--since", "1h"});
  CHECK(recovered["succeeded"] == 13);
  CHECK(recovered["failed"] == 0);
  auto got = ep.requests();
  REQUIRE(got.size() == 14);
  // Oldest first, each event once, each signed with the webhook's secret.
  std::vector<int> order;
  for (std::size_t i = 1; i < got.size(); ++i) {
    order.push_back(data_n(got[i]));
    CHECK(standard_webhooks_valid(hook.secret, got[i]));
  }
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  for (const auto& d : deliveries(store, {"--webhook", "billing"})) {
    CHECK(d["status"] == "succeeded");
    auto log = show_delivery(store, d["id"])["attempt_log"];
    CHECK(log.back()["trigger"] == "recover");
  }
  // Nobody subscribes to operational events here: none is stored.
  CHECK(cli_json(store, {"events", "list", "--type", "centrali.*"}).empty());
  // Nothing is left to recover.
  CHECK(cli_json(store, {"webhooks", "recover", "billing", "--since", "1h"})["matched"] == 0);
  CHECK(ep.requests().size() == 14);
}

TEST_CASE("a recover that fails starts a skipped delivery's retry schedule, and a 410 stops it",
          "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> answer{200};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = answer; });
  add_webhook(store, ep.url(), {"--name", "erp", "--retry-schedule", "1h"});
  cli_ok(store, {"webhooks", "disable", "erp"});
  for (int i = 1; i <= 3; ++i) emit(store, "order.paid", "{\"n\":" + std::to_string(i) + "}");
  cli(store, {"dispatch", "--until-idle"});
  cli_ok(store, {"webhooks", "enable", "erp"});

  answer = 503;
  auto failed = cli_json(store, {"webhooks", "recover", "erp", "--since", "1h"}, 1);
  CHECK(failed["failed"] == 3);
  CHECK(failed["retrying"] == 3);
  for (const auto& d : deliveries(store, {"--webhook", "erp"})) {
    CHECK(d["status"] == "pending");  // the schedule takes it from here: retry in 1h
    CHECK(!d["next_attempt_at"].is_null());
  }

  // A webhook that answers 410 during a recover is sent nothing more.
  cli_ok(store, {"webhooks", "disable", "erp"});
  for (int i = 4; i <= 6; ++i) emit(store, "order.paid", "{\"n\":" + std::to_string(i) + "}");
  cli(store, {"dispatch", "--until-idle"});
  cli_ok(store, {"webhooks", "enable", "erp"});
  answer = 410;
  const auto before = ep.requests().size();
  auto gone = cli_json(store, {"webhooks", "recover", "erp", "--since", "1h"}, 1);
  CHECK(ep.requests().size() == before + 1);
  CHECK(gone["unsent"] == 2);
  CHECK_THAT(gone["webhook_disabled"].get<std::string>(), Catch::Contains("410 Gone"));
}

TEST_CASE("resends do not use up a delivery's retries, and a new schedule re-plans pending ones", "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response& res) { res.status = 500; });
  add_webhook(store, ep.url(), {"--name", "flaky", "--retry-schedule", "100ms,100ms,100ms"});
  emit(store, "order.paid", R"({"n":1})");
  cli(store, {"dispatch", "--until-idle"});  // attempt 1 (scheduled), then pending
  auto id = deliveries(store)[0]["id"].get<std::string>();
  CHECK(cli(store, {"webhooks", "resend", id}).exit_code == 1);
  CHECK(cli(store, {"webhooks", "resend", id}).exit_code == 1);
  cli(store, {"dispatch", "--until-idle", "--timeout", "30s"});
  auto shown = show_delivery(store, id);
  CHECK(shown["status"] == "failed");
  std::vector<std::string> triggers;
  for (const auto& a : shown["attempt_log"]) triggers.push_back(a["trigger"]);
  // The whole schedule (1 + 3 retries) ran, and the two resends are logged
  // and numbered among them.
  CHECK(triggers == std::vector<std::string>{"scheduled", "resend", "resend", "scheduled", "scheduled", "scheduled"});

  emit(store, "order.paid", R"({"n":2})");
  cli_ok(store, {"webhooks", "update", "flaky", "--retry-schedule", "1h,1h"});
  cli(store, {"dispatch", "--until-idle"});
  auto pending = deliveries(store, {"--status", "pending"});
  REQUIRE(pending.size() == 1);
  auto in_an_hour = pending[0]["next_attempt_at"].get<std::string>();
  cli_ok(store, {"webhooks", "update", "flaky", "--retry-schedule", "2m"});
  auto replanned = deliveries(store, {"--status", "pending"});
  REQUIRE(replanned.size() == 1);
  CHECK(replanned[0]["next_attempt_at"].get<std::string>() < in_an_hour);
  // A schedule with no step left for it fails it, saying why.
  cli_ok(store, {"webhooks", "update", "flaky", "--retry-schedule", "none"});
  auto d = show_delivery(store, replanned[0]["id"]);
  CHECK(d["status"] == "failed");
  CHECK_THAT(d["last_error"].get<std::string>(), Catch::Contains("no retries left under the new retry schedule"));
}

TEST_CASE("webhooks are named wherever an id is taken, and names stay unambiguous", "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url(), {"--name", "billing"});
  CHECK(cli_json(store, {"webhooks", "show", "billing"})["id"] == hook.id);
  CHECK(cli(store, {"webhooks", "test", "billing"}).exit_code == 0);
  cli_ok(store, {"webhooks", "update", "billing", "--events", "order.*,invoice.*"});
  CHECK(cli_json(store, {"webhooks", "show", hook.id})["events"] == "order.*,invoice.*");
  // Another webhook cannot take the name, nor look like an id.
  auto clash = cli(store, {"webhooks", "add", "--url", ep.url(), "--events", "*", "--name", "billing"});
  CHECK(clash.exit_code == 2);
  CHECK_THAT(clash.err, Catch::Contains("already called 'billing'"));
  CHECK(cli(store, {"webhooks", "add", "--url", ep.url(), "--events", "*", "--name", "whk_x"}).exit_code == 2);
  CHECK(cli(store, {"webhooks", "add", "--url", ep.url(), "--events", "*", "--name", "two words"}).exit_code == 2);
  // Unknown names and ids are "not found" everywhere, filters included.
  CHECK(cli(store, {"webhooks", "show", "biling"}).exit_code == 3);
  CHECK(cli(store, {"deliveries", "list", "--webhook", "biling"}).exit_code == 3);
  CHECK(cli(store, {"webhooks", "replay", "--webhook", "biling"}).exit_code == 3);
  CHECK(cli(store, {"webhooks", "recover", "biling", "--since", "1h"}).exit_code == 3);
  cli_ok(store, {"webhooks", "disable", "billing"});
  cli_ok(store, {"webhooks", "rm", "billing"});
  // A removed webhook's log is still found by its id.
  CHECK(cli(store, {"deliveries", "list", "--webhook", hook.id}).exit_code == 0);
}

TEST_CASE("deliveries list says where each went and why it failed, and filters by reason and activity",
          "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ok;
  Endpoint down([](int, const httplib::Request&, httplib::Response& res) { res.status = 503; });
  add_webhook(store, ok.url(), {"--name", "shipping"});
  add_webhook(store, down.url(), {"--retry-schedule", "none"});
  emit(store, "order.paid", R"({"n":1})");
  cli(store, {"dispatch", "--until-idle"});
  auto table = cli(store, {"deliveries", "list"});
  CHECK_THAT(table.out, Catch::Contains("shipping") && Catch::Contains(down.url()) && Catch::Contains("HTTP 503"));
  auto by_reason = deliveries(store, {"--reason", "HTTP 5*"});
  REQUIRE(by_reason.size() == 1);
  CHECK(by_reason[0]["last_error"] == "HTTP 503");
  CHECK(deliveries(store, {"--reason", "*timed out*"}).empty());
  // Activity in a window: a delivery made earlier but attempted now is found.
  CHECK(deliveries(store, {"--since", "1m"}).size() == 2);
  CHECK(deliveries(store, {"--until", "2000-01-01"}).empty());
}

TEST_CASE("every attempt keeps the body it sent, byte for byte, stored once however often it was sent",
          "[sqlite][cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int n, const httplib::Request&, httplib::Response& res) { res.status = n == 1 ? 500 : 200; });
  add_webhook(store, ep.url(), {"--retry-schedule", "100ms"});
  emit(store, "order.paid", R"({"customer":"cus_1","note":"caf\u00e9 \u2603"})");
  cli(store, {"dispatch", "--until-idle", "--timeout", "30s"});
  auto got = ep.requests();
  REQUIRE(got.size() == 2);
  auto id = deliveries(store)[0]["id"].get<std::string>();
  CHECK(cli(store, {"webhooks", "resend", id}).exit_code == 0);
  got = ep.requests();
  REQUIRE(got.size() == 3);
  auto log = show_delivery(store, id)["attempt_log"];
  REQUIRE(log.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(log[i]["request_body"] == got[i].body);
  // The envelope, not the event body alone: what the receiver parsed.
  CHECK(json::parse(log[0]["request_body"].get<std::string>())["data"]["customer"] == "cus_1");
  SQLite::Database db(store);
  CHECK(db.execAndGet("SELECT count(*) FROM bodies").getInt() == 1);
  auto shown = cli(store, {"deliveries", "show", id});
  CHECK_THAT(shown.out, Catch::Contains("cus_1"));
}

TEST_CASE("webhooks stats counts attempts, success rate, latency and the last error of a receiver with known answers",
          "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int n, const httplib::Request&, httplib::Response& res) { res.status = n == 2 ? 500 : 200; });
  add_webhook(store, ep.url(), {"--name", "billing", "--retry-schedule", "none"});
  for (int i = 1; i <= 4; ++i) {
    emit(store, "order.paid", "{\"n\":" + std::to_string(i) + "}");
    cli(store, {"dispatch", "--until-idle"});  // one at a time: the receiver's answers follow the order
  }
  auto s = cli_json(store, {"webhooks", "stats", "billing"});
  CHECK(s["attempts"] == 4);
  CHECK(s["succeeded"] == 3);
  CHECK(s["success_rate"] == 0.75);
  CHECK(s["last_error"] == "HTTP 500");
  CHECK(s["state"] == "active");
  REQUIRE(s["p50_ms"].is_number());
  CHECK(s["p50_ms"].get<int>() <= s["p95_ms"].get<int>());
  auto all = cli_json(store, {"webhooks", "stats"});
  REQUIRE(all.size() == 1);
  CHECK(all[0]["attempts"] == 4);
  // A window with nothing in it has no rate rather than 0 %.
  auto empty = cli_json(store, {"webhooks", "stats", "billing", "--since", "2099-01-01"});
  CHECK(empty["attempts"] == 0);
  CHECK(empty["success_rate"].is_null());
  CHECK(cli(store, {"webhooks", "stats", "nope"}).exit_code == 3);
}

TEST_CASE("operational events reach subscribers: exhausted, disabled and recovered, without feeding on themselves",
          "[cli][support]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> answer{500};
  Endpoint app([&](int, const httplib::Request&, httplib::Response& res) { res.status = answer; });
  Endpoint pager;
  Endpoint everything;  // '*' is the application's events: it gets no operational ones
  auto hook = add_webhook(store, app.url(), {"--name", "erp", "--retry-schedule", "none"});
  cli_ok(store, {"webhooks", "add", "--url", everything.url(), "--events", "*"});
  cli_ok(store, {"webhooks", "add", "--url", pager.url(), "--events", "centrali.*", "--name", "pager"});
  // A subscriber to centrali.* that always fails makes no events about itself.
  cli_ok(store, {"webhooks", "add", "--url", "http://127.0.0.1:9/down", "--events", "centrali.*", "--retry-schedule",
                 "none"});
  emit(store, "order.paid", R"({"n":1})");
  cli(store, {"dispatch", "--until-idle"});
  answer = 200;
  emit(store, "order.paid", R"({"n":2})");
  cli(store, {"dispatch", "--until-idle"});
  answer = 410;
  emit(store, "order.paid", R"({"n":3})");
  cli(store, {"dispatch", "--until-idle"});

  std::map<std::string, json> seen;
  for (const auto& req : pager.requests()) {
    auto body = json::parse(req.body);
    seen[body["type"]] = body["data"];
  }
  REQUIRE(seen.count("centrali.delivery.exhausted"));
  CHECK(seen["centrali.delivery.exhausted"]["webhook_id"] == hook.id);
  CHECK(seen["centrali.delivery.exhausted"]["last_error"] == "HTTP 500");
  REQUIRE(seen.count("centrali.webhook.recovered"));
  CHECK(seen["centrali.webhook.recovered"]["name"] == "erp");
  REQUIRE(seen.count("centrali.webhook.disabled"));
  CHECK_THAT(seen["centrali.webhook.disabled"]["reason"].get<std::string>(), Catch::Contains("410 Gone"));
  // Three changes, three events: none about the failing subscriber's own deliveries.
  auto events = cli_json(store, {"events", "list", "--type", "centrali.*", "--limit", "0"});
  CHECK(events.size() == 3);
  CHECK(pager.requests().size() == 3);
  CHECK(everything.requests().size() == 3);  // the three order.paid events
  for (const auto& req : everything.requests()) CHECK(json::parse(req.body)["type"] == "order.paid");
}

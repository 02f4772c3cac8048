// Binary tests of `centrali send` and `centrali fixtures`: events sent as
// their providers send them, to a real listener (whose own verification
// is the judge), straight into a store, or to a receiver that checks the
// signature independently.
#include <catch2/catch.hpp>

#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "independent_signatures.hpp"
#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

const std::string k_standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

void add_every_provider(const std::string& store)
{
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  cli_ok(store, {"sources", "add", "standard", "--provider", "standard", "--secret", k_standard_secret});
  cli_ok(store, {"sources", "add", "clerk", "--provider", "clerk", "--secret", k_standard_secret});
  cli_ok(store, {"sources", "add", "github", "--provider", "github", "--secret", "It's a Secret to Everybody"});
  cli_ok(store, {"sources", "add", "shopify", "--provider", "shopify", "--secret", "shpss_test"});
  cli_ok(store, {"sources", "add", "slack", "--provider", "slack", "--secret", "8f742231b10e8888abcd99yyyzzz85a5"});
  cli_ok(store, {"sources", "add", "twilio", "--provider", "twilio", "--secret", "12345"});
}

} // namespace

TEST_CASE("send --source delivers every built-in fixture through the listener, which verifies and stores it", "[cli][send]")
{
  TempDir dir;
  auto store = dir.store();
  add_every_provider(store);
  Listen l(store);
  auto fixtures = cli_json(store, {"fixtures", "list"});
  REQUIRE(fixtures.size() >= 17);
  for (const auto& f : fixtures) {
    const auto provider = f["provider"].get<std::string>();
    if (provider == "none") continue;
    INFO(provider << " " << f["name"]);
    auto sent = cli_json(store, {"send", "--source", provider, "--fixture", f["name"].get<std::string>()});
    REQUIRE(sent.size() == 1);
    CHECK(sent[0]["ok"] == true);
    CHECK_THAT(sent[0]["to"].get<std::string>(), Catch::StartsWith(l.url()));
    // The listener typed it as the fixture says.
    auto stored = cli_json(store, {"events", "list", "--source", provider, "--limit", "1"});
    REQUIRE(stored.size() == 1);
    CHECK(stored[0]["status"] == "accepted");
    CHECK(stored[0]["type"] == f["event_type"]);
    CHECK(sent[0]["event_type"] == f["event_type"]);
  }
}

TEST_CASE("send --source with no listener goes straight into the store - dispatch forwards it afterwards", "[cli][send]")
{
  TempDir dir;
  auto store = dir.store();
  std::mutex mutex;
  std::vector<httplib::Request> got;
  httplib::Server app;
  app.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    got.push_back(req);
    res.status = stripe_valid("whsec_test_secret", req.get_header_value("Stripe-Signature"), req.body, 5) ? 200 : 400;
  });
  int port = app.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { app.listen_after_bind(); });
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret", "--forward-to",
                 "http://127.0.0.1:" + std::to_string(port) + "/hook"});

  auto sent = cli_json(store, {"send", "--source", "stripe", "--fixture", "invoice.paid", "--set", "data.object.amount_paid=5000"});
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["to"] == "store");
  CHECK(sent[0]["status"] == 202);
  auto event_id = sent[0]["response"]["id"].get<std::string>();
  CHECK(cli_json(store, {"events", "show", event_id})["status"] == "accepted");

  auto dispatched = centrali({"--store", store, "dispatch", "--until-idle"});
  INFO(dispatched.err);
  CHECK(dispatched.exit_code == 0);
  app.stop();
  serving.join();
  REQUIRE(got.size() == 1);
  auto body = json::parse(got[0].body);
  CHECK(body["type"] == "invoice.paid");
  CHECK(body["data"]["object"]["amount_paid"] == 5000);
  CHECK(body["id"] == sent[0]["delivery_id"]);
}

TEST_CASE("send --duplicate sends one delivery id twice - the second is stored as a duplicate", "[cli][send]")
{
  TempDir dir;
  auto store = dir.store();
  add_every_provider(store);
  Listen l(store);
  auto sent = cli_json(store, {"send", "--source", "github", "--fixture", "push", "--duplicate"});
  REQUIRE(sent.size() == 2);
  CHECK(sent[0]["delivery_id"] == sent[1]["delivery_id"]);
  CHECK(sent[0]["status"] == 202);
  CHECK(sent[1]["status"] == 200);
  CHECK(sent[1]["response"]["status"] == "duplicate");
  CHECK(cli_json(store, {"events", "list", "--status", "duplicate"}).size() == 1);

  // --repeat makes fresh ids; --id fixes one.
  auto fresh = cli_json(store, {"send", "--source", "stripe", "--fixture", "charge.refunded", "--repeat", "3"});
  REQUIRE(fresh.size() == 3);
  CHECK(fresh[0]["delivery_id"] != fresh[1]["delivery_id"]);
  auto fixed = cli_json(store, {"send", "--source", "stripe", "--fixture", "charge.refunded", "--repeat", "2", "--id", "evt_same"});
  CHECK(fixed[1]["response"]["status"] == "duplicate");

  // --data without an id: Stripe events always have one, so it gets one.
  auto data = cli_json(store, {"send", "--source", "stripe", "--data", R"({"type":"x.y"})", "--duplicate"});
  CHECK_THAT(data[0]["delivery_id"].get<std::string>(), Catch::StartsWith("evt_"));
  CHECK(data[1]["response"]["status"] == "duplicate");
  // A header the signature or the delivery id sets is not the caller's.
  auto clash = cli(store, {"send", "--source", "standard", "--fixture", "order.created", "--header", "webhook-id: foo"});
  CHECK(clash.exit_code == 2);
  CHECK_THAT(clash.err, Catch::Contains("--id"));
}

TEST_CASE("send --as posts anywhere with the provider's headers, verified independently", "[cli][send]")
{
  std::mutex mutex;
  std::vector<httplib::Request> got;
  httplib::Server app;
  app.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    got.push_back(req);
    bool ok = standard_webhooks_valid(k_standard_secret, req.get_header_value("webhook-id"),
                                      req.get_header_value("webhook-timestamp"),
                                      req.get_header_value("webhook-signature"), req.body, 5);
    res.status = ok ? 204 : 401;
  });
  int port = app.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { app.listen_after_bind(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  TempDir dir;
  auto ok = centrali({"--store", dir.store(), "send", "--as", "standard", "--secret", k_standard_secret, "--to", url,
                      "--data", R"({"type":"order.created","data":{"id":"ord_1"}})", "--header", "X-Tenant: acme"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  auto wrong = centrali({"--store", dir.store(), "send", "--as", "standard", "--secret",
                         "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "--to", url, "--data", "{}"});
  CHECK(wrong.exit_code == 1);  // answered 401
  app.stop();
  serving.join();
  REQUIRE(got.size() == 2);
  CHECK(got[0].get_header_value("X-Tenant") == "acme");
  CHECK(got[0].get_header_value("Content-Type") == "application/json");
  CHECK(json::parse(got[0].body)["data"]["id"] == "ord_1");
  auto unreachable = centrali({"send", "--as", "standard", "--secret", k_standard_secret, "--to", url, "--data", "{}"});
  CHECK(unreachable.exit_code == 5);
}

TEST_CASE("fixtures list and show - a user's fixture in the store folder adds to or replaces the built-in ones", "[cli][send]")
{
  TempDir dir;
  auto store = dir.str("proj/.centrali/centrali.db");
  std::filesystem::create_directories(dir.str("proj/.centrali/fixtures"));
  {
    std::ofstream(dir.str("proj/.centrali/fixtures/refund.json"))
        << R"({"name":"order.refunded","provider":"standard","body":{"type":"order.refunded","data":{"id":"{{id:ord}}"}}})";
  }
  auto listed = cli_json(store, {"fixtures", "list", "--provider", "standard"});
  REQUIRE(listed.size() == 2);
  bool found = false;
  for (const auto& f : listed)
    if (f["name"] == "order.refunded") {
      found = true;
      CHECK(f["event_type"] == "order.refunded");
      CHECK_THAT(f["origin"].get<std::string>(), Catch::EndsWith("refund.json"));
    }
  CHECK(found);
  {
    // As `fixtures show X > .centrali/fixtures/y.json` leaves it while it runs.
    std::ofstream(dir.str("proj/.centrali/fixtures/being-written.json"));
  }
  auto shown = centrali({"--store", store, "fixtures", "show", "invoice.paid"});
  REQUIRE(shown.exit_code == 0);
  CHECK(json::parse(shown.out)["body"]["id"] == "{{id:evt}}");  // placeholders as written

  cli_ok(store, {"sources", "add", "std", "--provider", "standard", "--secret", k_standard_secret});
  auto sent = cli_json(store, {"send", "--source", "std", "--fixture", "order.refunded"});
  CHECK(sent[0]["status"] == 202);
  auto body = cli_json(store, {"events", "show", sent[0]["response"]["id"].get<std::string>()})["body"].get<std::string>();
  CHECK_THAT(body, Catch::Contains("\"ord_"));  // filled in

  auto unknown = centrali({"--store", store, "send", "--source", "std", "--fixture", "nope"});
  CHECK(unknown.exit_code == 3);
  CHECK_THAT(unknown.err, Catch::Contains("order.created"));  // lists what there is
  {
    std::ofstream(dir.str("proj/.centrali/fixtures/broken.json")) << R"({"name":"x","provider":"stripe"})";
  }
  auto broken = centrali({"--store", store, "fixtures", "list"});
  CHECK(broken.exit_code == 2);
  CHECK_THAT(broken.err, Catch::Contains("broken.json"));
  CHECK_THAT(broken.err, Catch::Contains("\"body\" is missing"));
}

// Binary tests of forwards and replays signed again: the app under
// development checks the provider's signature with a timestamp tolerance,
// so an attempt minutes (or a day) after the event must carry a fresh one.
// The receivers here check signatures independently (OpenSSL), with a
// tolerance far shorter than the delays involved.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "wait.hpp"
#include "independent_signatures.hpp"
#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

const std::string k_stripe_secret = "whsec_test_secret";
const std::string k_standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The app: answers 503 to its first `down` requests, then 200 to a request
// whose signature verifies within `tolerance_s`, else 400.
class App {
public:
  App(std::function<bool(const httplib::Request&)> valid, int down = 0) : m_valid(std::move(valid)), m_down(down)
  {
    m_server.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      m_got.push_back(req);
      if (m_down > 0) {
        --m_down;
        res.status = 503;
      } else {
        res.status = m_valid(req) ? 200 : 400;
      }
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    REQUIRE(testing::wait_until([this] { return m_server.is_running(); }, std::chrono::seconds(20), std::chrono::milliseconds(1)));  // see HttplibServer
  }
  ~App()
  {
    m_server.stop();
    m_thread.join();
  }
  std::string url(const std::string& path = "/hook") const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }
  std::vector<httplib::Request> got()
  {
    std::lock_guard lock(m_mutex);
    return m_got;
  }

private:
  std::function<bool(const httplib::Request&)> m_valid;
  int m_down;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  std::vector<httplib::Request> m_got;
};

bool stripe_ok(const httplib::Request& req, long long tolerance_s)
{
  return stripe_valid(k_stripe_secret, req.get_header_value("Stripe-Signature"), req.body, tolerance_s);
}

// An accepted Standard Webhooks event received a day ago, as `events export`
// writes it, with the signature its sender made then.
std::string day_old_fixture(const std::string& body)
{
  const auto day_ago = std::to_string(std::time(nullptr) - 86'400);
  auto signed_then = centrali({"sign", "--scheme", "standard", "--secret", k_standard_secret, "--id", "msg_day_old",
                               "--timestamp", day_ago, "--data", body});
  REQUIRE(signed_then.exit_code == 0);
  json headers = json::array({json::array({"Content-Type", "application/json"})});
  std::size_t start = 0;
  while (start < signed_then.out.size()) {
    auto end = signed_then.out.find('\n', start);
    auto line = signed_then.out.substr(start, end - start);
    auto colon = line.find(": ");
    if (colon != std::string::npos) headers.push_back(json::array({line.substr(0, colon), line.substr(colon + 2)}));
    start = end + 1;
  }
  json e = {{"id", "evt_01J00000000000000000000DAY"}, {"source", "std"},    {"type", "invoice.paid"},
            {"status", "accepted"},                 {"headers", headers}, {"body", body},
            {"received_at", "2026-01-01T00:00:00Z"}};
  return e.dump() + "\n";
}

} // namespace

TEST_CASE("a forward retried past the app's tolerance is accepted: every attempt is signed afresh", "[cli][resign]")
{
  TempDir dir;
  auto store = dir.store();
  // Down for two attempts (retried after 1 s and 2 s); the app allows 1 s.
  App app([](const httplib::Request& req) { return stripe_ok(req, 1); }, 2);
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", k_stripe_secret, "--forward-to", app.url()});
  Listen l(store);
  const std::string body = R"({"id":"evt_1","object":"event","type":"invoice.paid"})";
  CHECK(post(l.url(), "/ingest/stripe", body, sign("stripe", k_stripe_secret, body)).status == 202);

  json delivery;
  for (int i = 0; i < 150 && (delivery.is_null() || delivery["status"] == "pending"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto list = cli_json(store, {"deliveries", "list"});
    if (!list.empty()) delivery = list[0];
  }
  REQUIRE(delivery["status"] == "succeeded");
  auto got = app.got();
  REQUIRE(got.size() == 3);
  CHECK(got[2].body == body);  // the bytes as the provider sent them
  CHECK(got[0].get_header_value("Stripe-Signature") != got[2].get_header_value("Stripe-Signature"));
  auto shown = cli_json(store, {"deliveries", "show", delivery["id"].get<std::string>()});
  for (const auto& a : shown["attempt_log"]) CHECK(a["signature"] == "re-signed (stripe, fresh timestamp)");
}

TEST_CASE("events replay of a day-old event is signed afresh - --keep-signature sends the stored headers byte for byte", "[cli][resign]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "std", "--provider", "standard", "--secret", k_standard_secret});
  const std::string body = R"({"type":"invoice.paid","data":{"amount":100}})";
  {
    std::ofstream(dir.str("old.ndjson")) << day_old_fixture(body);
  }
  cli_ok(store, {"events", "import", dir.str("old.ndjson")});
  App app([&](const httplib::Request& req) {
    return standard_webhooks_valid(k_standard_secret, req.get_header_value("webhook-id"),
                                   req.get_header_value("webhook-timestamp"), req.get_header_value("webhook-signature"),
                                   req.body, 300);
  });

  auto replayed = cli_json(store, {"events", "replay", "evt_01J00000000000000000000DAY", "--to", app.url()});
  CHECK(replayed[0]["ok"] == true);
  CHECK(replayed[0]["signature"] == "re-signed (standard, fresh timestamp)");

  auto kept = centrali({"--store", store, "events", "replay", "evt_01J00000000000000000000DAY", "--to", app.url(),
                        "--keep-signature"});
  CHECK(kept.exit_code == 1);  // the app refuses the day-old timestamp, as its library would
  auto got = app.got();
  REQUIRE(got.size() == 2);
  CHECK(got[0].get_header_value("webhook-id") == "msg_day_old");  // the provider's id, for the app's dedupe
  CHECK(got[0].body == body);
  auto stored = cli_json(store, {"events", "show", "evt_01J00000000000000000000DAY"});
  for (const auto& h : stored["headers"])
    if (h[0] != "Content-Type") CHECK(got[1].get_header_value(h[0].get<std::string>()) == h[1]);
}

TEST_CASE("events replay --set edits the body and signs it again, and filters replay oldest first", "[cli][resign]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", k_stripe_secret});
  {
    Listen l(store);
    for (const char* id : {"evt_a", "evt_b"}) {
      const std::string body = std::string(R"({"id":")") + id + R"(","type":"invoice.paid","data":{"object":{"amount":100}}})";
      CHECK(post(l.url(), "/ingest/stripe", body, sign("stripe", k_stripe_secret, body)).status == 202);
    }
    CHECK(post(l.url(), "/ingest/stripe", "{}", {{"Stripe-Signature", "t=1,v1=00"}}).status == 401);
  }
  App app([](const httplib::Request& req) { return stripe_ok(req, 5); });
  auto all = cli_json(store, {"events", "replay", "--source", "stripe", "--to", app.url(), "--set", "data.object.amount=5000"});
  REQUIRE(all.size() == 2);  // accepted ones only
  auto got = app.got();
  REQUIRE(got.size() == 2);
  CHECK(json::parse(got[0].body)["id"] == "evt_a");
  CHECK(json::parse(got[1].body)["id"] == "evt_b");
  CHECK(json::parse(got[0].body)["data"]["object"]["amount"] == 5000);
  CHECK(all[0]["ok"] == true);
  CHECK(all[0]["signature"] == "re-signed (stripe, edited body)");

  auto both = centrali({"--store", store, "events", "replay", "evt_a", "--source", "stripe", "--to", app.url()});
  CHECK(both.exit_code == 2);
  auto none = centrali({"--store", store, "events", "replay", "--type", "nothing.*", "--to", app.url()});
  CHECK(none.exit_code == 3);
  auto contradiction = centrali({"--store", store, "events", "replay", "--source", "stripe", "--to", app.url(),
                                 "--set", "a=1", "--keep-signature"});
  CHECK(contradiction.exit_code == 2);
}

TEST_CASE("sign --source signs with the stored source's scheme and secret", "[cli][resign]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", k_stripe_secret});
  auto by_source = centrali({"--store", store, "sign", "--source", "stripe", "--timestamp", "1700000000", "--data", "{}"});
  auto by_hand = centrali({"sign", "--scheme", "stripe", "--secret", k_stripe_secret, "--timestamp", "1700000000", "--data", "{}"});
  REQUIRE(by_source.exit_code == 0);
  CHECK(by_source.out == by_hand.out);
  CHECK(centrali({"--store", store, "sign", "--source", "nope", "--data", "{}"}).exit_code == 3);
  CHECK(centrali({"--store", store, "sign", "--source", "stripe", "--scheme", "github", "--data", "{}"}).exit_code == 2);
}

TEST_CASE("a refused request is never signed again - a replay sends it as it came", "[cli][resign]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", k_stripe_secret});
  std::string id;
  {
    Listen l(store);
    const std::string forged = R"({"id":"evt_forged","type":"charge.refunded","data":{"object":{"amount":999999}}})";
    auto answer = post(l.url(), "/ingest/stripe", forged, {{"Stripe-Signature", "t=1796615000,v1=deadbeef"}});
    REQUIRE(answer.status == 401);
  }
  id = cli_json(store, {"events", "list", "--status", "rejected"})[0]["id"].get<std::string>();
  App app([](const httplib::Request& req) { return stripe_ok(req, 300); });
  auto replayed = cli(store, {"--json", "events", "replay", id, "--to", app.url()});
  CHECK(replayed.exit_code == 1);  // the app refuses it, as it should
  auto edited = cli(store, {"--json", "events", "replay", id, "--to", app.url(), "--set", "data.object.amount=1"});
  CHECK(edited.exit_code == 1);
  REQUIRE(app.got().size() == 2);
  for (const auto& req : app.got()) CHECK(req.get_header_value("Stripe-Signature") == "t=1796615000,v1=deadbeef");
  CHECK(json::parse(replayed.out)[0]["signature"] == "original (refused when received: not signed again)");
}

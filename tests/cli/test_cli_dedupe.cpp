// Binary tests of dedupe (README, "Dedupe"): for every provider, a signed
// request sent twice through a real listener is stored once, the repeat is
// answered 200 {"status":"duplicate","id":<original>} and kept as a
// duplicate, and a request with another delivery id is a new event.
#include <catch2/catch.hpp>

#include <functional>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string body;
  Headers headers;
};

struct Case {
  std::string source;    // also the provider, except where `provider` says
  std::string provider;
  std::string secret;    // empty for `none`
  std::string content_type;
  // The provider's request carrying delivery id `id`, signed for `url`.
  std::function<Request(const std::string& id, const std::string& url)> make;
};

const std::string k_standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

Headers with(Headers signed_headers, const Headers& extra)
{
  signed_headers.insert(signed_headers.end(), extra.begin(), extra.end());
  return signed_headers;
}

std::vector<Case> every_provider()
{
  const std::string json_type = "application/json";
  return {
      {"stripe", "stripe", "whsec_test_secret", json_type,
       [](const std::string& id, const std::string&) {
         auto body = R"({"id":")" + id + R"(","object":"event","type":"invoice.paid"})";
         return Request{body, sign("stripe", "whsec_test_secret", body)};
       }},
      {"github", "github", "It's a Secret to Everybody", json_type,
       [](const std::string& id, const std::string&) {
         std::string body = R"({"action":"opened","id":"same-body-id"})";
         return Request{body, with(sign("github", "It's a Secret to Everybody", body),
                                   {{"X-GitHub-Event", "issues"}, {"X-GitHub-Delivery", id}})};
       }},
      {"shopify", "shopify", "shpss_test_secret", json_type,
       [](const std::string& id, const std::string&) {
         std::string body = R"({"id":820982911946154508})";
         return Request{body, with(sign("shopify", "shpss_test_secret", body),
                                   {{"X-Shopify-Topic", "orders/create"}, {"X-Shopify-Event-Id", id}})};
       }},
      {"shopify-legacy", "shopify", "shpss_test_secret", json_type,
       [](const std::string& id, const std::string&) {
         std::string body = R"({"id":820982911946154508})";
         return Request{body, with(sign("shopify", "shpss_test_secret", body),
                                   {{"X-Shopify-Topic", "orders/create"}, {"X-Shopify-Webhook-Id", id}})};
       }},
      {"slack", "slack", "8f742231b10e8888abcd99yyyzzz85a5", json_type,
       [](const std::string& id, const std::string&) {
         auto body = R"({"type":"event_callback","event_id":")" + id + R"(","event":{"type":"app_mention"}})";
         return Request{body, sign("slack", "8f742231b10e8888abcd99yyyzzz85a5", body)};
       }},
      {"standard", "standard", k_standard_secret, json_type,
       [](const std::string& id, const std::string&) {
         std::string body = R"({"type":"order.created","id":"same-body-id"})";
         return Request{body, sign("standard", k_standard_secret, body, {"--id", id})};
       }},
      {"svix", "svix", k_standard_secret, json_type,
       [](const std::string& id, const std::string&) {
         std::string body = R"({"type":"message.sent"})";
         return Request{body, sign("svix", k_standard_secret, body, {"--id", id})};
       }},
      {"clerk", "clerk", k_standard_secret, json_type,
       [](const std::string& id, const std::string&) {
         std::string body = R"({"type":"user.created","data":{}})";
         return Request{body, sign("clerk", k_standard_secret, body, {"--id", id})};
       }},
      {"twilio", "twilio", "12345", "application/x-www-form-urlencoded",
       [](const std::string& id, const std::string& url) {
         std::string body = "CallSid=CA123&From=%2B14158675309&To=%2B18005551212";
         return Request{body, with(sign("twilio", "12345", body, {"--url", url + "/ingest/twilio"}),
                                   {{"I-Twilio-Idempotency-Token", id}})};
       }},
      {"open-idempotency", "none", "", "text/plain",
       [](const std::string& id, const std::string&) {
         return Request{"plain text", {{"Idempotency-Key", id}}};
       }},
      {"open-webhook-id", "none", "", "text/plain",
       [](const std::string& id, const std::string&) { return Request{"plain text", {{"webhook-id", id}}}; }},
  };
}

void add_source(const std::string& store, const Case& c)
{
  std::vector<std::string> args{"sources", "add", c.source, "--provider", c.provider};
  if (!c.secret.empty()) args.insert(args.end(), {"--secret", c.secret});
  cli_ok(store, args);
}

json events_of(const std::string& store, const std::string& source, const std::string& status)
{
  return cli_json(store, {"events", "list", "--source", source, "--status", status, "--limit", "0"});
}

} // namespace

TEST_CASE("every provider's delivery id dedupes: a repeat is answered with the original and stored as a duplicate",
          "[cli][ingest][dedupe]")
{
  TempDir dir;
  auto store = dir.store();
  auto cases = every_provider();
  for (const auto& c : cases) add_source(store, c);
  Listen l(store);
  for (const auto& c : cases) {
    INFO("source " << c.source);
    auto first = c.make("dlv-" + c.source + "-1", l.url());
    auto accepted = post(l.url(), "/ingest/" + c.source, first.body, first.headers, c.content_type);
    INFO(accepted.body);
    REQUIRE(accepted.status == 202);
    auto original = json::parse(accepted.body);
    REQUIRE(original["status"] == "queued");
    const auto original_id = original["id"].get<std::string>();

    // The same request again, byte for byte, as a provider retrying would.
    for (int repeat = 0; repeat < 2; ++repeat) {
      auto again = post(l.url(), "/ingest/" + c.source, first.body, first.headers, c.content_type);
      INFO(again.body);
      CHECK(again.status == 200);
      CHECK(json::parse(again.body) == json{{"status", "duplicate"}, {"id", original_id}});
    }

    // Another delivery id is another event, even with the same body.
    auto second = c.make("dlv-" + c.source + "-2", l.url());
    auto other = post(l.url(), "/ingest/" + c.source, second.body, second.headers, c.content_type);
    INFO(other.body);
    CHECK(other.status == 202);
    CHECK(json::parse(other.body)["id"] != original_id);

    auto stored = events_of(store, c.source, "accepted");
    CHECK(stored.size() == 2);
    auto duplicates = events_of(store, c.source, "duplicate");
    REQUIRE(duplicates.size() == 2);
    for (const auto& d : duplicates) CHECK(d["duplicate_of"] == original_id);
  }
}

TEST_CASE("dedupe is per source: one delivery id at two sources is two events", "[cli][ingest][dedupe]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "a", "--provider", "standard", "--secret", k_standard_secret});
  cli_ok(store, {"sources", "add", "b", "--provider", "standard", "--secret", k_standard_secret});
  Listen l(store);
  std::string body = R"({"type":"order.created"})";
  auto headers = sign("standard", k_standard_secret, body, {"--id", "msg_shared"});
  CHECK(post(l.url(), "/ingest/a", body, headers).status == 202);
  CHECK(post(l.url(), "/ingest/b", body, headers).status == 202);
  CHECK(post(l.url(), "/ingest/b", body, headers).status == 200);
  CHECK(events_of(store, "a", "accepted").size() == 1);
  CHECK(events_of(store, "b", "accepted").size() == 1);
}

TEST_CASE("a request without a delivery id is never taken for a duplicate", "[cli][ingest][dedupe]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  Listen l(store);
  for (int i = 0; i < 3; ++i) {
    auto sent = post(l.url(), "/ingest/open", "same bytes", {}, "text/plain");
    CHECK(sent.status == 202);
  }
  CHECK(events_of(store, "open", "accepted").size() == 3);
  CHECK(events_of(store, "open", "duplicate").empty());
}

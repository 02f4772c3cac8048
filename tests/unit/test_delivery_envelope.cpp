#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "centrali/delivery/webhook_request.hpp"
#include "centrali/signatures/signatures.hpp"

using namespace centrali;
using nlohmann::json;

namespace {

store::Event event_with_body(std::string body)
{
  store::Event e;
  e.id = "evt_1";
  e.type = "order.created";
  e.received_ms = 1'795'000'000'000;
  e.body = std::move(body);
  return e;
}

} // namespace

TEST_CASE("delivery::envelope_body carries a JSON body as the sender's bytes", "[delivery]")
{
  // Key order, number spelling and escapes are the sender's, not a re-serialisation.
  const std::string body = R"({"z":1,"a":1.50,"big":12345678901234567890,"s":"\u00e9"})";
  auto envelope = delivery::envelope_body(event_with_body("\n  " + body + "\r\n"));
  CHECK(envelope == R"({"type":"order.created","timestamp":"2026-11-18T11:06:40Z","data":)" + body + "}");
  auto parsed = json::parse(envelope);
  CHECK(parsed["data"]["s"] == "\u00e9");
  // A byte order mark before the JSON is not carried into the envelope.
  CHECK(delivery::envelope_body(event_with_body("\xEF\xBB\xBF" + body)) ==
        R"({"type":"order.created","timestamp":"2026-11-18T11:06:40Z","data":)" + body + "}");
}

TEST_CASE("delivery::envelope_body carries text as a string and other bytes as base64", "[delivery]")
{
  auto text = json::parse(delivery::envelope_body(event_with_body("a=1&b=2")));
  CHECK(text["data"] == "a=1&b=2");
  CHECK_FALSE(text.contains("dataEncoding"));
  CHECK(json::parse(delivery::envelope_body(event_with_body("")))["data"] == "");
  CHECK(json::parse(delivery::envelope_body(event_with_body(R"({"a":1} trailing)")))["data"] == R"({"a":1} trailing)");
  // Bytes that are not UTF-8 arrive unchanged, as base64 marked as such.
  auto binary = json::parse(delivery::envelope_body(event_with_body("caf\xe9")));
  CHECK(binary["data"] == "Y2Fm6Q==");
  CHECK(binary["dataEncoding"] == "base64");
  const std::string all_bytes = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
    return s;
  }();
  CHECK(json::parse(delivery::envelope_body(event_with_body(all_bytes)))["dataEncoding"] == "base64");
  // An event type needing escapes stays valid JSON.
  auto e = event_with_body("{}");
  e.type = "a\"b\\c\n";
  CHECK(json::parse(delivery::envelope_body(e))["type"] == "a\"b\\c\n");
}

TEST_CASE("delivery::webhook_request signs the exact envelope bytes it sends", "[delivery]")
{
  store::Webhook w;
  w.id = "whk_1";
  w.url = "http://127.0.0.1:9/hook";
  w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  w.timeout_ms = 1000;
  const auto envelope = delivery::envelope_body(event_with_body(R"({"b":2,"a":1})"));
  delivery::WebhookRequestInput in;
  in.webhook = &w;
  in.delivery_id = "dlv_1";
  in.event_type = "order.created";
  in.body = envelope;
  in.now_ms = 1'795'000'000'000;
  auto req = delivery::webhook_request(in);
  REQUIRE(req);
  CHECK(req->body == in.body);
  auto expected = sig::standard_v1_signature(w.secret, "dlv_1", in.now_ms / 1000, in.body);
  REQUIRE(expected);
  const std::string* sent = find_header(req->headers, "webhook-signature");
  REQUIRE(sent);
  CHECK(*sent == *expected);
}

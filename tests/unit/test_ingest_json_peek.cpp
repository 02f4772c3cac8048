// The ingestion JSON scanner must accept exactly what nlohmann::json accepts
// and pick out the same fields, since it decides 400 invalid_json and the
// event type of every ingested request.
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "centrali/ingest/json_peek.hpp"

using centrali::ingest::peek_json;
using json = nlohmann::json;

namespace {

std::string field(const json& j, const char* name)
{
  if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return {};
  return j[name].get<std::string>();
}

// The scanner against a full parse of the same bytes.
void check_same(const std::string& text)
{
  CAPTURE(text);
  auto peek = peek_json(text);
  auto doc = json::parse(text, nullptr, false);
  REQUIRE(peek.valid == !doc.is_discarded());
  if (!peek.valid) return;
  CHECK(peek.is_object == doc.is_object());
  CHECK(peek.type == field(doc, "type"));
  CHECK(peek.id == field(doc, "id"));
  CHECK(peek.action == field(doc, "action"));
  CHECK(peek.event_id == field(doc, "event_id"));
  std::string event_type;
  if (doc.is_object() && doc.contains("event")) event_type = field(doc["event"], "type");
  CHECK(peek.event_type == event_type);
}

} // namespace

TEST_CASE("json peek: fields of GitHub, Stripe and Slack shaped bodies, escapes decoded")
{
  auto p = peek_json(R"({"action":"opened","type":"t\u00e9st \ud83d\ude00\n","id":"evt_1","event_id":"Ev1",)"
                     R"("event":{"user":{"type":"nested"},"type":"app_mention"}})");
  REQUIRE(p.valid);
  CHECK(p.is_object);
  CHECK(p.action == "opened");
  CHECK(p.type == "t\xc3\xa9st \xf0\x9f\x98\x80\n");
  CHECK(p.id == "evt_1");
  CHECK(p.event_id == "Ev1");
  CHECK(p.event_type == "app_mention");
  // Only top-level fields count.
  auto nested = peek_json(R"({"data":{"type":"inner","id":"x"},"list":[{"type":"y"}]})");
  CHECK(nested.valid);
  CHECK(nested.type.empty());
  CHECK(nested.id.empty());
}

TEST_CASE("json peek: accepts and refuses exactly what nlohmann::json does")
{
  const std::vector<std::string> cases = {
      "", " ", "{}", "[]", "[1,2]", "{\"a\":1}", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\"}", "{\"a\":}",
      "{\"a\" 1}", "{1:2}", "01", "-0", "-01", "1.", ".5", "1.5e", "1e+", "1E-7", "-", "+1", "1e400", "-1e400", "1e-400", "1.7976931348623157e308", "1.8e308", std::string(400, '9'),
      "123456789012345678901234567890", "true", "tru", "truex", "nul", "null ", " null", "NaN", "Infinity",
      "'a'", "\"a\"", "\"a", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"",
      "\"\\ud800\\u0041\"", "\"\\ud800\\udc00\"", "\"\\u0000\"", std::string("\"a\x01\""), std::string("\"\x7f\""),
      "\"\xc3\xa9\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf0\x9f\x98\x80\"",
      "\"\xe0\x80\xaf\"", "\"\xc3\"", "\"\xff\"", "\xef\xbb\xbf{}", "\xef\xbb{}", "{} x", "{}{}", "[1] ", "\t[\r\n]\n",
      "{\"type\":\"a\",\"type\":\"b\"}", "{\"type\":1}", "{\"type\":\"a\",\"type\":1}",
      "{\"event\":{\"type\":\"a\",\"type\":[]}}", "{\"event\":[{\"type\":\"x\"}]}", "{\"event\":\"s\"}",
      "[{\"type\":\"x\"}]", "{\"event\":{\"type\":\"a\"},\"event\":{\"kind\":1}}", std::string("{\"a\":\"\0\"}", 9),
  };
  for (const auto& c : cases) check_same(c);
}

TEST_CASE("json peek: deep nesting is handled without recursion")
{
  std::string deep(200000, '[');
  CHECK_FALSE(peek_json(deep).valid);
  deep += std::string(200000, ']');
  CHECK(peek_json(deep).valid);
}

TEST_CASE("json peek: random mutations of real bodies agree with nlohmann::json")
{
  const std::vector<std::string> seeds = {
      R"({"action":"opened","number":1347,"issue":{"id":1,"title":"Found a bug","labels":[{"name":"bug"}]},"sender":{"login":"octocat"}})",
      R"({"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000,"currency":"usd","ok":true,"n":null,"f":-1.5e3}}})",
      R"({"token":"x","team_id":"T1","event":{"type":"app_mention","user":"U1","text":"h\u00e9llo \"there\"","blocks":[]},"type":"event_callback","event_id":"Ev1"})",
      R"([1,"two",{"three":[3.0,-0,1e-2]},true,false,null,"\ud83d\ude00"])",
  };
  const std::string alphabet = "{}[],:\"\\ 0123456789.eE+-tfnrul\xc3\xa9\x80\xff\x01";
  std::mt19937 rng(20261127);
  int checked = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      std::size_t at = rng() % text.size();
      switch (rng() % 3) {
      case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
      case 1: text.erase(at, 1 + rng() % 3); break;
      default: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    check_same(text);
    ++checked;
  }
  CHECK(checked == 30000);
}

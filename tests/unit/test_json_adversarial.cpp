// Deeply nested and adversarial JSON fed through every path that parses or
// prints a body from the network: none may crash, throw, or hand on a
// document deeper than the bound (nlohmann's dump recurses per level).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "centrali/delivery/webhook_request.hpp"
#include "centrali/ingest/event_type.hpp"
#include "centrali/ingest/json_peek.hpp"
#include "centrali/ingest/providers.hpp"
#include "centrali/records/merge_patch.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/util/json_bounded.hpp"

using namespace centrali;

namespace {

std::string repeat(std::string_view unit, std::size_t n)
{
  std::string out;
  out.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// Hand-picked shapes, then random splices of JSON fragments and bytes.
std::vector<std::string> adversarial_bodies()
{
  std::vector<std::string> out = {
      repeat("[", 50'000) + repeat("]", 50'000),
      repeat("{\"a\":", 50'000) + "1" + repeat("}", 50'000),
      repeat("[{\"type\":", 30'000) + "\"x\"" + repeat("}]", 30'000),
      "{\"type\":" + repeat("[", 50'000),                     // unterminated
      repeat("[", 256) + repeat("]", 256),                     // at the bound
      repeat("[", 257) + repeat("]", 257),                     // one past it
      "{\"type\":\"a\\u0000b\\r\\n\\u001b[2J\"}",
      "{\"type\":\"\\ud800\"}",                               // lone surrogate
      "{\"type\":\"" + std::string(300'000, 'x') + "\"}",
      "{\"type\":\"a\",\"type\":\"b\",\"id\":1e99999}",
      std::string("\xEF\xBB\xBF{\"a\":1}"),                   // BOM
      std::string("{\"a\":\"\xff\xfe\"}"),                     // not UTF-8 inside a string
      std::string("{\"a\":1}\0junk", 12),
      "[\"" + repeat("\\\"[", 10'000) + "\"]",                // brackets inside a string
      "",
      "   ",
      "null",
      "-0.0e-0",
      "123456789012345678901234567890",
  };
  std::mt19937 rng(29);
  const std::vector<std::string> pieces = {"[", "]", "{", "}", "\"", "\\", ":", ",", "1", "\"k\"", "null",
                                           "\"type\"", "\xc3", "\x1b", "\r\n", "\x00", "true", " "};
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const auto n = std::uniform_int_distribution<int>(1, 2000)(rng);
    for (int j = 0; j < n; ++j) s += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(rng)];
    out.push_back(std::move(s));
  }
  return out;
}

// Deepest [ / { nesting outside strings, counted here by hand so the
// library's own counts (json_depth, the peek's depth) are checked against
// something they do not share code with.
std::size_t depth_by_hand(std::string_view text)
{
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace

TEST_CASE("adversarial JSON through peek, parse, trigger input, envelope, diagnosis and merge patch", "[util][ingest][triggers]")
{
  const auto bodies = adversarial_bodies();
  nlohmann::json previous = nlohmann::json::object();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const auto& body = bodies[i];
    INFO("body #" << i << " (" << body.size() << " bytes): " << body.substr(0, 80));

    auto peek = ingest::peek_json(body);
    auto type = ingest::event_type(ingest::Provider::stripe, {}, peek);
    CHECK(ingest::event_type_problem(type).empty());

    // Whether it parses is decided independently: nlohmann's own verdict,
    // no NUL byte, and the depth counted by hand.
    const auto depth = depth_by_hand(body);
    const bool should_parse = body.find('\0') == std::string::npos && depth <= k_max_json_depth &&
                              nlohmann::json::accept(body);
    auto parsed = parse_json(body);
    CHECK(parsed.is_discarded() == !should_parse);
    CHECK(peek.valid == (body.find('\0') == std::string::npos && nlohmann::json::accept(body)));
    if (!parsed.is_discarded()) {
      CHECK(peek.depth == depth);
      CHECK(json_depth(triggers::dump_json(parsed)) <= k_max_json_depth);
      CHECK_NOTHROW(previous = records::merge_patch(previous, parsed));
    }

    store::Event event;
    event.id = "evt_1";
    event.type = type;
    event.source = "local";
    event.body = body;
    std::string stdin_text;
    CHECK_NOTHROW(stdin_text = triggers::stdin_document(nlohmann::json::object(), triggers::event_params(event)));
    // What a function reads is always JSON (nlohmann's parser keeps its own stack).
    CHECK(nlohmann::json::accept(stdin_text));
    CHECK_NOTHROW(triggers::stdin_document(
        nlohmann::json::object(), triggers::request_params("POST", "/x", "/x?a=1", {{"X", "y"}}, body)));
    CHECK_NOTHROW(delivery::envelope_body(event));

    sig::VerifyInput in;
    in.scheme = sig::Scheme::standard;
    in.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    HeaderList headers{{"webhook-id", "msg_1"}, {"webhook-timestamp", "1614265330"}, {"webhook-signature", "v1,AAAA"}};
    in.headers = &headers;
    in.body = body;
    in.now_s = 1614265330;
    in.diagnose = sig::Diagnose::yes;
    sig::Verdict verdict;
    CHECK_NOTHROW(verdict = sig::verify(in));
    CHECK_FALSE(verdict.valid);
  }
  // The hand-picked shapes on either side of the bound are there.
  CHECK_FALSE(parse_json(bodies[4]).is_discarded());
  CHECK(parse_json(bodies[5]).is_discarded());
}

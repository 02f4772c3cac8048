#include <catch2/catch.hpp>

#include <random>
#include <vector>
#include <string>

#include <nlohmann/json.hpp>

#include "centrali/util/json_text.hpp"

using centrali::append_json_string;

namespace {

std::string json_string(std::string_view text)
{
  std::string out;
  append_json_string(out, text);
  return out;
}

// What the text reads back as, through a full JSON parser.
std::string read_back(const std::string& json)
{
  auto j = nlohmann::json::parse(json);
  REQUIRE(j.is_string());
  return j.get<std::string>();
}

} // namespace

TEST_CASE("append_json_string: plain text is copied, quotes, backslashes and controls are escaped", "[util]")
{
  CHECK(json_string("") == R"("")");
  CHECK(json_string("webhook-id") == R"("webhook-id")");
  CHECK(json_string(R"(say "hi" \ bye)") == R"("say \"hi\" \\ bye")");
  CHECK(json_string(std::string("a\nb\0c\x1f", 6)) == R"("a\u000ab\u0000c\u001f")");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac") == "\"caf\xc3\xa9 \xe2\x82\xac\"");  // UTF-8 as it is
  std::string out = "[";
  append_json_string(out, "x");
  CHECK(out == R"(["x")");  // appends
}

TEST_CASE("append_json_string: invalid UTF-8 becomes U+FFFD and the result always parses back", "[util]")
{
  CHECK(read_back(json_string("ok \xff\xfe end")) == "ok \xef\xbf\xbd\xef\xbf\xbd end");
  CHECK(read_back(json_string("cut \xe2\x82")) == "cut \xef\xbf\xbd");
  // Random bytes biased towards the interesting ones: every result parses,
  // and valid text (whatever it escapes) reads back unchanged.
  std::mt19937 rng(7);
  const std::string alphabet = std::string("ab\"\\\n\t\x01\x7f", 8) + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const auto n = rng() % 24;
    for (unsigned i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
    const auto json = json_string(text);
    auto parsed = nlohmann::json::parse(json, nullptr, false);
    INFO(json);
    REQUIRE(parsed.is_string());
    const auto expected = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    CHECK(parsed.get<std::string>() == nlohmann::json::parse(expected).get<std::string>());
  }
}

TEST_CASE("append_json_string: a byte that needs care is found at any place in long plain text", "[util]")
{
  // Plain text is scanned eight bytes at a time: put each kind of byte that
  // ends a plain run (quote, backslash, every control, the bytes of a UTF-8
  // sequence, an invalid byte) at every offset of the words around it.
  std::vector<std::string> specials = {"\"", "\\", "\xc3\xa9", "\xe2\x82\xac", "\xff", "\x7f", " ", "~"};
  for (int c = 0; c < 0x20; ++c) specials.push_back(std::string(1, static_cast<char>(c)));
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
  for (const auto& special : specials)
    for (std::size_t at = 0; at <= plain.size(); ++at) {
      const auto text = plain.substr(0, at) + special + plain.substr(at);
      const auto expected = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      INFO(expected);
      CHECK(nlohmann::json::parse(json_string(text)).get<std::string>() == nlohmann::json::parse(expected).get<std::string>());
      // Plain bytes come out as they went in; the rest are escaped or replaced.
      if (special == " " || special == "~" || special == "\x7f") CHECK(json_string(text) == '"' + text + '"');
    }
}

#include <catch2/catch.hpp>

#include <string>

#include "centrali/triggers/execution_params.hpp"
#include "centrali/util/json_bounded.hpp"

using namespace centrali;

namespace {

std::string nested(int levels, char open = '[', char close = ']')
{
  return std::string(static_cast<std::size_t>(levels), open) + std::string(static_cast<std::size_t>(levels), close);
}

} // namespace

TEST_CASE("util::json_depth counts brackets outside strings only", "[util]")
{
  CHECK(json_depth("1") == 0);
  CHECK(json_depth("{}") == 1);
  CHECK(json_depth(R"({"a":[{"b":[]}]})") == 4);
  CHECK(json_depth(R"({"a":"[[[[{{{{"})") == 1);
  CHECK(json_depth(R"({"a":"\"[[[["})") == 1);  // an escaped quote does not end the string
  CHECK(json_depth(nested(5000), 256) == 257);    // stops counting past the limit
}

TEST_CASE("util::parse_json refuses documents nested deeper than the bound", "[util]")
{
  CHECK_FALSE(parse_json(nested(k_max_json_depth)).is_discarded());
  CHECK(parse_json(nested(k_max_json_depth + 1)).is_discarded());
  CHECK(parse_json(nested(50'000, '{', '}')).is_discarded());
  CHECK(parse_ordered_json(nested(50'000)).is_discarded());
  CHECK(parse_json("{").is_discarded());
  CHECK(json_refusal(nested(300)) == "is nested deeper than 256 levels");
  CHECK(json_refusal("{") == "is not valid JSON");
}

TEST_CASE("triggers::event_params carries a body too deep to parse as text, without recursing", "[util][triggers]")
{
  // 50,000 levels: nlohmann's recursive dump() of the parsed document would
  // overflow the stack; as a string it is just 100 KB of text.
  store::Event e;
  e.id = "evt_1";
  e.type = "t";
  e.source = "s";
  e.body = nested(50'000);
  auto params = triggers::event_params(e);
  REQUIRE(params["event"]["data"].is_string());
  auto text = triggers::stdin_document(nlohmann::json::object(), params);
  CHECK(text.size() > 100'000);
}

TEST_CASE("util::parse_json refuses a NUL byte where nlohmann would stop reading", "[util]")
{
  const std::string text("{\"a\":1}\0junk", 12);
  CHECK(nlohmann::json::accept(text));  // the library's own reading
  CHECK(parse_json(text).is_discarded());
}

#include <catch2/catch.hpp>

#include "centrali/util/json_path.hpp"

using namespace centrali;
using ojson = nlohmann::ordered_json;

TEST_CASE("util::apply_json_assignment edits a field by path, keeping member order", "[util]")
{
  auto doc = ojson::parse(R"({"id":"evt_1","data":{"object":{"amount":100,"currency":"usd"}},"items":[{"q":1}]})");
  REQUIRE(apply_json_assignment(doc, "data.object.amount=5000"));
  REQUIRE(apply_json_assignment(doc, "items.0.q=2"));
  REQUIRE(apply_json_assignment(doc, "items.1={\"q\":3}"));
  REQUIRE(apply_json_assignment(doc, "data.object.metadata.order=ord_1"));  // made on the way
  REQUIRE(apply_json_assignment(doc, "livemode=false"));
  CHECK(doc.dump() == R"({"id":"evt_1","data":{"object":{"amount":5000,"currency":"usd","metadata":{"order":"ord_1"}}},)"
                      R"("items":[{"q":2},{"q":3}],"livemode":false})");
}

TEST_CASE("util::apply_json_assignment says which segment cannot be followed", "[util]")
{
  auto doc = ojson::parse(R"({"id":"evt_1","items":[1]})");
  auto into_string = apply_json_assignment(doc, "id.x=1");
  REQUIRE_FALSE(into_string);
  CHECK(into_string.error().message == "--set id.x: id is a string, not an object or array: cannot set 'x' in it");
  CHECK_FALSE(apply_json_assignment(doc, "items.5=1"));
  CHECK_FALSE(apply_json_assignment(doc, "items.x=1"));
  CHECK_FALSE(apply_json_assignment(doc, "novalue"));
  CHECK_FALSE(apply_json_assignment(doc, "a..b=1"));
}

TEST_CASE("util::parse_json_path refuses brackets and leading dots, which name no member of the document", "[util]")
{
  auto path = parse_json_path("data.items.0.sku");
  REQUIRE(path);
  CHECK(*path == std::vector<std::string>{"data", "items", "0", "sku"});
  auto brackets = parse_json_path("items[0].q");
  REQUIRE_FALSE(brackets);
  CHECK(brackets.error().message == "path 'items[0].q' has a bracket: array elements are segments too, e.g. items.0.sku");
  CHECK_FALSE(parse_json_path(".data"));
  CHECK_FALSE(parse_json_path("$.data"));
  CHECK(parse_json_path("$schema"));  // a member name that starts with '$' is fine
  CHECK(json_path_index("12") == std::optional<std::size_t>(12));
  CHECK_FALSE(json_path_index("1a"));
  // --set reads paths the same way: a bracket is refused, not made a member.
  auto doc = ojson::parse(R"({"items":[{"q":1}]})");
  CHECK_FALSE(apply_json_assignment(doc, "items[0].q=2"));
  CHECK(doc.dump() == R"({"items":[{"q":1}]})");
}

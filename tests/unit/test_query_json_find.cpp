// The content-query scanner finds what a parsed document holds at each
// path, and accepts exactly what nlohmann::json accepts: `--where` decides
// on its answer for every stored body, and fan-out for every event.
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "centrali/query/json_find.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/json_path.hpp"

using namespace centrali;
using json = nlohmann::json;

namespace {

const std::vector<std::string> k_paths = {"type",  "data.object.amount", "0",       "2.three.0", "event.type",
                                          "a",     "data",               "n",       "issue.labels.0.name",
                                          "data.object.n", "event"};

std::vector<query::JsonPath> paths()
{
  std::vector<query::JsonPath> out;
  for (const auto& p : k_paths) out.emplace_back(*parse_json_path(p));
  return out;
}

// The value at `path` in a parsed document, as --set's path reads it.
const json* at(const json& doc, const query::JsonPath& path)
{
  const json* node = &doc;
  for (std::size_t i = 0; i < path.segments.size(); ++i) {
    if (node->is_object()) {
      auto it = node->find(path.segments[i]);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array() && path.indexes[i] && *path.indexes[i] < node->size()) {
      node = &(*node)[*path.indexes[i]];
    } else {
      return nullptr;
    }
  }
  return node;
}

// The scanner against a full parse of the same bytes.
void check_same(const std::string& text)
{
  CAPTURE(text);
  static const auto ps = paths();
  auto found = query::find_json(text, ps);
  auto doc = parse_json(text);
  REQUIRE(found.valid == !doc.is_discarded());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    CAPTURE(k_paths[i]);
    const json* expected = found.valid ? at(doc, ps[i]) : nullptr;
    REQUIRE(found.at(i).has_value() == (expected != nullptr));
    if (expected) CHECK(json::parse(*found.at(i)) == *expected);
  }
}

} // namespace

TEST_CASE("query::find_json finds nested members, array elements and whole containers", "[query]")
{
  const std::vector<query::JsonPath> ps = {query::JsonPath({"data", "object", "customer"}),
                                           query::JsonPath({"data", "items", "1", "sku"}),
                                           query::JsonPath({"data", "items"}), query::JsonPath({"missing"}),
                                           query::JsonPath({"data", "object", "customer", "x"})};
  auto f = query::find_json(
      R"({"data":{"object":{"customer":"cus_1","amount":100},"items":[{"sku":"A"},{"sku":"B\u00e9"}]}})", ps);
  REQUIRE(f.valid);
  CHECK(f.at(0) == std::optional<std::string_view>(R"("cus_1")"));
  CHECK(f.at(1) == std::optional<std::string_view>(R"("B\u00e9")"));
  CHECK(f.at(2) == std::optional<std::string_view>(R"([{"sku":"A"},{"sku":"B\u00e9"}])"));
  CHECK_FALSE(f.at(3));
  CHECK_FALSE(f.at(4));  // a string has no members
  CHECK(query::json_string_content(*f.at(1)) == "B\xc3\xa9");
  CHECK(query::json_elements(*f.at(2)).size() == 2);
  CHECK(query::json_elements("[ ]").empty());
  CHECK(query::json_elements(R"([1, "a,b", [2,3], {"k":[4]}])") ==
        std::vector<std::string_view>{"1", R"("a,b")", "[2,3]", R"({"k":[4]})"});
}

TEST_CASE("query::find_json reads keys with escapes and takes the last of repeated members, as a parse does", "[query]")
{
  const std::vector<query::JsonPath> ps = {query::JsonPath({"a", "b"}), query::JsonPath({"k\"ey"})};
  auto f = query::find_json(R"({"a":{"b":1},"\u0061":{"c":2},"k\"ey":true})", ps);
  REQUIRE(f.valid);
  CHECK_FALSE(f.at(0));  // the second "a" replaced the first, and has no b
  CHECK(f.at(1) == std::optional<std::string_view>("true"));
  auto later = query::find_json(R"({"a":{"b":1},"a":{"b":[2]}})", ps);
  CHECK(later.at(0) == std::optional<std::string_view>("[2]"));
}

TEST_CASE("query::find_json finds nothing in text that is not JSON, or nests too deep", "[query]")
{
  const std::vector<query::JsonPath> ps = {query::JsonPath({"a"})};
  for (std::string text : {"", "a=1&b=2", "{\"a\":1", "{\"a\":1} x", "{\"a\":01}", "\xff"}) {
    CAPTURE(text);
    auto f = query::find_json(text, ps);
    CHECK_FALSE(f.valid);
    CHECK_FALSE(f.at(0));
  }
  std::string deep = "{\"a\":1,\"z\":" + std::string(300, '[') + std::string(300, ']') + "}";
  CHECK_FALSE(query::find_json(deep, ps).valid);
  std::string fine = "{\"a\":1,\"z\":" + std::string(255, '[') + std::string(255, ']') + "}";
  CHECK(query::find_json(fine, ps).valid);
}

TEST_CASE("query::find_json accepts and finds exactly what nlohmann::json does", "[query]")
{
  const std::vector<std::string> cases = {
      "", "{}", "[]", "[1,2,{\"three\":[3]}]", "{\"a\":1,}", "[1,]", "{\"a\"}", "01", "-0", "1e400", "\"\\ud800\"",
      "\"\xc0\x80\"", "\xef\xbb\xbf{\"a\":2}", "{\"type\":\"a\",\"type\":\"b\"}", "{\"event\":{\"type\":\"a\"},\"event\":{\"k\":1}}",
      "{\"data\":{\"object\":{\"amount\":1}},\"data\":5}", std::string("{\"a\":\"\0\"}", 9), "{\"a\":[1,[2,[3]]],\"n\":null}",
  };
  for (const auto& c : cases) check_same(c);
}

TEST_CASE("query::find_json reads long strings right wherever an escape, control or UTF-8 byte falls", "[query]")
{
  // The lexer skips plain string bytes sixteen at a time: put each kind of
  // byte that ends a run at every offset of the first windows.
  for (std::string special : {std::string("\\\""), std::string("\\u00e9"), std::string("\xc3\xa9"), std::string("\x01"),
                              std::string("\xff"), std::string("\""), std::string("\x7f")})
    for (std::size_t at = 0; at < 40; ++at) {
      std::string text(40, 'a');
      text.insert(at, special);
      check_same("{\"a\":\"" + text + "\",\"n\":1}");
      check_same("[\"" + text + "\"]");
    }
}

TEST_CASE("query::find_json agrees with nlohmann::json on random mutations of real bodies", "[query]")
{
  const std::vector<std::string> seeds = {
      R"({"action":"opened","number":1347,"issue":{"id":1,"title":"Found a bug","labels":[{"name":"bug"}]},"sender":{"login":"octocat"}})",
      R"({"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000,"currency":"usd","ok":true,"n":null,"f":-1.5e3}}})",
      R"({"token":"x","event":{"type":"app_mention","text":"h\u00e9llo \"there\"","blocks":[]},"type":"event_callback","a":{"a":1}})",
      R"([1,"two",{"three":[3.0,-0,1e-2]},true,false,null,"\ud83d\ude00"])",
  };
  const std::string alphabet = "{}[],:\"\\ 0123456789.eE+-tfnrul\xc3\xa9\x80\xff\x01";
  std::mt19937 rng(20261128);
  for (int i = 0; i < 20000; ++i) {
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
  }
}

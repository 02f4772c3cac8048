#include <catch2/catch.hpp>

#include "centrali/records/merge_patch.hpp"
#include "centrali/records/records.hpp"

using namespace centrali;
using json = nlohmann::json;

TEST_CASE("records::merge_patch follows every example of RFC 7386 appendix A", "[records]")
{
  struct Case {
    const char* target;
    const char* patch;
    const char* result;
  };
  const Case cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    INFO(c.target << " + " << c.patch);
    CHECK(records::merge_patch(json::parse(c.target), json::parse(c.patch)) == json::parse(c.result));
  }
}

TEST_CASE("records::parse_where reads nested fields and typed or text values", "[records]")
{
  auto m = records::parse_where("customer.country=DE");
  REQUIRE(m);
  CHECK(m->path == std::vector<std::string>{"customer", "country"});
  CHECK(m->value == "DE");
  CHECK(records::parse_where("total=10")->value == 10);
  CHECK(records::parse_where("paid=true")->value == true);
  CHECK(records::parse_where("note=null")->value.is_null());
  CHECK(records::parse_where("code=\"10\"")->value == "10");
  CHECK(records::parse_where("q=a=b")->value == "a=b");
  CHECK(records::parse_where("novalue").error().kind == ErrorKind::usage);
  CHECK(records::parse_where("a..b=1").error().kind == ErrorKind::usage);
  CHECK(records::parse_where("=1").error().kind == ErrorKind::usage);
}

// The filter language of --where, --filter and trigger --where: what each
// operator means on nested fields, numbers, strings, arrays, missing fields
// and bodies that are not JSON, and how a bad condition is refused.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "centrali/query/where.hpp"

using namespace centrali;

namespace {

const std::string k_body = R"({"id":"evt_1","type":"invoice.paid","data":{"object":{"customer":"cus_1","amount":4200,)"
                           R"("fee":1.5,"email":"ann@example.com","paid":true,"refund":null,"id_text":"1234",)"
                           R"("tags":["vip","eu",7],"items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],)"
                           R"("created":"2026-11-27T10:00:00Z","note":"caf\u00e9 \"quoted\""}}})";

bool holds(const std::string& condition, const std::string& body = k_body)
{
  auto w = query::Where::parse({condition}, "--where");
  INFO(condition << (w ? "" : ": " + w.error().message));
  REQUIRE(w);
  return w->matches(body);
}

std::string refusal(const std::string& condition)
{
  auto w = query::Where::parse({condition}, "--where");
  INFO(condition);
  REQUIRE_FALSE(w);
  CHECK(w.error().kind == ErrorKind::usage);
  return w.error().message;
}

} // namespace

TEST_CASE("query::Where matches nested fields and array elements by path", "[query]")
{
  CHECK(holds("data.object.customer=cus_1"));
  CHECK_FALSE(holds("data.object.customer=cus_2"));
  CHECK(holds("data.object.items.1.sku=B-2"));
  CHECK(holds("data.object.items.0.qty = 2"));  // spaces around the operator
  CHECK(holds("data.object.tags.2=7"));
  CHECK(holds("type=invoice.paid"));
  CHECK(holds(R"(data.object.note="café \"quoted\"")"));  // a quoted value is a JSON string
  CHECK(holds("data.object.note~café"));
}

TEST_CASE("query::Where compares numbers by value and never a number with a string", "[query]")
{
  CHECK(holds("data.object.amount>=100"));
  CHECK(holds("data.object.amount>4199.5"));
  // At the boundary: >= and <= hold for the value itself, > and < do not.
  CHECK(holds("data.object.amount>=4200"));
  CHECK_FALSE(holds("data.object.amount>=4201"));
  CHECK_FALSE(holds("data.object.amount>4200"));
  CHECK_FALSE(holds("data.object.amount<4200"));
  CHECK(holds("data.object.amount<=4200"));
  CHECK(holds("data.object.amount=4200.0"));
  CHECK(holds("data.object.fee=1.5"));
  CHECK(holds("data.object.fee<2"));
  CHECK(holds("data.object.amount=4.2e3"));
  // The number 1234 is not the string "1234", in either direction.
  CHECK_FALSE(holds("data.object.id_text=1234"));
  CHECK(holds("data.object.id_text=\"1234\""));
  CHECK_FALSE(holds("data.object.amount=\"4200\""));
  CHECK_FALSE(holds("data.object.customer>100"));  // a type mismatch is no match, not an error
  CHECK(holds("data.object.amount!=\"4200\""));    // and != holds when = does not
  // Big integers compare exactly, not as rounded doubles.
  CHECK_FALSE(holds("n=9007199254740993", R"({"n":9007199254740992})"));
  CHECK(holds("n>9007199254740992", R"({"n":9007199254740993})"));
}

TEST_CASE("query::Where orders strings bytewise, so ISO times compare as times", "[query]")
{
  CHECK(holds("data.object.created>=2026-11-01"));
  CHECK_FALSE(holds("data.object.created<2026-11-27"));
  CHECK(holds("data.object.customer<cus_2"));
}

TEST_CASE("query::Where ~ finds text in strings and elements in arrays", "[query]")
{
  CHECK(holds("data.object.email~@example.com"));
  CHECK_FALSE(holds("data.object.email~@example.org"));
  CHECK(holds("data.object.email!~@example.org"));
  CHECK(holds("data.object.tags~vip"));
  CHECK(holds("data.object.tags~7"));
  CHECK_FALSE(holds("data.object.tags~v"));  // elements are compared whole
  CHECK_FALSE(holds("data.object.amount~42"));  // a number is not text
  CHECK_FALSE(holds("data.object.items~A"));  // objects are never equal to a string
}

TEST_CASE("query::Where: booleans, null, exists and missing fields", "[query]")
{
  CHECK(holds("data.object.paid=true"));
  CHECK_FALSE(holds("data.object.paid=\"true\""));
  CHECK(holds("data.object.refund=null"));
  CHECK(holds("data.object.refund exists"));  // null is there
  CHECK(holds("data.object.dispute !exists"));
  CHECK(holds("data.object.dispute!exists"));
  CHECK_FALSE(holds("data.object.dispute exists"));
  // Every operator but !exists needs the field.
  CHECK_FALSE(holds("data.object.dispute=x"));
  CHECK_FALSE(holds("data.object.dispute!=x"));
  CHECK_FALSE(holds("data.object.dispute!~x"));
  CHECK_FALSE(holds("data.object.customer.name=x"));  // through a string
  CHECK_FALSE(holds("data.object.items.9.sku exists"));
  CHECK_FALSE(holds("data.object.items.x exists"));
}

TEST_CASE("query::Where on a body that is not JSON matches only !exists", "[query]")
{
  for (std::string body : {std::string("customer=cus_1&amount=5"), std::string(R"({"customer":"cus_1")"),
                           std::string("\xff\xfe"), std::string()}) {
    CAPTURE(body);
    CHECK_FALSE(holds("customer=cus_1", body));
    CHECK_FALSE(holds("customer!=x", body));
    CHECK_FALSE(holds("customer exists", body));
    CHECK(holds("customer !exists", body));
  }
}

TEST_CASE("query::Where needs every condition to hold, and explains each", "[query]")
{
  auto w = query::Where::parse({"data.object.customer=cus_1", "data.object.amount>=10000", "data.object.x !exists"},
                               "--filter");
  REQUIRE(w);
  CHECK_FALSE(w->matches(k_body));
  CHECK(w->first_failure(k_body) == std::optional<std::size_t>(1));
  bool json = false;
  auto outcomes = w->explain(k_body, &json);
  CHECK(json);
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].held);
  CHECK(outcomes[0].found == std::optional<std::string>("\"cus_1\""));
  CHECK_FALSE(outcomes[1].held);
  CHECK(outcomes[1].found == std::optional<std::string>("4200"));
  CHECK(outcomes[2].held);
  CHECK_FALSE(outcomes[2].found);
  CHECK(w->conditions()[1].text == "data.object.amount>=10000");
  auto none = query::Where::parse({}, "--where");
  REQUIRE(none);
  CHECK(none->matches("not json at all"));
}

TEST_CASE("query::Where refuses a bad condition, naming it and the problem", "[query]")
{
  CHECK(refusal("data.amount>>5") == "--where 'data.amount>>5': '>5' is not a value: one operator at a time (text that "
                                     "starts with one of = ! < > ~ is written quoted, as a JSON string: \">5\")");
  CHECK_THAT(refusal("data.amount"), Catch::Contains("no operator after data.amount"));
  CHECK_THAT(refusal("data.amount>="), Catch::Contains("no value after '>='") && Catch::Contains("data.amount exists"));
  CHECK_THAT(refusal("data..amount=1"), Catch::Contains("path 'data..amount' has an empty segment"));
  CHECK_THAT(refusal("data.items[0].sku=A"), Catch::Contains("bracket") && Catch::Contains("items.0.sku"));
  CHECK_THAT(refusal(".data.amount=1"), Catch::Contains("starts with '.'"));
  CHECK_THAT(refusal("=1"), Catch::Contains("starts with an operator"));
  CHECK_THAT(refusal("data.x==1"), Catch::Contains("'==' is written '='"));
  CHECK_THAT(refusal("data.x>true"), Catch::Contains("compares numbers or strings"));
  CHECK_THAT(refusal("data.x exists 1"), Catch::Contains("take no value"));
  CHECK_THAT(refusal("data.x=\"open"), Catch::Contains("not one JSON string"));
  CHECK_THAT(refusal("data.x={\"a\":1}"), Catch::Contains("an object"));
  CHECK_THAT(refusal("data amount=1"), Catch::Contains("paths have no spaces"));
  CHECK_THAT(refusal("   "), Catch::Contains("empty"));
  // Text that is not JSON is a value as written, brackets and all.
  CHECK(holds("t~[WIP]", R"({"t":"[WIP] fix"})"));
}

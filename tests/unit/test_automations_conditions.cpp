#include <catch2/catch.hpp>

#include "centrali/automations/conditions.hpp"

using namespace centrali::automations;
using json = nlohmann::json;

namespace {

const json k_document = json::parse(R"({
  "input": {"order": {"total": 120, "price": 9.5, "status": "paid", "note": null,
                      "tags": ["vip", "eu"], "items": [{"sku": "a-1"}, {"sku": "b-2"}]}},
  "context": {"count": 3, "name": "orders"},
  "steps": {"score": {"status": "completed", "output": {"risk": 0.9, "label": "high"}}}
})");

Condition condition(std::string path, Operator op, json value = nullptr)
{
  return Condition{std::move(path), op, std::move(value)};
}

bool check(std::string path, Operator op, json value = nullptr)
{
  return holds(condition(std::move(path), op, std::move(value)), k_document);
}

} // namespace

TEST_CASE("automations::lookup walks objects and indexes arrays by number", "[automations]")
{
  REQUIRE(lookup(k_document, "input.order.total") != nullptr);
  CHECK(*lookup(k_document, "input.order.total") == 120);
  CHECK(*lookup(k_document, "input.order.items.1.sku") == "b-2");
  CHECK(*lookup(k_document, "input.order.tags.0") == "vip");
  CHECK(*lookup(k_document, "steps.score.output.risk") == 0.9);
  CHECK(*lookup(k_document, "steps.score.status") == "completed");
  CHECK(lookup(k_document, "input.order.note") != nullptr);  // null is present
  CHECK(lookup(k_document, "input.order.missing") == nullptr);
  CHECK(lookup(k_document, "input.order.tags.2") == nullptr);
  CHECK(lookup(k_document, "input.order.tags.-1") == nullptr);
  CHECK(lookup(k_document, "input.order.tags.x") == nullptr);
  CHECK(lookup(k_document, "input.order.total.more") == nullptr);
  CHECK(lookup(k_document, "steps.other.output") == nullptr);
}

TEST_CASE("automations::holds evaluates every operator both ways", "[automations]")
{
  CHECK(check("input.order.status", Operator::eq, "paid"));
  CHECK_FALSE(check("input.order.status", Operator::eq, "open"));
  CHECK(check("input.order.total", Operator::eq, 120.0));  // 120 == 120.0

  CHECK(check("input.order.status", Operator::neq, "open"));
  CHECK_FALSE(check("input.order.status", Operator::neq, "paid"));

  CHECK(check("input.order.total", Operator::gt, 100));
  CHECK_FALSE(check("input.order.total", Operator::gt, 120));
  CHECK(check("input.order.total", Operator::gte, 120));
  CHECK_FALSE(check("input.order.total", Operator::gte, 120.5));
  CHECK(check("input.order.price", Operator::lt, 10));
  CHECK_FALSE(check("input.order.price", Operator::lt, 9.5));
  CHECK(check("input.order.price", Operator::lte, 9.5));
  CHECK_FALSE(check("input.order.price", Operator::lte, 9));
  CHECK(check("input.order.status", Operator::gt, "open"));  // strings order by bytes
  CHECK_FALSE(check("input.order.status", Operator::lt, "open"));

  CHECK(check("input.order.note", Operator::exists));
  CHECK_FALSE(check("input.order.none", Operator::exists));
  CHECK(check("input.order.none", Operator::not_exists));
  CHECK_FALSE(check("input.order.note", Operator::not_exists));

  CHECK(check("input.order.status", Operator::in, {"paid", "refunded"}));
  CHECK_FALSE(check("input.order.status", Operator::in, {"open", "refunded"}));
  CHECK(check("input.order.status", Operator::not_in, {"open", "refunded"}));
  CHECK_FALSE(check("input.order.status", Operator::not_in, {"paid"}));

  CHECK(check("input.order.tags", Operator::contains, "vip"));
  CHECK_FALSE(check("input.order.tags", Operator::contains, "us"));
  CHECK(check("context.name", Operator::contains, "der"));
  CHECK_FALSE(check("context.name", Operator::contains, "xyz"));
}

TEST_CASE("automations::holds never compares numbers with strings", "[automations]")
{
  CHECK_FALSE(check("input.order.total", Operator::eq, "120"));
  CHECK(check("input.order.total", Operator::neq, "120"));
  CHECK_FALSE(check("input.order.total", Operator::gt, "100"));
  CHECK_FALSE(check("input.order.total", Operator::lt, "1000"));
  CHECK_FALSE(check("input.order.total", Operator::gte, "120"));
  CHECK_FALSE(check("input.order.total", Operator::lte, "120"));
  CHECK_FALSE(check("input.order.status", Operator::gt, 1));
  CHECK_FALSE(check("input.order.total", Operator::in, {"120"}));
  CHECK_FALSE(check("input.order.tags", Operator::contains, 1));
  CHECK_FALSE(check("input.order.note", Operator::gt, 0));  // null orders with nothing
}

TEST_CASE("automations::holds treats an absent value as false except for neq and notExists", "[automations]")
{
  const std::string absent = "input.order.nothing";
  CHECK_FALSE(check(absent, Operator::eq, nullptr));
  CHECK(check(absent, Operator::neq, 1));
  CHECK_FALSE(check(absent, Operator::gt, 1));
  CHECK_FALSE(check(absent, Operator::gte, 1));
  CHECK_FALSE(check(absent, Operator::lt, 1));
  CHECK_FALSE(check(absent, Operator::lte, 1));
  CHECK_FALSE(check(absent, Operator::exists));
  CHECK(check(absent, Operator::not_exists));
  CHECK_FALSE(check(absent, Operator::in, {1, nullptr}));
  CHECK_FALSE(check(absent, Operator::not_in, {1}));
  CHECK_FALSE(check(absent, Operator::contains, "x"));
}

TEST_CASE("automations::decide takes the first case that holds and records what it compared", "[automations]")
{
  Step step;
  step.id = "route";
  step.type = StepType::decision;
  step.cases = {
      {{condition("steps.score.output.risk", Operator::gt, 0.95)}, "block"},
      {{condition("steps.score.output.risk", Operator::gt, 0.8), condition("input.order.coupon", Operator::exists)},
       "review"},
      {{condition("steps.score.output.label", Operator::eq, "high")}, "hold"},
      {{condition("context.count", Operator::eq, 3)}, "never-reached"},
  };
  step.default_next = "notify";

  auto d = decide(step, k_document);
  REQUIRE(d.matched_case == 2);
  CHECK(d.next == "hold");
  CHECK(d.detail["case"] == 2);
  const auto& c = d.detail["conditions"];
  // Case 0's one condition, case 1 up to its failing second, case 2's one.
  REQUIRE(c.size() == 4);
  CHECK(c[0] == json{{"path", "steps.score.output.risk"}, {"op", "gt"}, {"value", 0.95},
                     {"actual", 0.9}, {"absent", false}, {"held", false}});
  CHECK(c[1]["held"] == true);
  CHECK(c[2] == json{{"path", "input.order.coupon"}, {"op", "exists"}, {"value", nullptr},
                     {"actual", nullptr}, {"absent", true}, {"held", false}});
  CHECK(c[3]["held"] == true);

  step.cases.resize(2);
  auto fallback = decide(step, k_document);
  CHECK_FALSE(fallback.matched_case.has_value());
  CHECK(fallback.next == "notify");
  CHECK(fallback.detail["case"].is_null());

  step.default_next.clear();
  CHECK(decide(step, k_document).next.empty());
}

#include <catch2/catch.hpp>

#include "centrali/automations/definition.hpp"

using namespace centrali;
using namespace centrali::automations;
using json = nlohmann::json;

namespace {

// The issue's example, verbatim.
const char* const k_example = R"({"name": "order-follow-up",
 "trigger": {"type": "event", "events": ["record_created"], "collection": "orders"},
 "steps": [
  {"id": "score", "type": "compute", "run": "./score.sh", "timeout": "30s", "next": "route"},
  {"id": "route", "type": "decision",
   "cases": [{"when": [{"path": "steps.score.output.risk", "op": "gt", "value": 0.8}], "next": "hold"}],
   "default": "notify"},
  {"id": "hold", "type": "delay", "duration": "48h", "next": "notify"},
  {"id": "notify", "type": "compute", "run": "./notify.sh"}]})";

json example()
{
  return json::parse(k_example);
}

// The message of the usage error parsing `document` gives; fails the test
// when it parses.
std::string usage_error(const json& document)
{
  auto parsed = parse_definition(document);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().kind == ErrorKind::usage);
  return parsed.error().message;
}

json with_steps(json steps)
{
  return {{"name", "a"}, {"trigger", {{"type", "demand"}}}, {"steps", std::move(steps)}};
}

json compute(const std::string& id, const std::string& next = "")
{
  json s{{"id", id}, {"type", "compute"}, {"run", "true"}};
  if (!next.empty()) s["next"] = next;
  return s;
}

json with_trigger(json trigger)
{
  return {{"name", "a"}, {"trigger", std::move(trigger)}, {"steps", json::array({compute("only")})}};
}

} // namespace

TEST_CASE("automations::parse_definition reads the issue's example", "[automations]")
{
  auto parsed = parse_definition_text(k_example);
  REQUIRE(parsed.has_value());
  const auto& d = *parsed;
  CHECK(d.name == "order-follow-up");
  CHECK(d.trigger.type == TriggerType::event);
  CHECK(d.trigger.events == std::vector<std::string>{"record_created"});
  CHECK(d.trigger.collection == "orders");
  REQUIRE(d.steps.size() == 4);
  CHECK(d.steps[0].id == "score");
  CHECK(d.steps[0].run == "./score.sh");
  CHECK(d.steps[0].timeout_ms == 30'000);
  CHECK(d.steps[0].next == "route");
  REQUIRE(d.steps[1].cases.size() == 1);
  CHECK(d.steps[1].cases[0].when[0].path == "steps.score.output.risk");
  CHECK(d.steps[1].cases[0].when[0].op == Operator::gt);
  CHECK(d.steps[1].cases[0].when[0].value == json(0.8));
  CHECK(d.steps[1].cases[0].next == "hold");
  CHECK(d.steps[1].default_next == "notify");
  CHECK(d.steps[2].type == StepType::delay);
  CHECK(d.steps[2].duration_ms == 48 * 3'600'000LL);
  CHECK(d.steps[3].next.empty());
  REQUIRE(d.step("hold") != nullptr);
  CHECK(d.step("hold")->type == StepType::delay);
  CHECK(d.step("nope") == nullptr);
}

TEST_CASE("automations::parse_definition names the JSON path of each invalid case", "[automations]")
{
  SECTION("unknown step id")
  {
    auto doc = example();
    doc["steps"][1]["cases"][0]["next"] = "nope";
    CHECK(usage_error(doc) == "steps[1].cases[0].next: no step \"nope\"");
    doc = example();
    doc["steps"][0]["next"] = "nope";
    CHECK(usage_error(doc) == "steps[0].next: no step \"nope\"");
    doc = example();
    doc["steps"][1]["default"] = "nope";
    CHECK(usage_error(doc) == "steps[1].default: no step \"nope\"");
    doc = example();
    doc["steps"][1]["cases"][0]["when"][0]["path"] = "steps.nope.output.risk";
    CHECK(usage_error(doc) == "steps[1].cases[0].when[0].path: no step \"nope\"");
  }
  SECTION("missing field")
  {
    auto doc = example();
    doc.erase("name");
    CHECK(usage_error(doc) == "name: missing");
    doc = example();
    doc["steps"][3].erase("run");
    CHECK(usage_error(doc) == "steps[3].run: missing");
    doc = example();
    doc["steps"][1]["cases"][0]["when"][0].erase("value");
    CHECK(usage_error(doc) == "steps[1].cases[0].when[0].value: missing (gt compares against it)");
    doc = example();
    doc["trigger"].erase("events");
    CHECK(usage_error(doc) == "trigger.events: missing");
  }
  SECTION("unknown operator")
  {
    auto doc = example();
    doc["steps"][1]["cases"][0]["when"][0]["op"] = "gtx";
    CHECK(usage_error(doc) == "steps[1].cases[0].when[0].op: unknown operator \"gtx\" (expected one of eq, neq, gt, "
                              "gte, lt, lte, exists, notExists, in, notIn, contains)");
  }
  SECTION("a cycle with no delay")
  {
    auto doc = with_steps({compute("a", "b"), compute("b", "c"), compute("c", "a")});
    CHECK(usage_error(doc) == "steps: a cycle with no delay: a -> b -> c -> a");
    CHECK(usage_error(with_steps({compute("a", "a")})) == "steps: a cycle with no delay: a -> a");
    // Through a decision's case as well as through next.
    auto loop = example();
    loop["steps"][3]["next"] = "route";
    loop["steps"][1]["default"] = "notify";
    CHECK(usage_error(loop) == "steps: a cycle with no delay: route -> notify -> route");
  }
  SECTION("bad duration")
  {
    auto doc = example();
    doc["steps"][2]["duration"] = "48 hours";
    CHECK(usage_error(doc).starts_with("steps[2].duration: invalid duration '48 hours'"));
    doc = example();
    doc["steps"][0]["timeout"] = "30";
    CHECK(usage_error(doc).starts_with("steps[0].timeout: duration '30' has no unit"));
    doc = example();
    doc["steps"][0]["timeout"] = "2h";
    CHECK(usage_error(doc) == "steps[0].timeout: must be more than 0 and at most 1h");
    doc = example();
    doc["steps"][0]["timeout"] = "0s";
    CHECK(usage_error(doc) == "steps[0].timeout: must be more than 0 and at most 1h");
    CHECK(usage_error(with_trigger({{"type", "schedule"}, {"every", "500ms"}})) == "trigger.every: must be at least 1s");
  }
}

TEST_CASE("automations::parse_definition accepts a cycle through a delay", "[automations]")
{
  // A polling loop: check, wait, check again until the decision lets go.
  auto doc = with_steps(
      {compute("check", "route"),
       {{"id", "route"},
        {"type", "decision"},
        {"cases", {{{"when", {{{"path", "steps.check.output.done"}, {"op", "eq"}, {"value", true}}}}, {"next", "end"}}}},
        {"default", "wait"}},
       {{"id", "wait"}, {"type", "delay"}, {"duration", "5m"}, {"next", "check"}},
       compute("end")});
  auto parsed = parse_definition(doc);
  REQUIRE(parsed.has_value());
  CHECK(parsed->steps.size() == 4);
  // A delay that waits for itself is a polling loop too.
  CHECK(parse_definition(with_steps({{{"id", "w"}, {"type", "delay"}, {"duration", "1m"}, {"next", "w"}}})).has_value());
}

TEST_CASE("automations::parse_definition refuses unknown members so typos fail", "[automations]")
{
  auto doc = example();
  doc["steps"][0]["timout"] = "10s";
  CHECK(usage_error(doc) == "steps[0].timout: unknown member");
  doc = example();
  doc["trigger"]["colection"] = "orders";
  CHECK(usage_error(doc) == "trigger.colection: unknown member");
  doc = example();
  doc["step"] = json::array();
  CHECK(usage_error(doc) == "step: unknown member");
  doc = example();
  doc["steps"][1]["next"] = "notify";  // a decision moves on by its cases and default only
  CHECK(usage_error(doc) == "steps[1].next: unknown member");
  doc = example();
  doc["steps"][1]["cases"][0]["when"][0]["vaule"] = 1;
  CHECK(usage_error(doc) == "steps[1].cases[0].when[0].vaule: unknown member");
}

TEST_CASE("automations::parse_definition reports repeated ids on the later step", "[automations]")
{
  auto doc = with_steps({compute("a", "b"), compute("b"), compute("c"), compute("a")});
  CHECK(usage_error(doc) == "steps[3].id: \"a\" is used by steps[0] and steps[3]");
}

TEST_CASE("automations::parse_definition checks operator values and condition paths", "[automations]")
{
  auto with_condition = [](json condition) {
    auto doc = example();
    doc["steps"][1]["cases"][0]["when"][0] = std::move(condition);
    return doc;
  };
  const std::string at = "steps[1].cases[0].when[0].";
  CHECK(usage_error(with_condition({{"path", "input.x"}, {"op", "in"}, {"value", 1}})) ==
        at + "value: must be an array for in");
  CHECK(usage_error(with_condition({{"path", "input.x"}, {"op", "notIn"}})) ==
        at + "value: missing (notIn needs an array of values)");
  CHECK(usage_error(with_condition({{"path", "input.x"}, {"op", "exists"}, {"value", 1}})) ==
        at + "value: exists takes no value");
  CHECK(usage_error(with_condition({{"path", "input.x"}, {"op", "notExists"}, {"value", nullptr}})) ==
        at + "value: notExists takes no value");
  CHECK(usage_error(with_condition({{"path", "input.x"}, {"op", "lt"}, {"value", json::array()}})) ==
        at + "value: must be a number or a string for lt");
  CHECK(usage_error(with_condition({{"path", "order.total"}, {"op", "eq"}, {"value", 1}})) ==
        at + "path: must start with input, context, steps.<id>.output or steps.<id>.status (got \"order.total\")");
  CHECK(usage_error(with_condition({{"path", "steps.score.result"}, {"op", "eq"}, {"value", 1}})).starts_with(
      at + "path: must start with"));
  CHECK(usage_error(with_condition({{"path", "input..x"}, {"op", "eq"}, {"value", 1}})) ==
        at + "path: \"input..x\" has an empty segment");
  CHECK(parse_definition(with_condition({{"path", "steps.score.status"}, {"op", "eq"}, {"value", "completed"}})));
  CHECK(parse_definition(with_condition({{"path", "context.flags"}, {"op", "exists"}})));
  CHECK(parse_definition(with_condition({{"path", "input.tier"}, {"op", "in"}, {"value", {"gold", "silver"}}})));
}

TEST_CASE("automations::parse_definition validates triggers", "[automations]")
{
  CHECK(usage_error(with_trigger({{"type", "cron"}})) ==
        "trigger.type: unknown trigger type \"cron\" (expected one of event, schedule, demand, http)");
  CHECK(usage_error(with_trigger({{"type", "event"}, {"events", "record_*"}})) ==
        "trigger.events: must be a non-empty array of event type globs (e.g. [\"record_*\"])");
  CHECK(usage_error(with_trigger({{"type", "event"}, {"events", {"a", ""}}})) == "trigger.events[1]: must not be empty");
  CHECK(usage_error(with_trigger({{"type", "schedule"}, {"cron", "0 * * * *"}, {"every", "5m"}})) ==
        "trigger: a schedule needs exactly one of cron, every or at");
  CHECK(usage_error(with_trigger({{"type", "schedule"}, {"cron", "0 25 * * *"}})).starts_with("trigger.cron: "));
  CHECK(usage_error(with_trigger({{"type", "schedule"}, {"cron", "0 0 30 2 *"}})) ==
        "trigger.cron: \"0 0 30 2 *\" never fires");
  CHECK(usage_error(with_trigger({{"type", "schedule"}, {"cron", "0 * * * *"}, {"timezone", "Mars/Olympus"}}))
            .starts_with("trigger.timezone: "));
  CHECK(usage_error(with_trigger({{"type", "schedule"}, {"every", "5m"}, {"timezone", "UTC"}})) ==
        "trigger.timezone: only applies to a cron schedule");
  CHECK(usage_error(with_trigger({{"type", "schedule"}, {"at", "tomorrow"}})).starts_with("trigger.at: "));
  CHECK(usage_error(with_trigger({{"type", "http"}, {"path", "/a/../b"}})) ==
        "trigger.path: \"/a/../b\" must not contain '..'");
  CHECK(usage_error(with_trigger({{"type", "http"}, {"path", "/"}})).starts_with("trigger.path: give a path"));
  CHECK(usage_error(with_trigger({{"type", "http"}, {"path", "a b"}})).starts_with("trigger.path: \"a b\": only"));
  CHECK(usage_error(with_trigger({{"type", "demand"}, {"path", "x"}})) == "trigger.path: unknown member");

  auto http = parse_definition(with_trigger({{"type", "http"}, {"path", "/orders/new"}}));
  REQUIRE(http);
  CHECK(http->trigger.path == "orders/new");
  auto cron = parse_definition(with_trigger({{"type", "schedule"}, {"cron", "0 * * * *"}, {"timezone", "Europe/Paris"}}));
  REQUIRE(cron);
  CHECK(cron->trigger.cron == "0 * * * *");
  CHECK(cron->trigger.timezone == "Europe/Paris");
  auto at = parse_definition(with_trigger({{"type", "schedule"}, {"at", "2026-12-24T10:00:00Z"}}));
  REQUIRE(at);
  CHECK(at->trigger.at_ms == 1'798'106'400'000LL);
}

TEST_CASE("automations::parse_definition validates names, steps and compute options", "[automations]")
{
  auto doc = example();
  doc["name"] = "has space";
  CHECK(usage_error(doc).starts_with("name: \"has space\" is not a valid name"));
  CHECK(usage_error(with_steps(json::array())) == "steps: must be a non-empty array of steps");
  CHECK(usage_error(with_steps({compute("a.b")})).starts_with("steps[0].id: \"a.b\" is not a valid step id"));
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "wait"}}})) ==
        "steps[0].type: unknown step type \"wait\" (expected one of compute, decision, delay)");
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "compute"}, {"run", "  "}}})).starts_with("steps[0].run: needs"));
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "compute"}, {"run", "x"}, {"retries", 11}}})) ==
        "steps[0].retries: must be an integer from 0 to 10");
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "compute"}, {"run", "x"}, {"retries", 1.5}}})) ==
        "steps[0].retries: must be an integer from 0 to 10");
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "compute"}, {"run", "x"}, {"exec", "yes"}}})) ==
        "steps[0].exec: must be true or false");
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "compute"}, {"run", "x"}, {"env", {{"A", 1}}}}})) ==
        "steps[0].env.A: must be a string");
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "delay"}}})).starts_with("steps[0]: a delay needs exactly one"));
  CHECK(usage_error(with_steps({{{"id", "a"}, {"type", "delay"}, {"until", "remind_at"}}})).starts_with(
      "steps[0].until: must start with"));
  CHECK(usage_error(json::array()) == "a definition must be a JSON object {\"name\", \"trigger\", \"steps\"}");
}

TEST_CASE("automations::parse_definition returns the first error in document order", "[automations]")
{
  auto doc = with_steps({compute("a", "nope"), {{"id", "b"}, {"type", "compute"}}});
  CHECK(usage_error(doc) == "steps[0].next: no step \"nope\"");
  doc["trigger"] = {{"type", "event"}};
  CHECK(usage_error(doc) == "trigger.events: missing");
}

TEST_CASE("automations::to_json round-trips a definition", "[automations]")
{
  auto full = example();
  full["description"] = "follow up on risky orders";
  full["steps"][0] = {{"id", "score"},   {"type", "compute"}, {"run", "score --fast"}, {"exec", true},
                      {"timeout", "90s"}, {"retries", 3},      {"backoff", "1500ms"},   {"retry", false},
                      {"cwd", "/srv"},    {"env", {{"MODE", "strict"}, {"A_1", ""}}},   {"next", "route"}};
  full["steps"][1]["cases"].push_back(
      {{"when", {{{"path", "context.seen"}, {"op", "notExists"}}, {{"path", "input.tags"}, {"op", "contains"}, {"value", "vip"}}}},
       {"next", "notify"}});
  full["steps"][2] = {{"id", "hold"}, {"type", "delay"}, {"until", "input.remind_at"}, {"next", "notify"}};

  std::vector<json> documents = {
      example(),
      full,
      with_trigger({{"type", "schedule"}, {"cron", "0 * * * *"}, {"timezone", "Europe/Paris"}}),
      with_trigger({{"type", "schedule"}, {"every", "90m"}}),
      with_trigger({{"type", "schedule"}, {"at", "2026-12-24T10:00:00.250Z"}}),
      with_trigger({{"type", "http"}, {"path", "/orders/new"}}),
      with_trigger({{"type", "event"}, {"events", {"record_*", "invoice.*"}}, {"source", "stripe"}}),
      with_steps({{{"id", "w"}, {"type", "delay"}, {"duration", "0s"}}}),
  };
  for (const auto& document : documents) {
    auto first = parse_definition(document);
    REQUIRE(first);
    auto emitted = to_json(*first);
    auto second = parse_definition(emitted);
    REQUIRE(second);
    // Canonical: emitting again gives the same document.
    CHECK(to_json(*second) == emitted);
  }
  // Defaults are omitted, and the example's explicit default timeout with them.
  auto emitted = to_json(*parse_definition(example()));
  CHECK_FALSE(emitted["steps"][0].contains("timeout"));
  CHECK_FALSE(emitted["steps"][0].contains("retries"));
  CHECK(emitted["steps"][2]["duration"] == "48h");
  auto full_emitted = to_json(*parse_definition(full));
  CHECK(full_emitted["steps"][0]["backoff"] == "1500ms");
  CHECK(full_emitted["steps"][0]["retry"] == false);
  CHECK(full_emitted["steps"][0]["env"] == json{{"MODE", "strict"}, {"A_1", ""}});
  CHECK_FALSE(full_emitted["steps"][1]["cases"][1]["when"][0].contains("value"));
  CHECK(to_json(*parse_definition(with_trigger({{"type", "http"}, {"path", "/orders/new"}})))["trigger"]["path"] ==
        "orders/new");
}

TEST_CASE("automations::parse_definition_text says where a JSON syntax error is", "[automations]")
{
  auto parsed = parse_definition_text("{\"name\": \"a\",\n  \"trigger\": {\"type\": \"demand\"},\n  \"steps\": [}\n");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().kind == ErrorKind::usage);
  INFO(parsed.error().message);
  CHECK(parsed.error().message.starts_with("3:13: syntax error"));

  auto deep = parse_definition_text(std::string(300, '[') + std::string(300, ']'));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message == "the definition is nested deeper than 256 levels");
}

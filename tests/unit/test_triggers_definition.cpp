#include <catch2/catch.hpp>

#include "centrali/triggers/definition.hpp"
#include "centrali/util/time.hpp"

using namespace centrali;
using namespace centrali::triggers;

namespace {

TriggerSpec spec(std::string on)
{
  TriggerSpec s;
  s.name = "t";
  s.on = std::move(on);
  s.run = "true";
  return s;
}

std::string usage_error(const TriggerSpec& s)
{
  auto t = build_trigger(s, timeutil::now_ms());
  REQUIRE_FALSE(t);
  CHECK(t.error().kind == ErrorKind::usage);
  return t.error().message;
}

} // namespace

TEST_CASE("triggers::build_trigger reads params, env, timeout and concurrency", "[triggers]")
{
  auto s = spec("demand");
  s.params = {"batch=100", "name=orders", "flags={\"a\":true}", "eq=a=b"};
  s.env = {"A=1", "B=x=y"};
  s.timeout = "2m";
  s.concurrency = 4;
  auto t = build_trigger(s, 0);
  REQUIRE(t);
  CHECK(t->params == nlohmann::json{{"batch", 100}, {"name", "orders"}, {"flags", {{"a", true}}}, {"eq", "a=b"}});
  CHECK(t->env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", "x=y"}});
  CHECK(t->timeout_ms == 120'000);
  CHECK(t->concurrency == 4);
}

TEST_CASE("triggers::build_trigger joins event globs and checks the collection", "[triggers]")
{
  auto s = spec("event");
  s.events = {"record_created, record_updated", "invoice.*"};
  s.collection = "orders";
  auto t = build_trigger(s, 0);
  REQUIRE(t);
  CHECK(t->events == "record_created,record_updated,invoice.*");
  s.collection = "bad name";
  CHECK_THAT(usage_error(s), Catch::Contains("collection"));
  s.collection = "";
  s.events = {};
  CHECK_THAT(usage_error(s), Catch::Contains("--events"));
}

TEST_CASE("triggers::build_trigger computes a schedule's first fire and refuses bad ones", "[triggers]")
{
  const std::int64_t now = *timeutil::parse_instant("2026-01-01T10:00:30Z");
  auto s = spec("schedule");
  s.cron = "*/5 * * * *";
  auto t = build_trigger(s, now);
  REQUIRE(t);
  CHECK(t->next_fire_ms == *timeutil::parse_instant("2026-01-01T10:05:00Z"));

  s = spec("schedule");
  s.every = "90s";
  CHECK(build_trigger(s, now)->next_fire_ms == now + 90'000);

  s = spec("schedule");
  s.at = "2026-01-02T00:00:00Z";
  CHECK(build_trigger(s, now)->next_fire_ms == *timeutil::parse_instant("2026-01-02T00:00:00Z"));
  s.at = "2025-12-31T00:00:00Z";
  CHECK_THAT(usage_error(s), Catch::Contains("in the past"));

  s = spec("schedule");
  s.cron = "0 25 * * *";
  CHECK_THAT(usage_error(s), Catch::Contains("hour field"));
  s.cron = "0 1 * * *";
  s.tz = "Nowhere/City";
  CHECK_THAT(usage_error(s), Catch::Contains("unknown time zone"));
  s.tz = "";
  s.every = "5m";
  CHECK_THAT(usage_error(s), Catch::Contains("exactly one"));
  s = spec("schedule");
  CHECK_THAT(usage_error(s), Catch::Contains("exactly one"));
  s.every = "10ms";
  CHECK_THAT(usage_error(s), Catch::Contains("at least 1s"));
}

TEST_CASE("triggers::build_trigger normalises endpoint paths and methods", "[triggers]")
{
  auto s = spec("endpoint");
  s.path = "orders/new/";
  s.method = "post";
  auto t = build_trigger(s, 0);
  REQUIRE(t);
  CHECK(t->path == "/orders/new");
  CHECK(t->method == "POST");
  CHECK(t->response_mode == "output");
  s.method = "FETCH";
  CHECK_THAT(usage_error(s), Catch::Contains("--method"));
  s.method = "";
  for (const char* bad : {"/", "/a//b", "/a/../b", "/a b", "/a?b"}) {
    s.path = bad;
    INFO(bad);
    CHECK_THAT(usage_error(s), Catch::Contains("invalid --path"));
  }
  s.path = "/x";
  s.response = "json";
  CHECK_THAT(usage_error(s), Catch::Contains("--response"));
  s = spec("endpoint");
  CHECK_THAT(usage_error(s), Catch::Contains("--path"));
}

TEST_CASE("triggers::build_trigger refuses options of another kind and bad common options", "[triggers]")
{
  auto s = spec("event");
  s.events = {"*"};
  s.path = "/x";
  CHECK_THAT(usage_error(s), Catch::Contains("--path only applies to --on endpoint"));
  s = spec("demand");
  s.cron = "* * * * *";
  CHECK_THAT(usage_error(s), Catch::Contains("--cron only applies"));
  s = spec("sometimes");
  CHECK_THAT(usage_error(s), Catch::Contains("--on must be"));
  s = spec("demand");
  s.name = "has space";
  CHECK_THAT(usage_error(s), Catch::Contains("invalid trigger name"));
  s = spec("demand");
  s.timeout = "soon";
  CHECK_THAT(usage_error(s), Catch::Contains("--timeout"));
  s = spec("demand");
  s.concurrency = 0;
  CHECK_THAT(usage_error(s), Catch::Contains("--concurrency"));
  s = spec("demand");
  s.env = {"CENTRALI_RUN_ID=x"};
  CHECK_THAT(usage_error(s), Catch::Contains("set by centrali"));
  s = spec("demand");
  s.run = "cmd 'unterminated";
  s.exec = true;
  CHECK_THAT(usage_error(s), Catch::Contains("unterminated"));
  s = spec("demand");
  s.cwd = "/definitely/not/here";
  CHECK_THAT(usage_error(s), Catch::Contains("--cwd"));
}

#include <catch2/catch.hpp>

#include "centrali/store/runs.hpp"
#include "centrali/store/triggers.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

store::Trigger endpoint(std::string name, std::string path, std::string method)
{
  store::Trigger t;
  t.name = std::move(name);
  t.kind = "endpoint";
  t.command = "true";
  t.path = std::move(path);
  t.method = std::move(method);
  return t;
}

} // namespace

TEST_CASE("store triggers: add keeps every field and refuses a taken name", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  store::Trigger t;
  t.name = "nightly";
  t.kind = "schedule";
  t.command = "./run.sh";
  t.exec = true;
  t.params = {{"batch", 100}};
  t.timeout_ms = 5000;
  t.concurrency = 3;
  t.cwd = "/tmp";
  t.env = {{"A", "1"}, {"B", "two words"}};
  t.cron = "0 3 * * *";
  t.tz = "Europe/Berlin";
  t.next_fire_ms = 123;
  t.created_ms = t.updated_ms = 9;
  REQUIRE(store::add_trigger(s, t));
  auto got = store::get_trigger(s, "nightly");
  REQUIRE(got);
  CHECK(got->exec);
  CHECK(got->params == nlohmann::json{{"batch", 100}});
  CHECK(got->timeout_ms == 5000);
  CHECK(got->concurrency == 3);
  CHECK(got->cwd == "/tmp");
  CHECK(got->env == t.env);
  CHECK(got->cron == "0 3 * * *");
  CHECK(got->tz == "Europe/Berlin");
  CHECK(got->next_fire_ms == 123);
  CHECK_FALSE(got->every_ms);
  auto again = store::add_trigger(s, t);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::rejected);
  CHECK(store::get_trigger(s, "nope").error().kind == ErrorKind::not_found);
}

TEST_CASE("store triggers: an endpoint path is served by one trigger per method, or one for all", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  REQUIRE(store::add_trigger(s, endpoint("get", "/orders", "GET")));
  REQUIRE(store::add_trigger(s, endpoint("post", "/orders", "POST")));
  auto same = store::add_trigger(s, endpoint("get2", "/orders", "GET"));
  REQUIRE_FALSE(same);
  CHECK(same.error().kind == ErrorKind::rejected);
  CHECK_THAT(same.error().message, Catch::Contains("already served by trigger 'get'"));
  CHECK(store::add_trigger(s, endpoint("any", "/orders", "")).error().kind == ErrorKind::rejected);
  REQUIRE(store::add_trigger(s, endpoint("any-other", "/other", "")));
  CHECK(store::add_trigger(s, endpoint("put-other", "/other", "PUT")).error().kind == ErrorKind::rejected);
}

TEST_CASE("store triggers: rm cancels queued runs and keeps the run log", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  REQUIRE(store::add_trigger(s, endpoint("e", "/e", "")));
  auto run = [](std::string id, std::string status) {
    store::Run r;
    r.id = std::move(id);
    r.trigger = "e";
    r.status = std::move(status);
    r.origin = "demand";
    r.queued_ms = 1;
    return r;
  };
  auto done = run("run_done", "completed");
  auto queued = run("run_queued", "queued");
  REQUIRE(store::insert_run(s, done));
  REQUIRE(store::insert_run(s, queued));
  REQUIRE(store::remove_trigger(s, "e"));
  CHECK(store::get_run(s, "run_done")->status == "completed");
  auto q = store::get_run(s, "run_queued");
  CHECK(q->status == "cancelled");
  CHECK(q->error == "trigger removed");
  CHECK(store::remove_trigger(s, "e").error().kind == ErrorKind::not_found);
}

TEST_CASE("store triggers: advance_schedule moves a tick only once, and never while paused", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  store::Trigger t;
  t.name = "tick";
  t.kind = "schedule";
  t.command = "true";
  t.every_ms = 1000;
  t.next_fire_ms = 5000;
  REQUIRE(store::add_trigger(s, t));
  CHECK(*store::advance_schedule(s, "tick", 5000, 6000));
  CHECK_FALSE(*store::advance_schedule(s, "tick", 5000, 6000));  // a second listener lost the race
  REQUIRE(store::pause_trigger(s, "tick"));
  CHECK_FALSE(*store::advance_schedule(s, "tick", 6000, 7000));
  REQUIRE(store::resume_trigger(s, "tick", 9000));
  auto got = store::get_trigger(s, "tick");
  CHECK_FALSE(got->paused);
  CHECK(got->next_fire_ms == 9000);
  CHECK(store::pause_trigger(s, "nope").error().kind == ErrorKind::not_found);
}

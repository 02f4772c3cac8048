#include <catch2/catch.hpp>

#include "centrali/store/runs.hpp"
#include "centrali/store/triggers.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

void add(store::Store& s, const std::string& name, int concurrency, std::int64_t timeout_ms = 1000)
{
  store::Trigger t;
  t.name = name;
  t.kind = "demand";
  t.command = "true";
  t.concurrency = concurrency;
  t.timeout_ms = timeout_ms;
  REQUIRE(store::add_trigger(s, t));
}

void queue(store::Store& s, const std::string& id, const std::string& trigger)
{
  store::Run r;
  r.id = id;
  r.trigger = trigger;
  r.status = "queued";
  r.origin = "demand";
  r.input = R"({"data":null})";
  r.queued_ms = 1;
  REQUIRE(store::insert_run(s, r));
}

std::vector<std::string> ids(const std::vector<store::ClaimedRun>& claimed)
{
  std::vector<std::string> out;
  for (const auto& c : claimed) out.push_back(c.run.id);
  return out;
}

store::RunResult completed(const std::string& id)
{
  store::RunResult r;
  r.id = id;
  r.status = "completed";
  r.started_ms = 1;
  r.ended_ms = 2;
  return r;
}

} // namespace

TEST_CASE("store runs: claim takes each trigger's oldest runs up to its concurrency", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, "one", 1);
  add(s, "two", 2);
  queue(s, "run_a1", "one");
  queue(s, "run_b1", "two");
  queue(s, "run_a2", "one");
  queue(s, "run_b2", "two");
  queue(s, "run_b3", "two");
  auto first = store::claim_runs(s, 100, 10);
  REQUIRE(first);
  CHECK(ids(*first) == std::vector<std::string>{"run_a1", "run_b1", "run_b2"});
  CHECK((*first)[0].trigger.name == "one");
  CHECK((*first)[0].run.input == R"({"data":null})");
  CHECK((*first)[0].run.lease_until_ms == 100 + 1000 + store::k_lease_margin_ms);
  CHECK(store::get_run(s, "run_a1")->status == "running");
  // Nothing more while every slot is taken.
  CHECK(store::claim_runs(s, 101, 10)->empty());
  REQUIRE(store::finish_run(s, completed("run_a1")));
  CHECK(ids(*store::claim_runs(s, 102, 10)) == std::vector<std::string>{"run_a2"});
  auto done = store::get_run(s, "run_a1");
  CHECK(done->status == "completed");
  CHECK_FALSE(done->lease_until_ms);
}

TEST_CASE("store runs: claim respects its limit and skips paused triggers", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, "many", 10);
  add(s, "held", 10);
  for (int i = 0; i < 5; ++i) queue(s, "run_m" + std::to_string(i), "many");
  queue(s, "run_h", "held");
  REQUIRE(store::pause_trigger(s, "held"));
  CHECK(store::claim_runs(s, 1, 3)->size() == 3);
  CHECK(store::claim_runs(s, 1, 10)->size() == 2);
  CHECK(store::get_run(s, "run_h")->status == "queued");
  CHECK(*store::has_pending_runs(s));  // the five are running
}

TEST_CASE("store runs: a run whose lease expired is marked interrupted, never claimed again", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, "t", 1, 1000);
  queue(s, "run_x", "t");
  REQUIRE(store::claim_runs(s, 0, 1)->size() == 1);
  const auto lease_end = 1000 + store::k_lease_margin_ms;
  CHECK(*store::interrupt_expired_runs(s, lease_end) == 0);
  queue(s, "run_y", "t");
  auto later = store::claim_runs(s, lease_end + 1, 5);
  REQUIRE(later);
  CHECK(ids(*later) == std::vector<std::string>{"run_y"});
  auto x = store::get_run(s, "run_x");
  CHECK(x->status == "failure");
  CHECK(x->error == store::k_interrupted);
}

TEST_CASE("store runs: release puts a claimed run back, and runs of removed triggers are cancelled", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, "t", 1);
  queue(s, "run_1", "t");
  REQUIRE(store::claim_runs(s, 1, 1)->size() == 1);
  REQUIRE(store::release_run(s, "run_1"));
  CHECK(store::get_run(s, "run_1")->status == "queued");
  queue(s, "run_orphan", "gone");
  REQUIRE(store::claim_runs(s, 2, 5)->size() == 1);
  CHECK(store::get_run(s, "run_orphan")->status == "cancelled");
}

TEST_CASE("store runs: list is newest first and filters by trigger and status", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, "t", 1);
  queue(s, "run_1", "t");
  queue(s, "run_2", "t");
  queue(s, "run_3", "u");
  auto all = store::list_runs(s, {});
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK(all->front().id == "run_3");
  CHECK(store::list_runs(s, {"t", "", 50})->size() == 2);
  CHECK(store::list_runs(s, {"", "queued", 1})->size() == 1);
  CHECK(store::get_run(s, "run_nope").error().kind == ErrorKind::not_found);
}

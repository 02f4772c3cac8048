#include <catch2/catch.hpp>

#include "centrali/triggers/timing.hpp"
#include "centrali/util/time.hpp"

using namespace centrali;
using namespace centrali::triggers;

namespace {

std::int64_t at(const char* text)
{
  return *timeutil::parse_instant(text);
}

} // namespace

TEST_CASE("triggers::following_fire skips ticks missed while the runner was away", "[triggers]")
{
  store::Trigger every;
  every.every_ms = 60'000;
  // On time: the next tick is one interval on.
  CHECK(**following_fire(every, 1'000'000, 1'000'010) == 1'060'000);
  // Ten minutes late: one run for the late tick, then back on the same phase.
  CHECK(**following_fire(every, 1'000'000, 1'600'500) == 1'660'000);

  store::Trigger cron;
  cron.cron = "0 * * * *";
  CHECK(**following_fire(cron, at("2026-03-01T10:00:00Z"), at("2026-03-01T10:00:01Z")) == at("2026-03-01T11:00:00Z"));
  CHECK(**following_fire(cron, at("2026-03-01T10:00:00Z"), at("2026-03-01T15:30:00Z")) == at("2026-03-01T16:00:00Z"));

  store::Trigger once;
  once.at_ms = at("2026-03-01T10:00:00Z");
  CHECK_FALSE(*following_fire(once, *once.at_ms, *once.at_ms + 5));
}

TEST_CASE("triggers::upcoming_fires lists cron ticks in the trigger's zone", "[triggers]")
{
  store::Trigger t;
  t.cron = "30 2 * * *";
  t.tz = "Europe/Berlin";
  auto fires = upcoming_fires(t, at("2026-03-27T12:00:00Z"), 5);
  REQUIRE(fires);
  REQUIRE(fires->size() == 5);
  CHECK((*fires)[0] == at("2026-03-28T01:30:00Z"));  // 02:30 CET
  CHECK((*fires)[1] == at("2026-03-29T01:00:00Z"));  // 02:30 does not exist: 03:00 CEST
  CHECK((*fires)[2] == at("2026-03-30T00:30:00Z"));  // 02:30 CEST

  store::Trigger every;
  every.every_ms = 1000;
  every.next_fire_ms = 5000;
  CHECK(*upcoming_fires(every, 4000, 3) == std::vector<std::int64_t>{5000, 6000, 7000});
  CHECK(*upcoming_fires(every, 9000, 2) == std::vector<std::int64_t>{10000, 11000});

  store::Trigger once;
  once.at_ms = 5000;
  CHECK(*upcoming_fires(once, 1000, 5) == std::vector<std::int64_t>{5000});
  CHECK(upcoming_fires(once, 6000, 5)->empty());
}

#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "centrali/util/ids.hpp"

using namespace centrali;

TEST_CASE("ids::make gives prefix, underscore and 26 Crockford base32 chars", "[ids]")
{
  for (auto prefix : {ids::k_event, ids::k_record, ids::k_run, ids::k_webhook, ids::k_delivery, ids::k_attempt}) {
    auto id = ids::make(prefix);
    CHECK(id.size() == prefix.size() + 27);
    CHECK(id.substr(0, prefix.size() + 1) == std::string(prefix) + "_");
    CHECK(ids::is_valid(id, prefix));
    CHECK_FALSE(ids::is_valid(id, "zzz"));
  }
}

TEST_CASE("ids made in a tight loop are unique and strictly increasing", "[ids]")
{
  std::string previous;
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) {
    auto id = ids::make(ids::k_event);
    REQUIRE(id > previous);
    previous = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 100000);
}

TEST_CASE("ids from many threads never collide", "[ids]")
{
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) made[t].push_back(ids::make(ids::k_delivery));
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : made) all.insert(v.begin(), v.end());
  CHECK(all.size() == 80000);
}

TEST_CASE("ids sort by time and carry their millisecond timestamp", "[ids]")
{
  auto early = ids::make_at(ids::k_event, 1'700'000'000'000ULL);
  auto later = ids::make_at(ids::k_event, 1'800'000'000'000ULL);
  CHECK(early < later);
  CHECK(ids::timestamp_ms(later) == 1'800'000'000'000ULL);
  auto now = ids::make(ids::k_run);
  CHECK(ids::timestamp_ms(now) >= 1'800'000'000'000ULL);
}

TEST_CASE("ids::is_valid rejects malformed ids", "[ids]")
{
  CHECK_FALSE(ids::is_valid("evt_", "evt"));
  CHECK_FALSE(ids::is_valid("evt_01HZZZZZZZZZZZZZZZZZZZZZZU", "evt"));  // U is not Crockford
  CHECK_FALSE(ids::is_valid("evt-01HZZZZZZZZZZZZZZZZZZZZZZZ", "evt"));
  CHECK_FALSE(ids::is_valid("evt_81HZZZZZZZZZZZZZZZZZZZZZZZ", "evt"));  // overflows 128 bits
  CHECK(ids::is_valid("evt_01HZZZZZZZZZZZZZZZZZZZZZZZ", "evt"));
}

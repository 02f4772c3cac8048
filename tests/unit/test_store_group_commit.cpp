#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include "centrali/store/group_commit.hpp"
#include "temp_dir.hpp"

using namespace centrali;

namespace {

store::GroupCommitter open_writer(const unit::TempDir& dir)
{
  auto s = store::Store::open(dir.path() / "s.db");
  REQUIRE(s);
  return store::GroupCommitter(std::move(*s));
}

} // namespace

TEST_CASE("store::GroupCommitter commits relaxed work on its own, without anything else arriving", "[store]")
{
  unit::TempDir dir;
  auto writer = open_writer(dir);
  std::promise<Result<void>> done;
  writer.submit([](store::Store&) -> Result<void> { return {}; }, store::Durability::normal,
                [&done](Result<void> r) { done.set_value(std::move(r)); }, store::Latency::relaxed);
  auto f = done.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get());
}

TEST_CASE("store::GroupCommitter: prompt work ends a gather, and relaxed work queued before it is committed first",
          "[store]")
{
  unit::TempDir dir;
  auto writer = open_writer(dir);
  std::atomic<int> relaxed_done{0};
  for (int i = 0; i < 5; ++i)
    writer.submit([](store::Store&) -> Result<void> { return {}; }, store::Durability::normal,
                  [&relaxed_done](Result<void> r) { relaxed_done += r ? 1 : 0; }, store::Latency::relaxed);
  // Waiting on a prompt submit returns only after its commit, which holds
  // (or follows) every relaxed item queued before it.
  REQUIRE(writer.submit([](store::Store&) -> Result<void> { return {}; }, store::Durability::normal).get());
  CHECK(relaxed_done == 5);
}

TEST_CASE("store::GroupCommitter::stop commits relaxed work still waiting for company", "[store]")
{
  unit::TempDir dir;
  auto writer = open_writer(dir);
  std::atomic<int> committed{0};
  writer.submit([](store::Store&) -> Result<void> { return {}; }, store::Durability::normal,
                [&committed](Result<void> r) { committed += r ? 1 : 0; }, store::Latency::relaxed);
  writer.stop();
  CHECK(committed == 1);
}

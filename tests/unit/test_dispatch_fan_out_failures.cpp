// The background fan-out on a store that fails under it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>

#include "centrali/dispatch/dispatcher.hpp"
#include "centrali/store/group_commit.hpp"
#include "temp_dir.hpp"

using namespace centrali;
using namespace std::chrono_literals;

TEST_CASE("dispatch::Dispatcher says when its fan-out fails, once, instead of retrying in silence", "[dispatch]")
{
  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  auto s = store::Store::open(path);
  REQUIRE(s);
  // Short waits for the lock keep the test quick: each poll's fan-out fails.
  store::GroupCommitter writer(std::move(*s), 512, 50ms);
  SQLite::Database other(path.string(), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");

  std::mutex mutex;
  std::vector<Error> heard;
  dispatch::DispatcherHooks hooks;
  hooks.fan_out_failed = [&](const Error& e) {
    std::lock_guard lock(mutex);
    heard.push_back(e);
  };
  dispatch::Dispatcher dispatcher(writer, path, hooks, 10ms);
  dispatcher.start();
  auto count = [&] {
    std::lock_guard lock(mutex);
    return heard.size();
  };
  for (int i = 0; i < 2000 && writer.locked_since() == std::nullopt; ++i) std::this_thread::sleep_for(5ms);
  for (int i = 0; i < 2000 && count() == 0; ++i) std::this_thread::sleep_for(5ms);
  REQUIRE(count() >= 1);
  {
    std::lock_guard lock(mutex);
    CHECK(heard.front().fault == StoreFault::locked);
    CHECK_THAT(heard.front().message, Catch::Contains("locked"));
  }
  // More polls fail the same way; they are not said again. (Not a timing
  // threshold: fewer polls in this time only make the check weaker.)
  const auto batches = writer.batches();
  for (int i = 0; i < 20; ++i) {
    dispatcher.wake();
    std::this_thread::sleep_for(20ms);
  }
  CHECK(writer.batches() == batches);  // nothing committed meanwhile
  CHECK(count() == 1);
  other.exec("ROLLBACK");
  dispatcher.stop();
}

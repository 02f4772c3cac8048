#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "centrali/store/group_commit.hpp"
#include "temp_dir.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

store::GroupCommitter open_writer(const unit::TempDir& dir)
{
  auto s = store::Store::open(unit::store_location(dir));
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

namespace {

// Another process's connection holding the store's write lock, as a
// `sqlite3` shell inside BEGIN IMMEDIATE does, until release().
class HeldLock {
public:
  explicit HeldLock(const std::filesystem::path& path) : m_db(path.string(), SQLite::OPEN_READWRITE)
  {
    m_db.exec("BEGIN IMMEDIATE");
  }
  ~HeldLock() { release(); }
  void release()
  {
    if (m_held) m_db.exec("ROLLBACK");
    m_held = false;
  }

private:
  SQLite::Database m_db;
  bool m_held = true;
};

Result<void> insert_record(store::Store& s, int n)
{
  return store::guarded("test insert", [&]() -> Result<void> {
    // A table of its own, so the test depends on no schema.
    s.exec("CREATE TABLE IF NOT EXISTS test_rows (n INTEGER)");
    store::Statement st(s, "INSERT INTO test_rows (n) VALUES (?)");
    st.bind(1, n);
    st.exec();
    return {};
  });
}

} // namespace

TEST_CASE("store::GroupCommitter: while another process holds the lock, a batch fails as locked at once, "
          "without a retry in isolation",
          "[store][sqlite]")
{
  unit::TempDir dir;
  auto s = store::Store::open(dir.path() / "s.db");
  REQUIRE(s);
  // A short wait keeps the test quick; what is checked is that the work
  // fails as locked and is not run again item by item.
  store::GroupCommitter writer(std::move(*s), 512, std::chrono::milliseconds(200));
  HeldLock lock(dir.path() / "s.db");
  std::vector<std::future<Result<void>>> results;
  for (int i = 0; i < 8; ++i)
    results.push_back(writer.submit([i](store::Store& st) { return insert_record(st, i); }));
  for (auto& f : results) {
    REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    auto r = f.get();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::store);
    CHECK(r.error().fault == StoreFault::locked);
    CHECK_THAT(r.error().message, Catch::Contains("locked"));
  }
  CHECK(writer.isolation_retries() == 0);
  CHECK(writer.locked_since());
  CHECK_FALSE(writer.broken());

  // Once the lock is let go, work commits again and the episode ends.
  lock.release();
  CHECK(writer.submit([](store::Store& st) { return insert_record(st, 100); }).get());
  CHECK_FALSE(writer.locked_since());
}

TEST_CASE("store::GroupCommitter: one failing work is retried in isolation, so its neighbours still commit",
          "[store]")
{
  unit::TempDir dir;
  auto s = store::Store::open(unit::store_location(dir));
  REQUIRE(s);
  store::GroupCommitter writer(std::move(*s));
  std::atomic<bool> go{false};
  // Holding the writer on a first work lets the next three share a batch.
  auto gate = writer.submit([&go](store::Store&) -> Result<void> {
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {};
  });
  auto first = writer.submit([](store::Store& st) { return insert_record(st, 1); });
  auto failing = writer.submit([](store::Store&) -> Result<void> { return fail(ErrorKind::rejected, "no"); });
  auto third = writer.submit([](store::Store& st) { return insert_record(st, 3); });
  go = true;
  REQUIRE(gate.get());
  CHECK(first.get());
  CHECK_FALSE(failing.get());
  CHECK(third.get());
  CHECK(writer.isolation_retries() >= 1);
}

// migrate() on a live PostgreSQL server: the first open creates the schema,
// later opens leave it, a newer schema is refused, and processes that open a
// new store at once migrate it once. Runs when CENTRALI_TEST_POSTGRES holds a
// server URL (`dev.sh test` starts one); each test makes its own database.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "centrali/store/connection.hpp"
#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/postgres/migrations.hpp"
#include "scratch_postgres.hpp"

using namespace centrali;
namespace pg = centrali::store::postgres;
using store::Durability;
using store::Statement;

namespace {

std::string test_server()
{
  const char* url = std::getenv("CENTRALI_TEST_POSTGRES");
  return url ? url : "";
}

#define REQUIRE_TEST_SERVER()                                                                \
  if (test_server().empty()) {                                                               \
    SUCCEED("skipped: set CENTRALI_TEST_POSTGRES to a PostgreSQL server URL (dev.sh test does)"); \
    return;                                                                                  \
  }

using testing::ScratchDatabase;

// A session on `db`, as centrali opens a store.
std::unique_ptr<store::Connection> connect(const ScratchDatabase& db)
{
  return pg::connect(db.url(), Durability::full);
}

std::int64_t count(store::Connection& db, const std::string& sql)
{
  Statement st(db.prepare(sql));
  REQUIRE(st.step());
  return st.column(0).as_int64();
}

} // namespace

TEST_CASE("migrating a new PostgreSQL store creates the latest schema and records its version", "[store][postgres]")
{
  REQUIRE_TEST_SERVER();
  ScratchDatabase scratch;
  auto db = connect(scratch);
  auto r = pg::migrate(*db);
  INFO((r ? "" : r.error().message));
  REQUIRE(r);
  CHECK(count(*db, "SELECT version FROM centrali_schema") == pg::latest_postgres_schema_version());
  CHECK(count(*db, "SELECT count(*) FROM centrali_schema") == 1);
  CHECK(count(*db, "SELECT last_seq FROM fanout_cursor") == 0);
  CHECK_FALSE(db->in_transaction());

  // The schema holds what the store writes: a seq the database picks.
  db->exec("INSERT INTO events (id, source, type, status, received_ms, body) VALUES ('evt_1', 's', 't', 'accepted', 1, '')");
  CHECK(db->last_insert_id() == 1);
}

TEST_CASE("opening a migrated PostgreSQL store again keeps its rows and its version", "[store][postgres]")
{
  REQUIRE_TEST_SERVER();
  ScratchDatabase scratch;
  auto db = connect(scratch);
  REQUIRE(pg::migrate(*db));
  db->exec("INSERT INTO sources (name, provider, created_ms) VALUES ('stripe', 'stripe', 1)");

  auto again = connect(scratch);
  REQUIRE(pg::migrate(*again));
  CHECK(count(*again, "SELECT count(*) FROM sources") == 1);
  CHECK(count(*again, "SELECT count(*) FROM centrali_schema") == 1);
  CHECK(count(*again, "SELECT version FROM centrali_schema") == pg::latest_postgres_schema_version());
}

TEST_CASE("opening an up-to-date PostgreSQL store does not wait for another process's write", "[store][postgres]")
{
  REQUIRE_TEST_SERVER();
  ScratchDatabase scratch;
  auto writer = connect(scratch);
  REQUIRE(pg::migrate(*writer));
  writer->begin_write();  // a long write transaction of a running listener

  // A second process opening the store only reads its version: were it to
  // take the write lock, it would fail here, as it may not wait.
  auto opener = connect(scratch);
  opener->set_lock_wait(0);
  auto r = pg::migrate(*opener);
  INFO((r ? "" : r.error().message));
  CHECK(r);
  writer->exec("ROLLBACK");
}

TEST_CASE("a PostgreSQL store of a newer schema is refused, with SQLite's words, and left as it is",
          "[store][postgres]")
{
  REQUIRE_TEST_SERVER();
  ScratchDatabase scratch;
  auto db = connect(scratch);
  REQUIRE(pg::migrate(*db));
  const int newer = pg::latest_postgres_schema_version() + 1;
  db->exec("UPDATE centrali_schema SET version = " + std::to_string(newer));

  auto old_binary = connect(scratch);
  auto r = pg::migrate(*old_binary);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::store);
  CHECK(r.error().message == "schema version " + std::to_string(newer) +
                                 " is newer than this centrali understands (" +
                                 std::to_string(pg::latest_postgres_schema_version()) + "); upgrade centrali");
  CHECK(count(*db, "SELECT version FROM centrali_schema") == newer);
  CHECK_FALSE(old_binary->in_transaction());
}

TEST_CASE("processes opening a new PostgreSQL store at once migrate it once", "[store][postgres]")
{
  REQUIRE_TEST_SERVER();
  ScratchDatabase scratch;
  constexpr int k_processes = 4;
  std::vector<std::unique_ptr<store::Connection>> connections;
  for (int i = 0; i < k_processes; ++i) connections.push_back(connect(scratch));

  std::atomic<int> ready{0};
  std::vector<Result<void>> results(k_processes);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_processes; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < k_processes) std::this_thread::yield();
      results[i] = pg::migrate(*connections[i]);
    });
  for (auto& t : threads) t.join();

  for (const auto& r : results) {
    INFO((r ? "" : r.error().message));
    CHECK(r);
  }
  auto& db = *connections.front();
  CHECK(count(db, "SELECT count(*) FROM centrali_schema") == 1);
  CHECK(count(db, "SELECT count(*) FROM fanout_cursor") == 1);
}


// News of work between processes (store/work_signal.hpp): on PostgreSQL a
// watch hears what another session announced, only once that session's
// transaction commits; a SQLite file has no watch (its processes poll).
#include <catch2/catch.hpp>

#include <chrono>

#include "centrali/store/store.hpp"
#include "centrali/store/work_signal.hpp"
#include "scratch_postgres.hpp"
#include "temp_store.hpp"

using namespace centrali;
using namespace std::chrono_literals;

TEST_CASE("store::watch_work: a SQLite file has no watch", "[store][sqlite]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto watch = store::watch_work((dir.path() / "s.db").string());
  REQUIRE(watch);
  CHECK(*watch == nullptr);
  store::announce_work(s);  // says nothing, fails nothing
}

TEST_CASE("store::watch_work on PostgreSQL hears work announced by another session once it commits, not before, "
          "and not when it rolls back", "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto s = store::Store::open(db.url());
  REQUIRE(s);
  auto watch = store::watch_work(db.url());
  REQUIRE(watch);
  REQUIRE(*watch != nullptr);
  auto& w = **watch;
  CHECK_FALSE(w.wait(50ms));  // nothing announced

  s->connection().begin_write();
  store::announce_work(*s);
  CHECK_FALSE(w.wait(100ms));  // not while the transaction is open
  s->exec("COMMIT");
  CHECK(w.wait(10s));
  CHECK_FALSE(w.wait(50ms));  // taken: heard once

  s->connection().begin_write();
  store::announce_work(*s);
  s->exec("ROLLBACK");
  CHECK_FALSE(w.wait(200ms));

  store::announce_work(*s);  // outside a transaction: at once
  CHECK(w.wait(10s));
}

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/postgres/placeholders.hpp"
#include "centrali/store/postgres/url.hpp"
#include "scratch_postgres.hpp"
#include "temp_dir.hpp"

using namespace centrali;
using store::DatabaseError;
using store::Durability;
using store::WriteLock;
using store::Statement;
namespace pg = centrali::store::postgres;

namespace {

std::string numbered(std::string_view sql, std::vector<std::string>& names)
{
  return pg::number_placeholders(sql, names);
}

// The server the live tests use (a database they may create tables in), or
// empty: then they are skipped, saying so.
std::string test_server()
{
  const char* url = std::getenv("CENTRALI_TEST_POSTGRES");
  return url ? url : "";
}

#define REQUIRE_TEST_SERVER()                                                      \
  if (test_server().empty()) {                                                     \
    WARN("CENTRALI_TEST_POSTGRES is not set: skipped (needs a PostgreSQL server)"); \
    SUCCEED();                                                                     \
    return;                                                                        \
  }

std::unique_ptr<store::Connection> connect(Durability durability = Durability::full)
{
  return pg::connect(test_server(), durability);
}

// A table of its own for one test, dropped after it.
class TempTable {
public:
  explicit TempTable(const std::string& columns) : m_conn(connect())
  {
    std::random_device rd;
    m_name = "centrali_test_" + std::to_string(rd()) + std::to_string(rd());
    m_conn->exec("CREATE TABLE " + m_name + " (" + columns + ")");
  }
  ~TempTable()
  {
    try {
      m_conn->exec("DROP TABLE IF EXISTS " + m_name);
    } catch (...) {
    }
  }
  const std::string& name() const { return m_name; }

private:
  std::unique_ptr<store::Connection> m_conn;
  std::string m_name;
};

std::int64_t scalar(store::Connection& conn, const std::string& sql)
{
  Statement st(conn.prepare(sql));
  REQUIRE(st.step());
  return st.column(0).as_int64();
}

// Ends the session `pid` from `admin`, and waits until it is gone.
void terminate_session(store::Connection& admin, std::int64_t pid)
{
  const auto id = std::to_string(pid);
  scalar(admin, "SELECT count(*) FROM pg_terminate_backend(" + id + ")");
  const auto alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = " + id;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (scalar(admin, alive) != 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(scalar(admin, alive) == 0);
}

// The error `call` throws, as a DatabaseError.
template <class Call>
DatabaseError error_of(Call&& call)
{
  try {
    call();
  } catch (const DatabaseError& e) {
    return e;
  }
  FAIL("no DatabaseError thrown");
  throw;
}

} // namespace

// ---- placeholders: the store's SQLite-style SQL as PostgreSQL reads it ----

TEST_CASE("postgres::number_placeholders numbers ? as SQLite does: after the highest so far", "[postgres]")
{
  std::vector<std::string> names;
  CHECK(numbered("INSERT INTO t VALUES (?, ?, ?)", names) == "INSERT INTO t VALUES ($1, $2, $3)");
  CHECK(names.size() == 3);
  CHECK(numbered("SELECT ?2, ?, ?1", names) == "SELECT $2, $3, $1");
  CHECK(names.size() == 3);
  CHECK(numbered("SELECT ?12", names) == "SELECT $12");
  CHECK(names.size() == 12);
  CHECK_THROWS_AS(numbered("SELECT ?0", names), DatabaseError);
  CHECK_THROWS_AS(numbered("SELECT ?40000", names), DatabaseError);
}

TEST_CASE("postgres::number_placeholders gives each distinct :name one number, shared by its repeats", "[postgres]")
{
  std::vector<std::string> names;
  CHECK(numbered("UPDATE t SET a = :a, b = :b_2 WHERE a = :a OR x = ?", names) ==
        "UPDATE t SET a = $1, b = $2 WHERE a = $1 OR x = $3");
  CHECK(names == std::vector<std::string>{":a", ":b_2", ""});
}

TEST_CASE("postgres::number_placeholders leaves quotes, comments and :: casts alone", "[postgres]")
{
  std::vector<std::string> names;
  CHECK(numbered("SELECT '?', 'it''s :x', \"col?\", ?::bigint -- why? :no\nFROM t /* ? :c */ WHERE a = :a::text", names) ==
        "SELECT '?', 'it''s :x', \"col?\", $1::bigint -- why? :no\nFROM t /* ? :c */ WHERE a = $2::text");
  CHECK(names == std::vector<std::string>{"", ":a"});
  CHECK(numbered("SELECT x[1:2], '{\"a\":1}' FROM t", names) == "SELECT x[1:2], '{\"a\":1}' FROM t");
  CHECK(names.empty());
}

// ---- store locations and their passwords ----

TEST_CASE("postgres::is_postgres_url tells a server from a SQLite file", "[postgres]")
{
  CHECK(pg::is_postgres_url("postgresql://db/centrali"));
  CHECK(pg::is_postgres_url("postgres://u@db:5432/centrali"));
  CHECK_FALSE(pg::is_postgres_url("/var/lib/centrali/store.db"));
  CHECK_FALSE(pg::is_postgres_url("postgresql.db"));
}

TEST_CASE("postgres::redact_postgres_url hides the password in the user info and in password=", "[postgres]")
{
  CHECK(pg::redact_postgres_url("postgresql://alice:s3cr%40t@db:5432/c?sslmode=require") ==
        "postgresql://alice:***@db:5432/c?sslmode=require");
  CHECK(pg::redact_postgres_url("postgres://alice@db/c?password=hunter2&application_name=x") ==
        "postgres://alice@db/c?password=***&application_name=x");
  CHECK(pg::redact_postgres_url("postgresql://a:p@ss@db/c") == "postgresql://a:***@db/c");
  CHECK(pg::redact_postgres_url("postgresql://alice@db/c") == "postgresql://alice@db/c");
  CHECK(pg::redact_postgres_url("postgresql://db:5432/c") == "postgresql://db:5432/c");
  CHECK(pg::redact_postgres_url("host=db password='a b' dbname=c") == "host=db password=*** dbname=c");
}

TEST_CASE("postgres::hide_password removes the URL's password as written and decoded", "[postgres]")
{
  CHECK(pg::hide_password("token \"s3cr%40t\" and s3cr@t", "postgresql://u:s3cr%40t@db/c") == "token \"***\" and ***");
  CHECK(pg::hide_password("bad password=xyz here", "postgresql://db/c") == "bad password=*** here");
}

TEST_CASE("postgres::connect to no server: an unavailable store (or broken, for a bad URL), never showing the password", "[postgres]")
{
  unit::TempDir dir;  // a socket folder where nothing listens
  const std::string password = "Sup3rSecretPw";
  auto e = error_of([&] { pg::connect("postgresql://u:" + password + "@/c?host=" + dir.path().string(), Durability::full); });
  CHECK(e.fault() == StoreFault::unavailable);
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("cannot reach the PostgreSQL server (no such file or directory"));
  CHECK_THAT(e.what(), !Catch::Matchers::Contains(password));

  // libpq quotes a malformed URL's token, password and all.
  auto malformed = error_of([&] { pg::connect("postgresql://u:Sup3r%zzSecret@/c?host=" + dir.path().string(), Durability::full); });
  CHECK(malformed.fault() == StoreFault::broken);
  CHECK_THAT(malformed.what(), Catch::Matchers::Contains("percent-encoded"));
  CHECK_THAT(malformed.what(), !Catch::Matchers::Contains("Sup3r"));
}

// ---- against a live server (CENTRALI_TEST_POSTGRES) ----

TEST_CASE("postgres: int64 values, negative and extreme, read back exactly", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("n bigint");
  auto conn = connect();
  const std::vector<std::int64_t> values{0, -1, 42, std::numeric_limits<std::int64_t>::max(),
                                          std::numeric_limits<std::int64_t>::min()};
  Statement insert(conn->prepare("INSERT INTO " + table.name() + " (n) VALUES (?)"));
  for (auto v : values) {
    insert.bind(1, static_cast<long long>(v));
    CHECK(insert.exec() == 1);
  }
  Statement select(conn->prepare("SELECT n FROM " + table.name() + " ORDER BY n"));
  std::vector<std::int64_t> read;
  while (select.step()) read.push_back(select.column(0).as_int64());
  auto expected = values;
  std::ranges::sort(expected);
  CHECK(read == expected);
  // Stepped past its end, a statement runs again (as with SQLite).
  REQUIRE(select.step());
  CHECK(select.column(0).as_int64() == expected.front());
}

TEST_CASE("postgres: UTF-8 text, doubles, booleans and NULLs read back as bound", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("s text, x double precision, f boolean");
  auto conn = connect();
  const std::string text = "Grüße, 世界 🎉 'quoted' \"double\" \\ back";
  Statement insert(conn->prepare("INSERT INTO " + table.name() + " (s, x, f) VALUES (:s, :x, :s::text IS NOT NULL)"));
  insert.bind(":s", text);
  insert.bind(":x", 0.1 + 0.2);
  insert.exec();
  insert.clear_bindings();  // unbound parameters are NULL
  insert.exec();

  Statement select(conn->prepare("SELECT s, x, f FROM " + table.name() + " ORDER BY s NULLS LAST"));
  REQUIRE(select.step());
  CHECK(select.column(0).as_string() == text);
  CHECK(std::string(select.column(0).as_text()) == text);
  CHECK(select.column(1).as_double() == 0.1 + 0.2);
  CHECK(select.column(2).as_int() == 1);
  REQUIRE(select.step());
  CHECK(select.column(0).is_null());
  CHECK(select.column(0).bytes().empty());
  CHECK(std::string(select.column(0).as_text()).empty());
  CHECK(select.column(1).is_null());
  CHECK(select.column(2).as_int() == 0);
  CHECK_FALSE(select.step());
}

TEST_CASE("postgres: text PostgreSQL cannot hold (a NUL, bytes outside UTF-8) is kept with those bytes escaped as hex",
          "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("s text");
  auto conn = connect();
  Statement insert(conn->prepare("INSERT INTO " + table.name() + " (s) VALUES (?)"));
  insert.bind(1, std::string("/ingest/x\0y\xff\xc3\xa9z", 15));
  insert.exec();
  Statement select(conn->prepare("SELECT s FROM " + table.name()));
  REQUIRE(select.step());
  CHECK(select.column(0).as_string() == "/ingest/x\\x00y\\xff\xc3\xa9z");
}

TEST_CASE("postgres: a NULL blob reads as empty, as on SQLite", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("b bytea");
  auto conn = connect();
  conn->exec("INSERT INTO " + table.name() + " VALUES (NULL)");
  Statement select(conn->prepare("SELECT b FROM " + table.name()));
  REQUIRE(select.step());
  CHECK(select.column(0).is_null());
  CHECK(select.column(0).bytes().empty());
  CHECK(select.column(0).as_string().empty());
}

TEST_CASE("postgres: a blob holding every byte value reads back byte for byte", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("k int, b bytea");
  auto conn = connect();
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  Statement insert(conn->prepare("INSERT INTO " + table.name() + " (k, b) VALUES (?, ?)"));
  insert.bind(1, 1);
  insert.bind_blob(2, all.data(), all.size());
  insert.exec();
  insert.bind(1, 2);
  insert.bind_no_copy(2, all.data(), all.size());
  insert.exec();
  insert.bind(1, 3);
  insert.bind_blob(2, "", 0);  // empty, not NULL
  insert.exec();

  Statement select(conn->prepare("SELECT b, length(b) FROM " + table.name() + " ORDER BY k"));
  for (int k = 1; k <= 2; ++k) {
    REQUIRE(select.step());
    CHECK(select.column(1).as_int() == 256);
    CHECK(select.column(0).bytes() == all);
  }
  REQUIRE(select.step());
  CHECK_FALSE(select.column(0).is_null());
  CHECK(select.column(0).bytes().empty());
}

TEST_CASE("postgres: changes() counts the rows the last write changed, and a read leaves it", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("n int");
  auto conn = connect();
  conn->exec("INSERT INTO " + table.name() + " VALUES (1), (2), (3)");
  CHECK(conn->changes() == 3);
  Statement update(conn->prepare("UPDATE " + table.name() + " SET n = n + 10 WHERE n >= ?"));
  update.bind(1, 2);
  CHECK(update.exec() == 2);
  CHECK(conn->changes() == 2);
  CHECK(scalar(*conn, "SELECT count(*) FROM " + table.name()) == 3);
  CHECK(conn->changes() == 2);
  Statement returning(conn->prepare("DELETE FROM " + table.name() + " RETURNING n"));
  int rows = 0;
  while (returning.step()) ++rows;
  CHECK(rows == 3);
  CHECK(conn->changes() == 3);
}

TEST_CASE("postgres: last_insert_id is the key an identity column gave the last row", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, s text");
  auto conn = connect();
  Statement insert(conn->prepare("INSERT INTO " + table.name() + " (s) VALUES (?)"));
  insert.bind(1, "a");
  insert.exec();
  const auto first = conn->last_insert_id();
  insert.bind(1, "b");
  insert.exec();
  CHECK(conn->last_insert_id() == first + 1);
  CHECK(scalar(*conn, "SELECT seq FROM " + table.name() + " WHERE s = 'b'") == first + 1);
}

TEST_CASE("postgres: a unique violation is a constraint failure, and the SQL's error says what", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("k text PRIMARY KEY");
  auto conn = connect();
  conn->exec("INSERT INTO " + table.name() + " VALUES ('x')");
  auto dup = error_of([&] { conn->exec("INSERT INTO " + table.name() + " VALUES ('x')"); });
  CHECK(dup.fault() == StoreFault::none);
  CHECK_THAT(dup.what(), Catch::Matchers::StartsWith("constraint failed (duplicate key value"));
  auto bad = error_of([&] { conn->prepare("SELEC 1"); });
  CHECK(bad.fault() == StoreFault::none);
  CHECK_THAT(bad.what(), Catch::Matchers::Contains("syntax error"));
}

TEST_CASE("postgres: a write outside any transaction waits for a writer's transaction, as on SQLite", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("n bigint");
  auto writer = connect();
  auto other = connect();
  writer->begin_write();
  Statement count(writer->prepare("SELECT count(*) FROM " + table.name()));
  REQUIRE(count.step());
  CHECK(count.column(0).as_int64() == 0);
  count.reset();
  std::atomic<bool> inserted{false};
  std::thread lone([&] {
    Statement insert(other->prepare("INSERT INTO " + table.name() + " VALUES (1)"));
    insert.exec();
    inserted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The writer's later statements see what its first saw: nothing landed.
  CHECK_FALSE(inserted.load());
  REQUIRE(count.step());
  CHECK(count.column(0).as_int64() == 0);
  count.reset();
  writer->exec("COMMIT");
  lone.join();
  CHECK(inserted.load());
}

TEST_CASE("postgres: begin_write makes writers take turns, and a bounded wait ends as a locked store", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  auto first = connect();
  auto second = connect();
  auto observer = connect();
  first->begin_write();
  CHECK(first->in_transaction());

  second->set_lock_wait(0);
  auto now = error_of([&] { second->begin_write(); });
  CHECK(now.fault() == StoreFault::locked);
  CHECK(std::string(now.what()) == "the store is locked by another process (timed out waiting)");
  CHECK_FALSE(second->in_transaction());

  second->set_lock_wait(50);
  auto waited = error_of([&] { second->begin_write(); });
  CHECK(waited.fault() == StoreFault::locked);
  CHECK(std::string(waited.what()) == "the store is locked by another process (timed out waiting)");
  CHECK_FALSE(second->in_transaction());

  // Without a bound, the second writer waits until the first commits.
  second->set_lock_wait(60'000);
  // Its own wait: other tests on the server (ctest -j) wait for locks of their own.
  const auto second_pid = std::to_string(scalar(*second, "SELECT pg_backend_pid()"));
  std::atomic<bool> began{false};
  std::thread writer([&] {
    second->begin_write();
    began = true;
  });
  const auto waiting =
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = " + second_pid;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (scalar(*observer, waiting) == 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(scalar(*observer, waiting) == 1);
  CHECK_FALSE(began);
  first->exec("COMMIT");
  writer.join();
  CHECK(began);
  CHECK(second->in_transaction());
  second->exec("ROLLBACK");
}

TEST_CASE("postgres: shared writers (listeners' ingestion) run at once, but never alongside an exclusive one",
          "[postgres]")
{
  REQUIRE_TEST_SERVER();
  // A database of its own: the lock is the database's, which the test
  // that makes writers take turns holds at the same time on the server's.
  testing::ScratchDatabase db;
  auto open = [&] { return pg::connect(db.url(), Durability::full); };
  auto one = open();
  auto two = open();
  auto exclusive = open();
  one->begin_write(WriteLock::shared);
  two->set_lock_wait(0);
  two->begin_write(WriteLock::shared);  // no wait: both hold it
  CHECK(two->in_transaction());
  exclusive->set_lock_wait(0);
  CHECK(error_of([&] { exclusive->begin_write(); }).fault() == StoreFault::locked);
  one->exec("COMMIT");
  CHECK(error_of([&] { exclusive->begin_write(); }).fault() == StoreFault::locked);  // two still holds it
  two->exec("COMMIT");
  exclusive->begin_write();
  CHECK(exclusive->in_transaction());
  one->set_lock_wait(0);
  CHECK(error_of([&] { one->begin_write(WriteLock::shared); }).fault() == StoreFault::locked);
  exclusive->exec("ROLLBACK");
}

TEST_CASE("postgres: begin_read reads one snapshot and refuses writes", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("n int");
  auto reader = connect();
  auto writer = connect();
  reader->begin_read();
  const auto count = "SELECT count(*) FROM " + table.name();
  CHECK(scalar(*reader, count) == 0);
  writer->exec("INSERT INTO " + table.name() + " VALUES (1)");
  CHECK(scalar(*reader, count) == 0);
  reader->exec("COMMIT");
  CHECK(scalar(*reader, count) == 1);
  reader->begin_read();
  CHECK_THROWS_AS(reader->exec("INSERT INTO " + table.name() + " VALUES (2)"), DatabaseError);
  reader->exec("ROLLBACK");
}

TEST_CASE("postgres: durability sets synchronous_commit for the write transactions that follow", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  auto conn = connect(Durability::normal);
  // What a write transaction's commit will use.
  auto setting = [&](WriteLock lock) {
    conn->begin_write(lock);
    Statement st(conn->prepare("SELECT current_setting('synchronous_commit')"));
    REQUIRE(st.step());
    auto value = st.column(0).as_string();
    conn->exec("COMMIT");
    return value;
  };
  CHECK(setting(WriteLock::exclusive) == "off");
  conn->set_durability(Durability::full);
  CHECK(setting(WriteLock::exclusive) == "on");
  CHECK(setting(WriteLock::shared) == "on");
  conn->set_durability(Durability::normal);
  CHECK(setting(WriteLock::shared) == "off");
}

namespace {
// How often `sql_start`'s prepared statements on this session were run on
// the plan kept for any values (generic) and on one made for their run (custom).
std::pair<std::int64_t, std::int64_t> plans_of(store::Connection& conn, const std::string& sql_start)
{
  Statement st(conn.prepare("SELECT coalesce(sum(generic_plans), 0)::bigint, coalesce(sum(custom_plans), 0)::bigint "
                            "FROM pg_prepared_statements WHERE statement LIKE ? || '%'"));
  st.bind(1, sql_start);
  REQUIRE(st.step());
  return {st.column(0).as_int64(), st.column(1).as_int64()};
}
} // namespace

TEST_CASE("postgres: a transaction that keeps plans runs its inserts on one plan, and still plans each read for the "
          "rows as they are",
          "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable t("id bigint PRIMARY KEY, v text");
  auto conn = connect();
  Statement insert(conn->prepare("INSERT INTO " + t.name() + " (id, v) VALUES (?, ?)"));
  Statement read(conn->prepare("SELECT v FROM " + t.name() + " WHERE id = ?"));
  conn->set_planning(store::Planning::once);
  for (int i = 1; i <= 3; ++i) {
    conn->begin_write(WriteLock::shared);
    insert.bind(1, i);
    insert.bind(2, "v" + std::to_string(i));
    insert.exec();
    read.bind(1, i);
    REQUIRE(read.step());
    CHECK(read.column(0).as_string() == "v" + std::to_string(i));
    read.reset();
    insert.bind(1, 100 + i);  // after the read: the transaction plans each run from there on
    insert.exec();
    conn->exec("COMMIT");
  }
  CHECK(plans_of(*conn, "INSERT INTO " + t.name()) == std::pair<std::int64_t, std::int64_t>{3, 3});
  // A plan kept for a read on a table of a few rows would scan it whole
  // however large it grows.
  CHECK(plans_of(*conn, "SELECT v FROM " + t.name()) == std::pair<std::int64_t, std::int64_t>{0, 3});
  conn->set_planning(store::Planning::each_run);
  conn->begin_write(WriteLock::shared);
  insert.bind(1, 7);
  insert.bind(2, "v");
  insert.exec();
  conn->exec("COMMIT");
  CHECK(plans_of(*conn, "INSERT INTO " + t.name()) == std::pair<std::int64_t, std::int64_t>{3, 4});
}

TEST_CASE("postgres: a read after ROLLBACK TO a savepoint, in a transaction that kept plans, is planned for its run",
          "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable t("id bigint PRIMARY KEY, v text");
  auto conn = connect();
  Statement read(conn->prepare("SELECT count(*) FROM " + t.name() + " WHERE id = ?"));
  Statement savepoint(conn->prepare("SAVEPOINT work"));
  Statement rollback_to(conn->prepare("ROLLBACK TO work"));
  conn->set_planning(store::Planning::once);
  read.bind(1, 1);
  auto run_read = [&] {
    REQUIRE(read.step());
    read.reset();
  };
  conn->begin_write(WriteLock::shared);
  savepoint.exec();
  run_read();
  rollback_to.exec();  // undoes, on the server, the mode the read set
  run_read();
  conn->exec("COMMIT");
  conn->begin_write(WriteLock::shared);
  conn->exec("SAVEPOINT work");
  run_read();
  conn->exec("ROLLBACK TO SAVEPOINT work");  // the same, as plain SQL
  run_read();
  conn->exec("COMMIT");
  CHECK(plans_of(*conn, "SELECT count(*) FROM " + t.name()) == std::pair<std::int64_t, std::int64_t>{0, 4});
}

TEST_CASE("postgres: a wrong password fails as a broken store without showing the password", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  const std::string password = "Wr0ngPassw0rdXyz";
  const auto url = test_server();
  const auto wrong = url + (url.find('?') == std::string::npos ? "?" : "&") + "password=" + password;
  try {
    pg::connect(wrong, Durability::full);
    WARN("the test server lets anyone in without a password: nothing to check");
  } catch (const DatabaseError& e) {
    CHECK(e.fault() == StoreFault::broken);
    CHECK_THAT(e.what(), Catch::Matchers::StartsWith("cannot reach the PostgreSQL server ("));
    CHECK_THAT(e.what(), !Catch::Matchers::Contains(password));
  }
}

TEST_CASE("postgres: after the server drops the session, the next command reconnects and statements prepare again",
          "[postgres]")
{
  REQUIRE_TEST_SERVER();
  auto conn = connect(Durability::normal);
  auto admin = connect();
  Statement pid(conn->prepare("SELECT pg_backend_pid()"));
  REQUIRE(pid.step());
  const auto old_pid = pid.column(0).as_int64();
  pid.reset();
  terminate_session(*admin, old_pid);

  // The drop shows on the first command after it, as a broken store...
  auto lost = error_of([&] { pid.step(); });
  CHECK(lost.fault() == StoreFault::unavailable);
  CHECK_THAT(lost.what(), Catch::Matchers::StartsWith("lost the connection to the PostgreSQL server"));
  // ...and the next one runs on a new session, with the same statement.
  pid.reset();
  REQUIRE(pid.step());
  CHECK(pid.column(0).as_int64() != old_pid);
  conn->begin_write();
  CHECK(scalar(*conn, "SELECT CASE WHEN current_setting('synchronous_commit') = 'off' THEN 1 ELSE 0 END") == 1);
  conn->exec("ROLLBACK");
}

TEST_CASE("postgres: a transaction lost with its session is never finished as separate commits", "[postgres]")
{
  REQUIRE_TEST_SERVER();
  TempTable table("n int");
  auto conn = connect();
  auto admin = connect();
  Statement insert(conn->prepare("INSERT INTO " + table.name() + " VALUES (?)"));
  conn->begin_write();
  insert.bind(1, 1);
  insert.exec();
  const auto pid = scalar(*conn, "SELECT pg_backend_pid()");
  terminate_session(*admin, pid);

  insert.bind(1, 2);
  CHECK(error_of([&] { insert.exec(); }).fault() == StoreFault::unavailable);
  insert.bind(1, 3);
  auto after = error_of([&] { insert.exec(); });
  CHECK(after.fault() == StoreFault::unavailable);
  CHECK_THAT(after.what(), Catch::Matchers::Contains("during a transaction"));
  CHECK(conn->in_transaction());
  auto commit = error_of([&] { conn->exec("COMMIT"); });
  CHECK(commit.fault() == StoreFault::unavailable);
  CHECK_FALSE(conn->in_transaction());
  CHECK(scalar(*admin, "SELECT count(*) FROM " + table.name()) == 0);
  insert.bind(1, 4);
  CHECK(insert.exec() == 1);
  CHECK(scalar(*admin, "SELECT count(*) FROM " + table.name()) == 1);
}

TEST_CASE("postgres: a statement let go is deallocated on the server, so a long-lived session does not grow",
          "[postgres]")
{
  REQUIRE_TEST_SERVER();
  auto conn = connect();
  const auto prepared = "SELECT count(*) FROM pg_prepared_statements";
  for (int i = 0; i < 3; ++i) Statement st(conn->prepare("SELECT " + std::to_string(i)));
  CHECK(scalar(*conn, prepared) == 1);  // the count's own statement
}

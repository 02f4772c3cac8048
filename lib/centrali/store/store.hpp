#pragma once
// The store: every piece of centrali state, in one SQLite file (the
// default) or in a PostgreSQL database that several processes share. This
// layer is the only code that speaks SQL. A Store is one connection;
// threads that need the store concurrently each open their own.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "centrali/store/connection.hpp"
#include "centrali/util/error.hpp"

namespace SQLite {
class Database;
}

namespace centrali::store {

struct OpenOptions {
  Durability durability = Durability::full;
  int busy_timeout_ms = 10'000;
};

struct TableCount {
  std::string table;
  std::int64_t rows = 0;
};

struct Info {
  std::string path;
  int schema_version = 0;
  int latest_schema_version = 0;
  std::int64_t size_bytes = 0;  // main file plus WAL
  std::vector<TableCount> tables;
};

class Store {
public:
  // Opens the store at `location`: a file path, or a `postgresql://` URL.
  // A file is created when absent (its folder 0700, the file 0600), in WAL
  // mode with foreign keys on. Either way migrations are applied. Fails
  // with ErrorKind::store when the file is not a SQLite file, is read-only,
  // is not safe to use (others could write it: see check_store_safety),
  // when the server cannot be reached, or when the schema is newer than
  // this binary understands.
  static Result<Store> open(const std::filesystem::path& location, OpenOptions options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // The location to show: the path, or the URL with its password hidden.
  const std::string& location() const { return m_location; }
  // The location as given, for opening more connections to the same store.
  // A URL keeps its password here: never show it.
  const std::filesystem::path& path() const { return m_path; }
  Backend backend() const { return m_db->backend(); }
  Connection& connection() { return *m_db; }

  // A prepared statement for `sql`, compiled once per connection and reset
  // for reuse. `sql` must be a string literal (it is the cache key).
  Statement& statement(const char* sql);
  // The same for a statement the two backends spell differently (each
  // spelling lives in store/sqlite/sql.hpp or store/postgres/sql.hpp).
  Statement& statement(const char* sqlite_sql, const char* postgres_sql)
  {
    return statement(backend() == Backend::sqlite ? sqlite_sql : postgres_sql);
  }
  // Runs `insert`, an INSERT of one row, and gives the row's key. Prepare
  // it with statement(sql, sql " RETURNING seq"): PostgreSQL hands the key
  // back with the insert instead of in a round trip of its own, SQLite
  // from last_insert_id (its RETURNING costs a temporary b-tree a run).
  std::int64_t insert_for_key(Statement& insert);
  // Runs SQL without parameters (it may hold several statements).
  void exec(const std::string& sql) { m_db->exec(sql); }
  // The first column of the first row of `sql` (0 when there is none).
  std::int64_t query_int64(const std::string& sql);
  // The same as text ("" when there is none).
  std::string query_text(const std::string& sql);
  // Rows changed by the last statement that ran.
  std::int64_t changes() { return m_db->changes(); }

  // Resets every cached statement. A statement left mid-result keeps a read
  // snapshot open; on a writer that snapshot goes stale and the next
  // BEGIN IMMEDIATE fails at once with SQLITE_BUSY instead of waiting.
  void reset_statements();

  Result<Info> info();
  // Rebuilds the file to reclaim free pages; returns bytes before and after.
  Result<std::pair<std::int64_t, std::int64_t>> vacuum();

private:
  Store(std::filesystem::path path, std::string location, std::unique_ptr<Connection> db);
  std::filesystem::path m_path;
  std::string m_location;
  std::unique_ptr<Connection> m_db;
  std::unordered_map<const char*, std::unique_ptr<Statement>> m_statements;
};

// Runs `fn` as one atomic write: BEGIN IMMEDIATE when no transaction is open
// (so a read-then-write never loses a race), else a savepoint inside the
// caller's transaction. Commits when `fn` succeeds, rolls back otherwise.
Result<void> write_transaction(Store& store, const std::function<Result<void>()>& fn);

// Runs `fn` inside one read transaction, so its reads share a snapshot and
// pay for starting and ending a read once instead of once per statement.
// Inside a caller's transaction it just runs `fn`.
Result<void> read_snapshot(Store& store, const std::function<Result<void>()>& fn);

// `location` as output may show it: a URL's password hidden.
std::string display_location(const std::filesystem::path& location);

// `location` as another process in another folder can open it: a file
// path made absolute, a URL as it is.
std::string absolute_location(const std::filesystem::path& location);

// The schema version this binary writes.
int latest_schema_version();

// Applies migrations to `db` up to `target` (all when -1). Exposed so tests
// can build a store as an older binary would have left it.
Result<void> migrate(SQLite::Database& db, int target = -1);

// Runs `fn` and turns any database exception into an ErrorKind::store error
// whose message starts with `context`. Internal text never leaves unlabelled.
template <class Fn>
auto guarded(const std::string& context, Fn&& fn) -> decltype(fn());
// The same with the context `what` followed by `subject` (an id), put
// together only on failure: the hot paths run it for every delivery.
template <class Fn>
auto guarded(std::string_view what, std::string_view subject, Fn&& fn) -> decltype(fn());


} // namespace centrali::store

#include "centrali/store/guarded.ipp"

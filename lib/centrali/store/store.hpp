#pragma once
// The store: one SQLite file holding every piece of centrali state. This
// layer is the only code that includes SQLite. A Store is one connection;
// threads that need the store concurrently each open their own.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "centrali/util/error.hpp"

namespace SQLite {
class Database;
class Statement;
}

namespace centrali::store {

// How writes reach the disk. `full` fsyncs the WAL at each commit, so a
// committed transaction survives power loss; `normal` survives a crash of
// the process only. Ingestion acknowledges only after a `full` commit.
enum class Durability { normal, full };

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
  // Opens (creating when absent) the store at `path`: the folder is created
  // 0700, the file 0600, WAL mode, foreign keys on, and migrations applied.
  // Fails with ErrorKind::store when the path is not a SQLite file, is
  // read-only, holds a schema newer than this binary understands, or is not
  // safe to use (others could write it: see check_store_safety).
  static Result<Store> open(const std::filesystem::path& path, OpenOptions options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& path() const { return m_path; }
  SQLite::Database& db() { return *m_db; }

  // A prepared statement for `sql`, compiled once per connection and reset
  // for reuse. `sql` must be a string literal (it is the cache key).
  SQLite::Statement& statement(const char* sql);

  // Resets every cached statement. A statement left mid-result keeps a read
  // snapshot open; on a writer that snapshot goes stale and the next
  // BEGIN IMMEDIATE fails at once with SQLITE_BUSY instead of waiting.
  void reset_statements();

  Result<Info> info();
  // Rebuilds the file to reclaim free pages; returns bytes before and after.
  Result<std::pair<std::int64_t, std::int64_t>> vacuum();

private:
  Store(std::filesystem::path path, std::unique_ptr<SQLite::Database> db);
  std::filesystem::path m_path;
  std::unique_ptr<SQLite::Database> m_db;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> m_statements;
};

// Runs `fn` as one atomic write: BEGIN IMMEDIATE when no transaction is open
// (so a read-then-write never loses a race), else a savepoint inside the
// caller's transaction. Commits when `fn` succeeds, rolls back otherwise.
Result<void> write_transaction(Store& store, const std::function<Result<void>()>& fn);

// Runs `fn` inside one read transaction, so its reads share a snapshot and
// pay for starting and ending a read once instead of once per statement.
// Inside a caller's transaction it just runs `fn`.
Result<void> read_snapshot(Store& store, const std::function<Result<void>()>& fn);

// The schema version this binary writes.
int latest_schema_version();

// Applies migrations to `db` up to `target` (all when -1). Exposed so tests
// can build a store as an older binary would have left it.
Result<void> migrate(SQLite::Database& db, int target = -1);

// Runs `fn` and turns any SQLite exception into an ErrorKind::store error
// whose message starts with `context`. Internal text never leaves unlabelled.
template <class Fn>
auto guarded(const std::string& context, Fn&& fn) -> decltype(fn());
// The same with the context `what` followed by `subject` (an id), put
// together only on failure: the hot paths run it for every delivery.
template <class Fn>
auto guarded(std::string_view what, std::string_view subject, Fn&& fn) -> decltype(fn());

// Message for a SQLite failure, without internal exception noise.
std::string describe_sqlite_error(int code, int extended_code, const std::string& what);
// What a SQLite result code says about the store: locked (busy), broken
// (corrupt, I/O error, full, unwritable), or neither.
StoreFault sqlite_fault(int code);

} // namespace centrali::store

#include "centrali/store/guarded.ipp"

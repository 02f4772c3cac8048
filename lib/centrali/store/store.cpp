#include "centrali/store/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "centrali/store/file_safety.hpp"

namespace fs = std::filesystem;

namespace centrali::store {
namespace {

// SQLite keeps global memory statistics behind one process-wide mutex taken
// on every allocation, which every connection's thread then contends for;
// nothing here reads them. sqlite3_config works only before SQLite
// initialises, so this runs at load time, before any connection opens.
[[maybe_unused]] const bool k_memstatus_off = [] {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return true;
}();

// Creates each missing folder of `dir` with mode 0700: the store holds
// secrets and raw payloads, so nobody else should be able to list it.
Result<void> make_private_dirs(const fs::path& dir)
{
  if (dir.empty()) return {};
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  if (fs::exists(dir, ec))
    return fail(ErrorKind::store, "cannot create store folder " + dir.string() + ": a file is in the way");
  if (auto r = make_private_dirs(dir.parent_path()); !r) return r;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(ErrorKind::store, "cannot create store folder " + dir.string() + ": " + std::strerror(errno));
  return {};
}

// Creates the database file 0600 before SQLite sees it; SQLite then gives
// its -wal and -shm files the same mode.
Result<void> make_private_file(const fs::path& file)
{
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EROFS || err == EPERM)
      return fail(ErrorKind::store, "cannot write store " + file.string() + ": location is read-only (" +
                                        std::strerror(err) + ")");
    return fail(ErrorKind::store, "cannot open store " + file.string() + ": " + std::strerror(err));
  }
  ::close(fd);
  return {};
}

std::int64_t file_size_or_zero(const fs::path& p)
{
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

} // namespace

std::string describe_sqlite_error(int code, int extended_code, const std::string& what)
{
  switch (code & 0xff) {
  case SQLITE_NOTADB: return "not a SQLite database (file is corrupt or of another kind)";
  case SQLITE_CORRUPT: return "the database file is corrupt";
  case SQLITE_READONLY: return "the store is read-only";
  case SQLITE_CANTOPEN: return "cannot open the database file";
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return "the store is locked by another process (timed out waiting)";
  case SQLITE_FULL: return "the disk is full";
  case SQLITE_IOERR: return "I/O error while accessing the store";
  case SQLITE_PERM: return "permission denied";
  case SQLITE_CONSTRAINT: return "constraint failed (" + what + ")";
  default: break;
  }
  (void)extended_code;
  return std::string(sqlite3_errstr(code));
}

StoreFault sqlite_fault(int code)
{
  switch (code & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return StoreFault::locked;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
  case SQLITE_READONLY:
  case SQLITE_CANTOPEN:
  case SQLITE_FULL:
  case SQLITE_IOERR:
  case SQLITE_PERM: return StoreFault::broken;
  default: return StoreFault::none;
  }
}

Store::Store(fs::path path, std::unique_ptr<SQLite::Database> db) : m_path(std::move(path)), m_db(std::move(db))
{
}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&& other) noexcept
{
  if (this != &other) {
    m_statements.clear();
    m_db = std::move(other.m_db);
    m_path = std::move(other.m_path);
    m_statements = std::move(other.m_statements);
  }
  return *this;
}
Store::~Store()
{
  // Statements must be finalized before their connection closes.
  m_statements.clear();
}

// tryReset: sqlite3_reset repeats the error of a step that failed (say, a
// unique constraint a caller caught and handled); that error belongs to the
// finished execution, not to the reset, so it must not throw here.
void Store::reset_statements()
{
  for (auto& [sql, st] : m_statements)
    if (st) st->tryReset();
}

SQLite::Statement& Store::statement(const char* sql)
{
  auto& slot = m_statements[sql];
  if (!slot) {
    slot = std::make_unique<SQLite::Statement>(*m_db, sql);
  } else {
    slot->tryReset();
    slot->clearBindings();
  }
  return *slot;
}

Result<Store> Store::open(const fs::path& path, OpenOptions options)
{
  if (path.empty()) return fail(ErrorKind::store, "store path is empty");
  std::error_code ec;
  if (fs::is_directory(path, ec))
    return fail(ErrorKind::store, "store path " + path.string() + " is a directory, not a SQLite file");
  // Before anything is created or read: the store holds commands that
  // triggers run, so one that others could have written is not used.
  if (auto r = check_store_safety(path); !r) return std::unexpected(r.error());
  const bool existed = fs::exists(path, ec);
  if (!existed) {
    if (auto r = make_private_dirs(path.parent_path()); !r) return std::unexpected(r.error());
    if (auto r = make_private_file(path); !r) return std::unexpected(r.error());
  } else {
    // WAL needs to create files beside the database, so the folder must be
    // writable too, not only the file.
    auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    if (::access(path.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0)
      return fail(ErrorKind::store, "cannot write store " + path.string() + ": location is read-only (" +
                                        std::strerror(errno) + ")");
  }

  return guarded("store " + path.string(), [&]() -> Result<Store> {
    // NOMUTEX: a connection is only ever used by one thread at a time (each
    // thread opens its own, and shared readers sit behind their owner's
    // mutex), so SQLite's per-call connection mutex is pure cost.
    auto db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE |
                                                                    SQLite::OPEN_NOMUTEX);
    db->setBusyTimeout(options.busy_timeout_ms);
    // Reading the header is the first touch of the file: a non-SQLite file
    // fails here, before we try to change anything in it.
    db->exec("SELECT count(*) FROM sqlite_schema");
    std::string mode = db->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (mode != "wal")
      return fail(ErrorKind::store, "store " + path.string() + ": cannot enable WAL mode (got " + mode + ")");
    db->exec(options.durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    db->exec("PRAGMA foreign_keys=ON");
    if (auto r = migrate(*db); !r) return fail(r.error().kind, "store " + path.string() + ": " + r.error().message);
    return Store(path, std::move(db));
  });
}

Result<void> read_snapshot(Store& store, const std::function<Result<void>()>& fn)
{
  return guarded("store read", [&]() -> Result<void> {
    auto& db = store.db();
    if (sqlite3_get_autocommit(db.getHandle()) == 0) return fn();
    store.statement("BEGIN").exec();
    Result<void> r;
    try {
      r = fn();
    } catch (...) {
      store.reset_statements();
      try {
        db.exec("ROLLBACK");
      } catch (...) {
        // The failure that brought us here is the one worth reporting.
      }
      throw;
    }
    // Cached statements left mid-result would hold the snapshot past the end.
    store.reset_statements();
    if (r) store.statement("COMMIT").exec();
    else db.exec("ROLLBACK");
    return r;
  });
}

Result<void> write_transaction(Store& store, const std::function<Result<void>()>& fn)
{
  return guarded("store write", [&]() -> Result<void> {
    auto& db = store.db();
    const bool outer = sqlite3_get_autocommit(db.getHandle()) != 0;
    // A cached read left mid-result would pin a stale snapshot and make
    // BEGIN IMMEDIATE fail at once instead of waiting for the lock.
    if (outer) store.reset_statements();
    db.exec(outer ? "BEGIN IMMEDIATE" : "SAVEPOINT centrali_write");
    auto undo = [&] {
      try {
        if (outer) db.exec("ROLLBACK");
        else db.exec("ROLLBACK TO centrali_write; RELEASE centrali_write");
      } catch (...) {
        // The failure that brought us here is the one worth reporting.
      }
    };
    Result<void> r;
    try {
      r = fn();
    } catch (...) {
      undo();
      throw;
    }
    if (!r) {
      undo();
      return r;
    }
    db.exec(outer ? "COMMIT" : "RELEASE centrali_write");
    return {};
  });
}

Result<Info> Store::info()
{
  return guarded("store info", [&]() -> Result<Info> {
    Info info;
    info.path = fs::absolute(m_path).lexically_normal().string();
    info.schema_version = m_db->execAndGet("PRAGMA user_version").getInt();
    info.latest_schema_version = latest_schema_version();
    SQLite::Statement tables(*m_db, "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                                    "ORDER BY name");
    std::vector<std::string> names;
    while (tables.executeStep()) names.push_back(tables.getColumn(0).getString());
    for (auto& name : names) {
      // Table names come from sqlite_schema, never from input; quoting keeps
      // any odd name inert all the same.
      SQLite::Statement count(*m_db, "SELECT count(*) FROM \"" + name + "\"");
      count.executeStep();
      info.tables.push_back({name, count.getColumn(0).getInt64()});
    }
    info.size_bytes = file_size_or_zero(m_path) + file_size_or_zero(m_path.string() + "-wal");
    return info;
  });
}

Result<std::pair<std::int64_t, std::int64_t>> Store::vacuum()
{
  return guarded("store vacuum", [&]() -> Result<std::pair<std::int64_t, std::int64_t>> {
    auto before = file_size_or_zero(m_path) + file_size_or_zero(m_path.string() + "-wal");
    m_db->exec("VACUUM");
    m_db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto after = file_size_or_zero(m_path) + file_size_or_zero(m_path.string() + "-wal");
    return std::pair{before, after};
  });
}

} // namespace centrali::store

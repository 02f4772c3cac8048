#include "centrali/store/sqlite/open.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include "centrali/store/file_safety.hpp"
#include "centrali/store/sqlite/connection.hpp"

namespace fs = std::filesystem;

namespace centrali::store::sqlite {
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

} // namespace

Result<std::unique_ptr<Connection>> open_file(const fs::path& path, OpenOptions options)
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

  const std::string context = "store " + path.string();
  try {
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
    if (mode != "wal") return fail(ErrorKind::store, context + ": cannot enable WAL mode (got " + mode + ")");
    db->exec(options.durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    db->exec("PRAGMA foreign_keys=ON");
    if (auto r = migrate(*db); !r) return fail(r.error().kind, context + ": " + r.error().message);
    return wrap(std::move(db));
  } catch (const SQLite::Exception& e) {
    return std::unexpected(Error{ErrorKind::store, context + ": " + describe_error(e.getErrorCode(), e.what()),
                                 fault_of(e.getErrorCode())});
  } catch (const std::exception& e) {
    return fail(ErrorKind::store, context + ": " + e.what());
  }
}

} // namespace centrali::store::sqlite

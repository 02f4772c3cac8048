#include "centrali/store/sqlite/connection.hpp"

#include <sqlite3.h>

#include <SQLiteCpp/Database.h>

namespace centrali::store::sqlite {
namespace {

[[noreturn]] void raise(sqlite3* db, int code)
{
  throw DatabaseError(describe_error(code, db ? sqlite3_errmsg(db) : sqlite3_errstr(code)), fault_of(code));
}

class SqliteStatement final : public StatementImpl {
public:
  SqliteStatement(sqlite3* db, const std::string& sql) : m_db(db)
  {
    int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size() + 1), &m_st, nullptr);
    if (rc != SQLITE_OK) raise(db, rc);
  }
  ~SqliteStatement() override { sqlite3_finalize(m_st); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bind_null(int i) override { check(sqlite3_bind_null(m_st, i)); }
  void bind_int64(int i, std::int64_t v) override { check(sqlite3_bind_int64(m_st, i, v)); }
  void bind_double(int i, double v) override { check(sqlite3_bind_double(m_st, i, v)); }
  void bind_text(int i, std::string_view v, bool copy) override
  {
    check(sqlite3_bind_text64(m_st, i, v.data(), v.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8));
  }
  void bind_blob(int i, const void* data, std::size_t size, bool copy) override
  {
    check(sqlite3_bind_blob64(m_st, i, data, size, copy ? SQLITE_TRANSIENT : SQLITE_STATIC));
  }
  int parameter_index(const char* name) override
  {
    int i = sqlite3_bind_parameter_index(m_st, name);
    if (i == 0) throw DatabaseError(std::string("no parameter ") + name, StoreFault::none);
    return i;
  }
  bool step() override
  {
    int rc = sqlite3_step(m_st);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail_step(rc);
  }
  int exec() override
  {
    int rc = sqlite3_step(m_st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail_step(rc);
    // Done with it: a statement left open would hold its read snapshot.
    sqlite3_reset(m_st);
    return sqlite3_changes(m_db);
  }
  // sqlite3_reset repeats the error of a step that failed (say, a unique
  // constraint a caller caught and handled); that error belongs to the
  // finished execution, not to the reset, so it is not raised here.
  void reset() noexcept override { sqlite3_reset(m_st); }
  void clear_bindings() override { sqlite3_clear_bindings(m_st); }
  bool column_is_null(int c) const override { return sqlite3_column_type(m_st, c) == SQLITE_NULL; }
  std::int64_t column_int64(int c) const override { return sqlite3_column_int64(m_st, c); }
  double column_double(int c) const override { return sqlite3_column_double(m_st, c); }
  std::string_view column_bytes(int c) const override
  {
    // blob before bytes: the documented order that avoids a conversion.
    const void* data = sqlite3_column_blob(m_st, c);
    const int size = sqlite3_column_bytes(m_st, c);
    return data ? std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size))
                : std::string_view();
  }
  const char* column_text(int c) const override
  {
    const auto* text = sqlite3_column_text(m_st, c);
    return text ? reinterpret_cast<const char*>(text) : "";
  }
  int column_count() const override { return sqlite3_column_count(m_st); }
  ColumnKind column_kind(int c) const override
  {
    switch (sqlite3_column_type(m_st, c)) {
    case SQLITE_INTEGER: return ColumnKind::integer;
    case SQLITE_FLOAT: return ColumnKind::real;
    case SQLITE_TEXT: return ColumnKind::text;
    case SQLITE_BLOB: return ColumnKind::blob;
    default: return ColumnKind::null;
    }
  }

private:
  void check(int rc)
  {
    if (rc != SQLITE_OK) raise(m_db, rc);
  }
  [[noreturn]] void fail_step(int rc)
  {
    // The message belongs to this execution; read it before the reset.
    std::string what = sqlite3_errmsg(m_db);
    int code = sqlite3_extended_errcode(m_db);
    sqlite3_reset(m_st);
    throw DatabaseError(describe_error(code ? code : rc, what), fault_of(code ? code : rc));
  }
  sqlite3* m_db;
  sqlite3_stmt* m_st = nullptr;
};

class SqliteConnection final : public Connection {
public:
  explicit SqliteConnection(std::unique_ptr<SQLite::Database> db) : m_owner(std::move(db)), m_db(m_owner->getHandle())
  {
  }
  Backend backend() const override { return Backend::sqlite; }
  std::unique_ptr<StatementImpl> prepare(const std::string& sql) override
  {
    return std::make_unique<SqliteStatement>(m_db, sql);
  }
  void exec(const std::string& sql) override
  {
    int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) raise(m_db, rc);
  }
  std::int64_t changes() override { return sqlite3_changes64(m_db); }
  std::int64_t last_insert_id() override { return sqlite3_last_insert_rowid(m_db); }
  bool in_transaction() override { return sqlite3_get_autocommit(m_db) == 0; }
  // IMMEDIATE takes the write lock at once, so a read-then-write never
  // finds its snapshot stale at the first write.
  using Connection::begin_write;
  // SQLite has one write lock: a shared writer takes it as any other.
  void begin_write(WriteLock) override
  {
    // Prepared once: the writer begins a transaction per batch.
    if (!m_begin_immediate) m_begin_immediate = std::make_unique<SqliteStatement>(m_db, "BEGIN IMMEDIATE");
    m_begin_immediate->exec();
  }
  void begin_read() override { exec("BEGIN"); }
  // A connection setting, read at COMMIT: change it between transactions.
  void set_durability(Durability d) override
  {
    exec(d == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  }
  void set_lock_wait(int ms) override { sqlite3_busy_timeout(m_db, ms); }
  // Every statement keeps the plan made when it was prepared.
  void set_planning(Planning) override {}

private:
  std::unique_ptr<SQLite::Database> m_owner;
  sqlite3* m_db;
  std::unique_ptr<SqliteStatement> m_begin_immediate;  // before m_owner goes: declared after it
};

} // namespace

std::unique_ptr<Connection> wrap(std::unique_ptr<SQLite::Database> db)
{
  return std::make_unique<SqliteConnection>(std::move(db));
}

std::string describe_error(int code, const std::string& what)
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
  return std::string(sqlite3_errstr(code));
}

StoreFault fault_of(int code)
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

} // namespace centrali::store::sqlite

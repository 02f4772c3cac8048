#pragma once
// One connection to the database behind a store, whichever backend holds it
// (a SQLite file or a PostgreSQL server). The store layer reaches its
// database through this alone; nothing outside store/ sees it.
//
// Statements are written with SQLite's placeholders (`?`, `?N`, `:name`);
// the PostgreSQL backend numbers them `$N` when it prepares them. Where the
// two dialects differ, each backend's text lives in its own file
// (store/sqlite/, store/postgres/).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"

namespace centrali::store {

enum class Backend { sqlite, postgresql };

// What one result value holds, in the terms both backends share.
enum class ColumnKind { null, integer, real, text, blob };

// How writes reach the disk. `full` waits for the commit to be durable (an
// fsync of SQLite's WAL; PostgreSQL's synchronous_commit), so a committed
// transaction survives power loss; `normal` survives a crash of the process
// only. Ingestion acknowledges only after a `full` commit.
enum class Durability { normal, full };

// Whether the statements of a write transaction may keep the plan made at
// their first run, where the backend caches plans (PostgreSQL; SQLite plans
// a statement once, when it is prepared). Each run is planned for the
// tables as they are (`each_run`): a plan kept from a store's first, nearly
// empty tables would scan every row later. Work whose statements plan
// alike whatever the tables hold (inserting given values) says `once` and
// saves the planning: a listener's batch insert, planned afresh each
// time, cost its server about a tenth of its CPU. A statement that does
// depend on the rows is still planned afresh (the backend sees to it), so
// `once` is a saving, never a risk.
enum class Planning { each_run, once };

// A failure a backend reported, already in words a person can act on (no
// driver noise, never a password) and classified, so that callers can tell
// "try again later" (locked, unavailable) from a broken store.
class DatabaseError : public std::runtime_error {
public:
  DatabaseError(const std::string& message, StoreFault fault) : std::runtime_error(message), m_fault(fault) {}
  StoreFault fault() const { return m_fault; }

private:
  StoreFault m_fault;
};

// The refusal of a store whose schema is newer than this binary's, in
// the same words on every backend.
inline Error newer_schema_error(int found, int latest)
{
  return Error{ErrorKind::store, "schema version " + std::to_string(found) + " is newer than this centrali understands (" +
                                     std::to_string(latest) + "); upgrade centrali"};
}

// What a backend implements for one prepared statement. Parameters are
// numbered from 1, result columns from 0.
class StatementImpl {
public:
  virtual ~StatementImpl() = default;
  virtual void bind_null(int index) = 0;
  virtual void bind_int64(int index, std::int64_t value) = 0;
  virtual void bind_double(int index, double value) = 0;
  // `copy` false: the caller keeps `value` alive and unchanged until the
  // statement has run (the hot paths bind bodies without copying them).
  virtual void bind_text(int index, std::string_view value, bool copy) = 0;
  virtual void bind_blob(int index, const void* data, std::size_t size, bool copy) = 0;
  // The number of the parameter written `:name` (name includes the colon).
  virtual int parameter_index(const char* name) = 0;
  // Moves to the next result row; false once there is none.
  virtual bool step() = 0;
  // Runs the statement to its end; the number of rows it changed.
  virtual int exec() = 0;
  // Ends the current execution (never throws); bindings stay.
  virtual void reset() noexcept = 0;
  virtual void clear_bindings() = 0;
  virtual bool column_is_null(int column) const = 0;
  virtual std::int64_t column_int64(int column) const = 0;
  virtual double column_double(int column) const = 0;
  // Text, or a blob's bytes; empty for NULL. Valid until the next step.
  virtual std::string_view column_bytes(int column) const = 0;
  // The same, NUL-terminated ("" for NULL).
  virtual const char* column_text(int column) const = 0;
  // Columns in the result (known once step() has run).
  virtual int column_count() const = 0;
  // What the current row holds in `column`: SQLite's type of the value,
  // PostgreSQL's type of the column (null for a NULL on either).
  virtual ColumnKind column_kind(int column) const = 0;
};

class Statement;

// One value of the current row.
class Column {
public:
  Column(const StatementImpl& st, int index) : m_st(st), m_index(index) {}
  bool is_null() const { return m_st.column_is_null(m_index); }
  std::int64_t as_int64() const { return m_st.column_int64(m_index); }
  int as_int() const { return static_cast<int>(m_st.column_int64(m_index)); }
  double as_double() const { return m_st.column_double(m_index); }
  std::string as_string() const { return std::string(m_st.column_bytes(m_index)); }
  const char* as_text() const { return m_st.column_text(m_index); }
  std::string_view bytes() const { return m_st.column_bytes(m_index); }
  ColumnKind kind() const { return m_st.column_kind(m_index); }

private:
  const StatementImpl& m_st;
  int m_index;
};

class Store;

// A prepared statement on one connection.
class Statement {
public:
  explicit Statement(std::unique_ptr<StatementImpl> impl) : m_impl(std::move(impl)) {}
  // Prepares `sql` on `store`'s connection, for a statement built at run
  // time (cached ones come from Store::statement).
  Statement(Store& store, const std::string& sql);

  void bind(int i) { m_impl->bind_null(i); }
  void bind(int i, int v) { m_impl->bind_int64(i, v); }
  void bind(int i, unsigned v) { m_impl->bind_int64(i, v); }
  void bind(int i, long v) { m_impl->bind_int64(i, v); }
  void bind(int i, long long v) { m_impl->bind_int64(i, v); }
  void bind(int i, double v) { m_impl->bind_double(i, v); }
  void bind(int i, const std::string& v) { m_impl->bind_text(i, v, true); }
  void bind(int i, const char* v) { m_impl->bind_text(i, v, true); }
  void bind(int i, std::string_view v) { m_impl->bind_text(i, v, true); }
  void bind_blob(int i, const void* data, std::size_t size) { m_impl->bind_blob(i, data, size, true); }
  void bind_no_copy(int i, const std::string& v) { m_impl->bind_text(i, v, false); }
  void bind_no_copy(int i, const void* data, std::size_t size) { m_impl->bind_blob(i, data, size, false); }
  template <class... V>
  void bind(const char* name, V&&... v)
  {
    bind(m_impl->parameter_index(name), std::forward<V>(v)...);
  }

  bool step() { return m_impl->step(); }
  int exec() { return m_impl->exec(); }
  void reset() noexcept { m_impl->reset(); }
  void clear_bindings() { m_impl->clear_bindings(); }
  Column column(int i) const { return Column(*m_impl, i); }
  int column_count() const { return m_impl->column_count(); }

private:
  std::unique_ptr<StatementImpl> m_impl;
};

// What a backend implements for one connection. A connection is used by
// one thread at a time.
enum class WriteLock { exclusive, shared };

class Connection {
public:
  virtual ~Connection() = default;
  virtual Backend backend() const = 0;
  virtual std::unique_ptr<StatementImpl> prepare(const std::string& sql) = 0;
  // Runs SQL without parameters (it may hold several statements).
  virtual void exec(const std::string& sql) = 0;
  // Rows changed by the last statement that ran.
  virtual std::int64_t changes() = 0;
  // The key the last insert gave a row whose key the database chose (seq).
  virtual std::int64_t last_insert_id() = 0;
  virtual bool in_transaction() = 0;
  // Starts a write transaction that holds the store's write lock: writers
  // on one store take turns, on every backend, so a read-then-write inside
  // one never races another process. WriteLock::shared is for transactions
  // that stay right beside their copies in other processes: they add rows
  // whose uniqueness the indexes decide (ingestion), or change rows under
  // row locks (a claim's SKIP LOCKED, an attempt's conditional update).
  // Where the backend allows, many run at once, but never alongside an
  // exclusive one (the fan-out reads past its cursor only when no event
  // is half-inserted).
  virtual void begin_write(WriteLock lock) = 0;
  void begin_write() { begin_write(WriteLock::exclusive); }
  // Starts a read-only transaction: its reads share one snapshot.
  virtual void begin_read() = 0;
  // Applies to the commits that follow.
  virtual void set_durability(Durability durability) = 0;
  // Applies to the write transactions that begin after it.
  virtual void set_planning(Planning planning) = 0;
  // How long begin_write may wait for another process's write lock.
  virtual void set_lock_wait(int milliseconds) = 0;
};

} // namespace centrali::store

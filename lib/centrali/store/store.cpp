#include "centrali/store/store.hpp"

#include <system_error>

#include "centrali/store/postgres/open.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/postgres/url.hpp"
#include "centrali/store/sqlite/open.hpp"
#include "centrali/store/sqlite/sql.hpp"

namespace fs = std::filesystem;

namespace centrali::store {
namespace {

std::int64_t file_size_or_zero(const fs::path& p)
{
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

} // namespace

Statement::Statement(Store& store, const std::string& sql) : m_impl(store.connection().prepare(sql)) {}

Store::Store(fs::path path, std::string location, std::unique_ptr<Connection> db)
    : m_path(std::move(path)), m_location(std::move(location)), m_db(std::move(db))
{
}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&& other) noexcept
{
  if (this != &other) {
    m_statements.clear();
    m_db = std::move(other.m_db);
    m_location = std::move(other.m_location);
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

void Store::reset_statements()
{
  for (auto& [sql, st] : m_statements)
    if (st) st->reset();
}

Statement& Store::statement(const char* sql)
{
  auto& slot = m_statements[sql];
  if (!slot) {
    slot = std::make_unique<Statement>(m_db->prepare(sql));
  } else {
    slot->reset();
    slot->clear_bindings();
  }
  return *slot;
}

std::int64_t Store::insert_for_key(Statement& insert)
{
  if (!insert.step()) return m_db->last_insert_id();  // no RETURNING clause
  const auto key = insert.column(0).as_int64();
  insert.reset();
  return key;
}

std::int64_t Store::query_int64(const std::string& sql)
{
  Statement st(m_db->prepare(sql));
  return st.step() ? st.column(0).as_int64() : 0;
}

std::string Store::query_text(const std::string& sql)
{
  Statement st(m_db->prepare(sql));
  return st.step() ? st.column(0).as_string() : std::string();
}

Result<Store> Store::open(const fs::path& location, OpenOptions options)
{
  const std::string text = location.string();
  if (postgres::is_postgres_url(text)) {
    auto db = postgres::open(text, options);
    if (!db) return std::unexpected(db.error());
    return Store(location, postgres::redact_postgres_url(text), std::move(*db));
  }
  auto db = sqlite::open_file(location, options);
  if (!db) return std::unexpected(db.error());
  return Store(location, text, std::move(*db));
}

std::string display_location(const fs::path& location)
{
  const auto text = location.string();
  return postgres::is_postgres_url(text) ? postgres::redact_postgres_url(text) : text;
}

std::string absolute_location(const fs::path& location)
{
  if (postgres::is_postgres_url(location.string())) return location.string();
  std::error_code ec;
  auto absolute = fs::absolute(location, ec);
  return (ec ? location : absolute.lexically_normal()).string();
}

Result<void> read_snapshot(Store& store, const std::function<Result<void>()>& fn)
{
  return guarded("store read", [&]() -> Result<void> {
    auto& db = store.connection();
    if (db.in_transaction()) return fn();
    db.begin_read();
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
    db.exec(r ? "COMMIT" : "ROLLBACK");
    return r;
  });
}

Result<void> write_transaction(Store& store, const std::function<Result<void>()>& fn)
{
  return guarded("store write", [&]() -> Result<void> {
    auto& db = store.connection();
    const bool outer = !db.in_transaction();
    // A cached read left mid-result would pin a stale snapshot and make
    // BEGIN IMMEDIATE fail at once instead of waiting for the lock.
    if (outer) {
      store.reset_statements();
      db.begin_write();
    } else {
      db.exec("SAVEPOINT centrali_write");
    }
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
    info.latest_schema_version = latest_schema_version();
    if (backend() == Backend::sqlite) {
      info.path = fs::absolute(m_path).lexically_normal().string();
      info.schema_version = static_cast<int>(query_int64("PRAGMA user_version"));
    } else {
      info.path = m_location;
      info.schema_version = static_cast<int>(query_int64(postgres::k_schema_version));
    }
    std::vector<std::string> names;
    Statement tables(m_db->prepare(backend() == Backend::sqlite ? sqlite::k_table_names : postgres::k_table_names));
    while (tables.step()) names.push_back(tables.column(0).as_string());
    for (auto& name : names) {
      // Table names come from the catalogue, never from input; quoting
      // keeps any odd name inert all the same.
      info.tables.push_back({name, query_int64("SELECT count(*) FROM \"" + name + "\"")});
    }
    info.size_bytes = backend() == Backend::sqlite
                          ? file_size_or_zero(m_path) + file_size_or_zero(m_path.string() + "-wal")
                          : query_int64(postgres::k_database_size);
    return info;
  });
}

Result<std::pair<std::int64_t, std::int64_t>> Store::vacuum()
{
  return guarded("store vacuum", [&]() -> Result<std::pair<std::int64_t, std::int64_t>> {
    if (backend() == Backend::postgresql) {
      auto before = query_int64(postgres::k_database_size);
      m_db->exec("VACUUM FULL");
      return std::pair{before, query_int64(postgres::k_database_size)};
    }
    auto before = file_size_or_zero(m_path) + file_size_or_zero(m_path.string() + "-wal");
    m_db->exec("VACUUM");
    m_db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto after = file_size_or_zero(m_path) + file_size_or_zero(m_path.string() + "-wal");
    return std::pair{before, after};
  });
}

} // namespace centrali::store

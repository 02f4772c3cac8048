#include "centrali/store/copy.hpp"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/sqlite/sql.hpp"

namespace centrali::store {
namespace {

// Rows per read: a PostgreSQL result is held whole in memory, and bodies
// can be large, so the source is read in slices of its key order.
constexpr int k_batch_rows = 500;

// Tables a fresh store already fills: its migrations give fanout_cursor its
// one row. They do not make a target non-empty, and the copy replaces
// their rows with the source's.
constexpr std::string_view k_filled_when_fresh[] = {"fanout_cursor"};

bool filled_when_fresh(std::string_view table) { return std::ranges::find(k_filled_when_fresh, table) != std::end(k_filled_when_fresh); }

struct ColumnInfo {
  std::string name;
  bool holds_bytes = false;  // BLOB / bytea
  int key_position = 0;      // place in the primary key; 0: not in it
  bool numbered = false;     // a PostgreSQL identity column
};

struct Table {
  std::string name;
  std::vector<ColumnInfo> columns;
};

// Names come from the catalogue, never from input; quoting keeps any odd
// name inert all the same.
std::string identifier(std::string_view name) { return "\"" + std::string(name) + "\""; }

std::vector<Table> tables_of(Store& store)
{
  const bool sqlite = store.backend() == Backend::sqlite;
  std::vector<Table> tables;
  Statement names(store, sqlite ? sqlite::k_table_names : postgres::k_table_names);
  while (names.step()) tables.push_back({names.column(0).as_string(), {}});
  for (auto& table : tables) {
    Statement columns(store, sqlite ? sqlite::k_table_columns : postgres::k_table_columns);
    columns.bind(1, table.name);
    while (columns.step())
      table.columns.push_back({columns.column(0).as_string(), columns.column(1).as_int64() != 0,
                               columns.column(2).as_int(), columns.column(3).as_int64() != 0});
  }
  return tables;
}

// The same tables with the same columns in the same order: both stores
// were written by the same schema.
bool same_layout(const std::vector<Table>& a, const std::vector<Table>& b)
{
  return std::ranges::equal(a, b, [](const Table& x, const Table& y) {
    return x.name == y.name && std::ranges::equal(x.columns, y.columns, [](const ColumnInfo& c, const ColumnInfo& d) {
             return c.name == d.name && c.holds_bytes == d.holds_bytes;
           });
  });
}

// The copy reads each table in slices ordered by its first column, so that
// column must be the whole primary key (it is, in every table).
bool keyed_by_first_column(const Table& table)
{
  return !table.columns.empty() && table.columns[0].key_position == 1 &&
         std::ranges::count_if(table.columns, [](const ColumnInfo& c) { return c.key_position > 0; }) == 1;
}

bool same_store(Store& a, Store& b)
{
  if (a.backend() != b.backend()) return false;
  if (a.backend() == Backend::postgresql) return a.location() == b.location();
  std::error_code ec;
  return std::filesystem::equivalent(a.path(), b.path(), ec);
}

// "events: 12, webhooks: 1" for the tables of `to` that a fresh store
// leaves empty but that hold rows; "" when there are none.
std::string rows_in_the_way(Store& to, const std::vector<Table>& tables)
{
  std::string found;
  for (const auto& table : tables) {
    if (filled_when_fresh(table.name)) continue;
    const auto rows = to.query_int64("SELECT count(*) FROM " + identifier(table.name));
    if (rows > 0) found += (found.empty() ? "" : ", ") + table.name + ": " + std::to_string(rows);
  }
  return found;
}

// The position of a row in its table's key order, to read the next slice after.
struct Key {
  ColumnKind kind = ColumnKind::null;
  std::int64_t number = 0;
  std::string text;
};

// Binds `value`, read from the source, as parameter `index` of `insert`.
// A value for a BLOB/bytea column (`holds_bytes`, on the target) goes as
// bytes whatever the source held it as, so that PostgreSQL never reads
// them as its escaped text form.
void bind_value(Statement& insert, int index, const Column& value, bool holds_bytes)
{
  // An empty value may come back without a buffer, and both backends bind
  // a null pointer as NULL: an empty string is not NULL.
  auto bytes = [&] {
    static constexpr char k_empty[] = "";
    const auto b = value.bytes();
    return std::string_view(b.data() ? b.data() : k_empty, b.size());
  };
  switch (value.kind()) {
  case ColumnKind::null: insert.bind(index); break;
  case ColumnKind::integer: insert.bind(index, static_cast<long long>(value.as_int64())); break;
  case ColumnKind::real: insert.bind(index, value.as_double()); break;
  case ColumnKind::text:
  case ColumnKind::blob:
    if (const auto b = bytes(); holds_bytes || value.kind() == ColumnKind::blob) insert.bind_blob(index, b.data(), b.size());
    else insert.bind(index, b);
    break;
  }
}

std::int64_t copy_rows(Store& from, Store& to, const Table& table)
{
  std::string names, placeholders;
  for (const auto& column : table.columns) {
    names += (names.empty() ? "" : ", ") + identifier(column.name);
    placeholders += placeholders.empty() ? "?" : ", ?";
  }
  const auto name = identifier(table.name);
  const auto key = identifier(table.columns[0].name);
  const auto limit = " ORDER BY " + key + " LIMIT " + std::to_string(k_batch_rows);
  Statement first(from, "SELECT " + names + " FROM " + name + limit);
  Statement after(from, "SELECT " + names + " FROM " + name + " WHERE " + key + " > ?" + limit);
  Statement insert(to, "INSERT INTO " + name + " (" + names + ") VALUES (" + placeholders + ")");

  std::int64_t copied = 0;
  Key last;
  for (bool first_slice = true;; first_slice = false) {
    Statement& read = first_slice ? first : after;
    if (!first_slice) {
      read.reset();
      if (last.kind == ColumnKind::integer) read.bind(1, static_cast<long long>(last.number));
      else read.bind(1, last.text);
    }
    int rows = 0;
    while (read.step()) {
      for (int c = 0; c < read.column_count(); ++c)
        bind_value(insert, c + 1, read.column(c), table.columns[static_cast<std::size_t>(c)].holds_bytes);
      insert.exec();
      ++rows;
      const auto k = read.column(0);
      last.kind = k.kind();
      if (last.kind == ColumnKind::integer) last.number = k.as_int64();
      else last.text = k.as_string();
    }
    copied += rows;
    if (rows < k_batch_rows) return copied;
  }
}

// On PostgreSQL a row inserted with its key leaves the identity sequence
// where it was: move it past the largest key copied, or the next insert
// would be given a key already taken.
void move_sequences(Store& to, const Table& table)
{
  if (to.backend() != Backend::postgresql) return;
  for (const auto& column : table.columns) {
    if (!column.numbered) continue;
    const auto largest = to.query_int64("SELECT max(" + identifier(column.name) + ") FROM " + identifier(table.name));
    if (largest < 1) continue;  // nothing copied: the sequence starts at 1 as in a fresh store
    Statement setval(to, postgres::k_move_sequence);
    setval.bind(1, identifier(table.name));
    setval.bind(2, column.name);
    setval.bind(3, static_cast<long long>(largest));
    setval.step();
  }
}

} // namespace

Result<CopyCounts> copy_store(Store& from, Store& to)
{
  if (same_store(from, to)) return fail(ErrorKind::rejected, "cannot copy " + from.location() + " onto itself");
  CopyCounts counts;
  auto written = write_transaction(to, [&]() -> Result<void> {
    return read_snapshot(from, [&]() -> Result<void> {
      using Tables = Result<std::vector<Table>>;
      const auto tables = guarded("reading the tables of " + from.location(), [&]() -> Tables { return tables_of(from); });
      if (!tables) return std::unexpected(tables.error());
      const auto target = guarded("reading the tables of " + to.location(), [&]() -> Tables { return tables_of(to); });
      if (!target) return std::unexpected(target.error());
      if (!same_layout(*tables, *target))
        return fail(ErrorKind::rejected,
                    "cannot copy " + from.location() + " to " + to.location() +
                        ": their tables differ (written by different versions of centrali); open both with the "
                        "same centrali first (`centrali --store LOCATION store info` migrates a store)");
      for (const auto& table : *tables)
        if (!keyed_by_first_column(table))
          return fail(ErrorKind::store, "cannot copy table " + table.name + ": its first column is not its key");
      if (auto rows = rows_in_the_way(to, *tables); !rows.empty())
        return fail(ErrorKind::rejected, "refusing to copy into " + to.location() + ": it is not empty (" + rows +
                                             "); copy into a new store");
      // The target's view of each table: it knows which columns it numbers.
      for (const auto& table : *target) {
        auto copied = guarded("copying table ", table.name, [&]() -> Result<std::int64_t> {
          if (filled_when_fresh(table.name)) to.exec("DELETE FROM " + identifier(table.name));
          auto rows = copy_rows(from, to, table);
          move_sequences(to, table);
          return rows;
        });
        if (!copied) return std::unexpected(copied.error());
        counts.tables.push_back({table.name, *copied});
      }
      return {};
    });
  });
  if (!written) return std::unexpected(written.error());
  return counts;
}

} // namespace centrali::store

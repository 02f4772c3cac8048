// The PostgreSQL schema against SQLite's: a fresh store on either backend
// must hold the same tables, columns, keys, indexes and constraints, so the
// same store code and `store copy` work on both.
//
// The tests that need a server run when CENTRALI_TEST_POSTGRES holds its URL
// (`dev.sh test` starts one: tests/postgres/cluster.sh). Each makes its own
// database and drops it after. They talk to the server through psql, which
// reads a password from PGPASSWORD or ~/.pgpass, never from its command line:
// the URL must not hold one.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "centrali/store/postgres/migrations.hpp"
#include "centrali/store/store.hpp"
#include "temp_dir.hpp"

using namespace centrali;

namespace {

constexpr const char* k_server_env = "CENTRALI_TEST_POSTGRES";

std::optional<std::string> server_url()
{
  const char* url = std::getenv(k_server_env);
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}

std::string shell_quote(const std::string& s)
{
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `url` with its database name replaced by `database`.
std::string with_database(const std::string& url, const std::string& database)
{
  const auto authority = url.find("://");
  REQUIRE(authority != std::string::npos);
  const auto path = url.find('/', authority + 3);
  const auto query = url.find('?', authority + 3);
  const auto host_end = std::min(path, query);
  const std::string rest = query == std::string::npos ? "" : url.substr(query);
  return url.substr(0, host_end) + "/" + database + rest;
}

struct PsqlResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs the SQL in `sql` with psql on `url`, unaligned, tab-separated, one
// row a line, stopping at the first error.
PsqlResult psql(const std::string& url, const std::string& sql, const unit::TempDir& dir)
{
  static int counter = 0;
  const auto file = dir.path() / ("q" + std::to_string(++counter) + ".sql");
  std::ofstream(file) << sql;
  const std::string command = "psql -X -q -A -t -F '\t' -v ON_ERROR_STOP=1 -d " + shell_quote(url) + " -f " +
                              shell_quote(file.string()) + " 2>&1";
  PsqlResult result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buffer{};
  while (auto n = fread(buffer.data(), 1, buffer.size(), pipe)) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<std::vector<std::string>> rows_of(const std::string& output)
{
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (auto tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', start)) {
      fields.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    fields.push_back(line.substr(start));
    rows.push_back(std::move(fields));
  }
  return rows;
}

// A database of its own on the test server, dropped when the test ends.
class ScratchDatabase {
public:
  explicit ScratchDatabase(const std::string& server) : m_server(server)
  {
    std::random_device rd;
    m_name = "centrali_test_" + std::to_string(getpid()) + "_" + std::to_string(rd());
    // A linguistic collation (ICU's, as no OS locale but C is sure to
    // exist), so that text ordered by the database's locale instead of
    // byte order shows.
    auto r = psql(m_server,
                  "CREATE DATABASE " + m_name +
                      " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8';",
                  m_dir);
    INFO(r.output);
    REQUIRE(r.status == 0);
    m_url = with_database(m_server, m_name);
  }
  ~ScratchDatabase() { psql(m_server, "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE);", m_dir); }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // Runs `sql`; its rows. The test fails when the server refuses it.
  std::vector<std::vector<std::string>> query(const std::string& sql)
  {
    auto r = psql(m_url, sql, m_dir);
    INFO(sql << "\n" << r.output);
    REQUIRE(r.status == 0);
    return rows_of(r.output);
  }
  // Runs `sql`, which the server must refuse; what it said.
  std::string refused(const std::string& sql)
  {
    auto r = psql(m_url, sql, m_dir);
    INFO(sql << "\n" << r.output);
    REQUIRE(r.status != 0);
    return r.output;
  }

private:
  std::string m_server;
  std::string m_name;
  std::string m_url;
  unit::TempDir m_dir;
};

// What the migrations make, applied as migrate() applies them: in one
// transaction, oldest first.
std::string schema_sql()
{
  std::string sql = "BEGIN;\n";
  for (const auto& m : store::postgres::migrations()) sql += std::string(m.sql) + "\n";
  return sql + "COMMIT;\n";
}

// A fresh SQLite store, made the way centrali makes one.
std::string fresh_sqlite_store(const unit::TempDir& dir)
{
  const auto path = dir.path() / "fresh.db";
  REQUIRE(store::Store::open(path));
  return path.string();
}

std::vector<std::string> sqlite_tables(SQLite::Database& db)
{
  std::vector<std::string> tables;
  SQLite::Statement st(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                           "ORDER BY name");
  while (st.executeStep()) tables.push_back(st.getColumn(0).getString());
  return tables;
}

// One column, in words both backends can be compared in: its type class
// (a 64-bit integer, byte-ordered text, bytes, a double), NOT NULL, its
// default, and whether the database numbers it.
std::string sqlite_column(const std::string& table, SQLite::Statement& info)
{
  const std::string name = info.getColumn("name").getString();
  const std::string type = info.getColumn("type").getString();
  const bool key = info.getColumn("pk").getInt() > 0;
  std::string kind = type == "INTEGER" ? "int64" : type == "TEXT" ? "text" : type == "BLOB" ? "bytes"
                   : type == "REAL"    ? "double"
                                       : "?" + type;
  // A key is never NULL on PostgreSQL; on SQLite only a rowid key is
  // enforced, but centrali never stores a NULL key.
  const bool not_null = info.getColumn("notnull").getInt() != 0 || key;
  const std::string dflt = info.getColumn("dflt_value").isNull() ? "" : info.getColumn("dflt_value").getString();
  // The rowid seq columns: the database picks the number.
  const bool generated = key && type == "INTEGER" && name == "seq";
  return table + "." + name + " " + kind + (not_null ? " not null" : "") + (dflt.empty() ? "" : " default " + dflt) +
         (generated ? " generated" : "");
}

std::string postgres_column(const std::vector<std::string>& row)
{
  // table, column, data_type, is_nullable, column_default, is_identity, collation_name
  const std::string& type = row.at(2);
  std::string kind = type == "bigint" ? "int64" : type == "bytea" ? "bytes" : type == "double precision" ? "double"
                   : type == "text" && row.at(6) == "C" ? "text"
                                                        : "?" + type + (row.at(6).empty() ? "" : " collate " + row.at(6));
  std::string dflt = row.at(4);
  for (const char* cast : {"::text", "::bigint"})
    if (dflt.ends_with(cast)) dflt.resize(dflt.size() - std::string(cast).size());
  return row.at(0) + "." + row.at(1) + " " + kind + (row.at(3) == "NO" ? " not null" : "") +
         (dflt.empty() ? "" : " default " + dflt) + (row.at(5) == "YES" ? " generated" : "");
}

// What a CHECK (or a partial index's WHERE) allows, as the sorted literals
// it names: every one in the schema lists a column's values (`status = 'a' OR ...`, `IN ('a','b')`,
// `id = 1`), which PostgreSQL prints back as `'a'::text` or `ANY (ARRAY[...])`.
std::string check_values(const std::string& text)
{
  static const std::regex literal(R"('[^']*'|\b[0-9]+\b)");
  std::vector<std::string> values;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), literal); it != std::sregex_iterator(); ++it)
    values.push_back(it->str());
  std::sort(values.begin(), values.end());
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " ") + v;
  return out;
}

} // namespace

TEST_CASE("the PostgreSQL schema has SQLite's latest version", "[store][postgres]")
{
  // `store info` shows one schema number whichever backend holds the store,
  // and a migration is added to both lists together.
  REQUIRE(store::postgres::latest_postgres_schema_version() == store::latest_schema_version());
}

TEST_CASE("a fresh PostgreSQL store has every table and column of a fresh SQLite store", "[store][postgres]")
{
  auto server = server_url();
  if (!server) {
    SUCCEED("skipped: set " << k_server_env << " to a PostgreSQL server URL (dev.sh test does)");
    return;
  }
  unit::TempDir dir;
  SQLite::Database lite(fresh_sqlite_store(dir), SQLite::OPEN_READONLY);
  std::vector<std::string> expected;
  for (const auto& table : sqlite_tables(lite)) {
    SQLite::Statement info(lite, "PRAGMA table_info(" + table + ")");
    while (info.executeStep()) expected.push_back(sqlite_column(table, info));
  }

  ScratchDatabase pg(*server);
  pg.query(schema_sql());
  std::vector<std::string> actual;
  for (const auto& row : pg.query("SELECT table_name, column_name, data_type, is_nullable, "
                                  "coalesce(column_default, ''), is_identity, coalesce(collation_name, '') "
                                  "FROM information_schema.columns WHERE table_schema = current_schema() "
                                  "ORDER BY table_name COLLATE \"C\", ordinal_position;"))
    actual.push_back(postgres_column(row));

  REQUIRE(expected.size() > 100);
  CHECK(actual == expected);
}

TEST_CASE("a fresh PostgreSQL store has the keys, indexes and constraints of a fresh SQLite store",
          "[store][postgres]")
{
  auto server = server_url();
  if (!server) {
    SUCCEED("skipped: set " << k_server_env << " to a PostgreSQL server URL (dev.sh test does)");
    return;
  }
  unit::TempDir dir;
  SQLite::Database lite(fresh_sqlite_store(dir), SQLite::OPEN_READONLY);
  // Each index as "table(columns) kind [where VALUES]": kind is `primary
  // key`, `unique` (a UNIQUE column) or `index NAME [unique]` (CREATE
  // INDEX); a partial index's condition by the literals it names.
  // Then each CHECK by the values it allows, and each table's count of
  // foreign keys (none since SQLite's version 7).
  std::vector<std::string> expected;
  for (const auto& table : sqlite_tables(lite)) {
    SQLite::Statement columns(lite, "PRAGMA table_info(" + table + ")");
    while (columns.executeStep())
      if (columns.getColumn("pk").getInt() > 0 && columns.getColumn("type").getString() == "INTEGER")
        expected.push_back(table + "(" + columns.getColumn("name").getString() + ") primary key");
    SQLite::Statement indexes(lite, "PRAGMA index_list(" + table + ")");
    while (indexes.executeStep()) {
      const std::string name = indexes.getColumn("name").getString();
      const std::string origin = indexes.getColumn("origin").getString();
      std::string cols;
      SQLite::Statement info(lite, "PRAGMA index_info(" + name + ")");
      while (info.executeStep()) cols += (cols.empty() ? "" : ",") + info.getColumn("name").getString();
      const bool unique = indexes.getColumn("unique").getInt() != 0;
      const std::string kind = origin == "pk"  ? "primary key"
                             : origin == "u"   ? "unique"
                                               : "index " + name + (unique ? " unique" : "");
      std::string partial;
      if (indexes.getColumn("partial").getInt()) {
        SQLite::Statement text(lite, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?");
        text.bind(1, name);
        REQUIRE(text.executeStep());
        const std::string sql = text.getColumn(0).getString();
        partial = " where " + check_values(sql.substr(sql.find(" WHERE ")));
      }
      expected.push_back(table + "(" + cols + ") " + kind + partial);
    }
    SQLite::Statement text(lite, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?");
    text.bind(1, table);
    REQUIRE(text.executeStep());
    const std::string sql = text.getColumn(0).getString();
    // Each CHECK is on its column's line.
    std::istringstream lines(sql);
    for (std::string line; std::getline(lines, line);) {
      const auto check = line.find("CHECK (");
      if (check == std::string::npos) continue;
      std::istringstream words(line);
      std::string column;
      words >> column;
      expected.push_back(table + "." + column + " check " + check_values(line.substr(check)));
    }
    int foreign_keys = 0;
    SQLite::Statement fks(lite, "PRAGMA foreign_key_list(" + table + ")");
    while (fks.executeStep()) ++foreign_keys;
    expected.push_back(table + ": " + std::to_string(foreign_keys) + " foreign keys");
  }
  std::sort(expected.begin(), expected.end());

  ScratchDatabase pg(*server);
  pg.query(schema_sql());
  std::vector<std::string> actual;
  for (const auto& row : pg.query(
           "SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary, "
           "  coalesce(pg_get_expr(ix.indpred, ix.indrelid), ''), "
           "  EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype = 'u'), "
           "  (SELECT string_agg(a.attname, ',' ORDER BY k.n) "
           "     FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, n) "
           "     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) "
           "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
           "WHERE t.relnamespace = current_schema()::regnamespace;")) {
    const std::string kind = row.at(3) == "t"   ? "primary key"
                           : row.at(5) == "t"   ? "unique"
                                                : "index " + row.at(1) + (row.at(2) == "t" ? " unique" : "");
    actual.push_back(row.at(0) + "(" + row.at(6) + ") " + kind + (row.at(4).empty() ? "" : " where " + check_values(row.at(4))));
  }
  for (const auto& row : pg.query("SELECT t.relname, a.attname, pg_get_constraintdef(c.oid) "
                                  "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                                  "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1] "
                                  "WHERE c.contype = 'c' AND t.relnamespace = current_schema()::regnamespace;"))
    actual.push_back(row.at(0) + "." + row.at(1) + " check " + check_values(row.at(2)));
  for (const auto& row : pg.query("SELECT t.relname, count(c.oid) "
                                  "FROM pg_class t LEFT JOIN pg_constraint c ON c.conrelid = t.oid AND c.contype = 'f' "
                                  "WHERE t.relnamespace = current_schema()::regnamespace AND t.relkind = 'r' "
                                  "GROUP BY t.relname;"))
    actual.push_back(row.at(0) + ": " + row.at(1) + " foreign keys");
  std::sort(actual.begin(), actual.end());

  CHECK(actual == expected);
}

TEST_CASE("a PostgreSQL store refuses the rows a SQLite store refuses", "[store][postgres]")
{
  auto server = server_url();
  if (!server) {
    SUCCEED("skipped: set " << k_server_env << " to a PostgreSQL server URL (dev.sh test does)");
    return;
  }
  ScratchDatabase pg(*server);
  pg.query(schema_sql());
  const std::string event = "INSERT INTO events (id, source, type, status, dedupe_key, received_ms, body) VALUES ";

  // A dedupe key is unique among accepted events of a source, across every
  // process on the store; duplicates and other sources may repeat it.
  pg.query(event + "('evt_1', 'stripe', 't', 'accepted', 'k1', 1, '\\x00ff');");
  CHECK_THAT(pg.refused(event + "('evt_2', 'stripe', 't', 'accepted', 'k1', 2, '');"),
             Catch::Contains("events_dedupe"));
  pg.query(event + "('evt_3', 'stripe', 't', 'duplicate', 'k1', 3, ''), ('evt_4', 'github', 't', 'accepted', 'k1', 4, '');");

  CHECK_THAT(pg.refused(event + "('evt_5', 'stripe', 't', 'maybe', NULL, 5, '');"), Catch::Contains("check constraint"));
  CHECK_THAT(pg.refused(event + "('evt_1', 'stripe', 't', 'accepted', NULL, 6, '');"), Catch::Contains("events_id_key"));
  CHECK_THAT(pg.refused("INSERT INTO fanout_cursor (id, last_seq) VALUES (2, 0);"), Catch::Contains("check constraint"));

  // The database numbers events in insert order, as SQLite's rowid does
  // (with gaps where an insert failed: a sequence never hands a number out
  // twice), and the body's bytes come back as stored.
  CHECK(pg.query("SELECT id, encode(body, 'hex') FROM events ORDER BY seq;") ==
        std::vector<std::vector<std::string>>{{"evt_1", "00ff"}, {"evt_3", ""}, {"evt_4", ""}});
  CHECK(pg.query("SELECT id, last_seq FROM fanout_cursor;") == std::vector<std::vector<std::string>>{{"1", "0"}});
}

TEST_CASE("a PostgreSQL store orders names byte by byte, as a SQLite store does", "[store][postgres]")
{
  auto server = server_url();
  if (!server) {
    SUCCEED("skipped: set " << k_server_env << " to a PostgreSQL server URL (dev.sh test does)");
    return;
  }
  // Lists (sources, triggers, records) come out in the same order on both
  // backends whatever the server's locale: SQLite compares bytes.
  ScratchDatabase pg(*server);
  pg.query(schema_sql());
  pg.query("INSERT INTO sources (name, provider, created_ms) VALUES ('b', 'p', 1), ('B', 'p', 1), ('a', 'p', 1), "
           "('_x', 'p', 1), ('é', 'p', 1);");
  CHECK(pg.query("SELECT name FROM sources ORDER BY name;") ==
        std::vector<std::vector<std::string>>{{"B"}, {"_x"}, {"a"}, {"b"}, {"é"}});
}

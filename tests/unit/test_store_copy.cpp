// `store copy`: a whole store moved between backends, every row of every
// table with its keys and bytes; a target holding anything is refused and
// left as it was. The PostgreSQL parts run when CENTRALI_TEST_POSTGRES
// holds a server URL (`dev.sh test` starts one); each makes its own database.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "centrali/store/copy.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/sqlite/sql.hpp"
#include "scratch_postgres.hpp"
#include "temp_store.hpp"

using namespace centrali;
using store::ColumnKind;
using store::Statement;
using store::Store;

namespace {

// Every value of every table, ordered by key, each with its kind:
// "null", "int:7", "text:…", "blob:…" (bytes as they are).
using Rows = std::vector<std::vector<std::string>>;
using Dump = std::map<std::string, Rows>;

Dump dump(Store& s)
{
  std::vector<std::string> tables;
  Statement names(s, s.backend() == store::Backend::sqlite ? store::sqlite::k_table_names : store::postgres::k_table_names);
  while (names.step()) tables.push_back(names.column(0).as_string());
  Dump out;
  for (const auto& table : tables) {
    Statement rows(s, "SELECT * FROM " + table + " ORDER BY 1");
    auto& into = out[table];
    while (rows.step()) {
      std::vector<std::string> row;
      for (int c = 0; c < rows.column_count(); ++c) {
        const auto v = rows.column(c);
        switch (v.kind()) {
        case ColumnKind::null: row.push_back("null"); break;
        case ColumnKind::integer: row.push_back("int:" + std::to_string(v.as_int64())); break;
        case ColumnKind::real: row.push_back("real:" + std::to_string(v.as_double())); break;
        case ColumnKind::text: row.push_back("text:" + v.as_string()); break;
        case ColumnKind::blob: row.push_back("blob:" + v.as_string()); break;
        }
      }
      into.push_back(std::move(row));
    }
  }
  return out;
}

std::string every_byte()
{
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  return bytes;
}

store::Event event(const std::string& id, std::string body)
{
  store::Event e;
  e.id = id;
  e.source = "local";
  e.type = "copy.test";
  e.status = "accepted";
  e.received_ms = 1'700'000'000'000;
  e.headers = {{"Content-Type", "application/octet-stream"}, {"X-Raw", "caf\xc3\xa9 \xff\xfe"}};
  e.body = std::move(body);
  return e;
}

// A row in every table (keys with gaps, as deletes and rollbacks leave
// them), and events whose bodies hold every byte.
void fill_every_table(Store& s)
{
  auto a = event("evt_a", every_byte());
  auto b = event("evt_b", "{}");
  auto c = event("evt_c", std::string("\0\xff\0", 3));
  for (auto* e : {&a, &b, &c}) REQUIRE(store::insert_event(s, *e, false));
  s.exec("DELETE FROM events WHERE id = 'evt_b'");
  s.exec(R"sql(
    INSERT INTO sources (name, provider, secrets, tolerance_s, forward_to, created_ms)
      VALUES ('stripe', 'stripe', '["whsec_x"]', 300, NULL, 5);
    INSERT INTO webhooks (id, url, events, secret, retry_schedule, timeout_ms, disable_after_ms, created_ms, updated_ms)
      VALUES ('whk_1', 'http://127.0.0.1:9/h', '*', 'whsec_y', '[1000]', 5000, 86400000, 6, 7);
    INSERT INTO deliveries (seq, id, kind, event_id, webhook_id, event_type, url, status, created_ms, updated_ms)
      VALUES (41, 'dlv_1', 'webhook', 'evt_a', 'whk_1', 'copy.test', 'http://127.0.0.1:9/h', 'failed', 8, 9);
    INSERT INTO bodies (seq, event_id, body) VALUES (900, 'evt_a', X'00FF10');
    INSERT INTO attempts (seq, id, delivery_id, number, trigger, url, response_status, started_ms, response_body, body_id)
      VALUES (77, 'att_1', 'dlv_1', 1, 'scheduled', 'http://127.0.0.1:9/h', 500, 10, X'FE00', 900);
    INSERT INTO records (id, collection, data, version, created_ms, updated_ms)
      VALUES ('rec_1', 'orders', '{"total":5}', 2, 11, 12);
    INSERT INTO triggers (name, kind, command, timeout_ms, events, created_ms, updated_ms)
      VALUES ('notify', 'event', 'cat', 30000, '*', 13, 14);
    INSERT INTO runs (seq, id, trigger, status, origin, event_id, stdout, exit_code, queued_ms)
      VALUES (5, 'run_1', 'notify', 'completed', 'event', 'evt_a', X'6F6B0A', 0, 15);
    INSERT INTO automations (name, definition, trigger, created_ms, updated_ms)
      VALUES ('flow', '{"name":"flow"}', 'demand', 16, 17);
    INSERT INTO automation_runs (seq, id, automation, definition, status, origin, due_ms, created_ms, updated_ms)
      VALUES (3, 'arun_1', 'flow', '{"name":"flow"}', 'completed', 'demand', 18, 19, 20);
    INSERT INTO automation_steps (seq, run_id, step, type, status, started_ms)
      VALUES (8, 'arun_1', 'one', 'compute', 'succeeded', 21);
    UPDATE fanout_cursor SET last_seq = 3;
  )sql");
  for (const auto& [table, rows] : dump(s)) {
    INFO(table);
    REQUIRE(!rows.empty());  // a table left empty would prove nothing
  }
}

std::int64_t count(const store::CopyCounts& counts, const std::string& table)
{
  for (const auto& t : counts.tables)
    if (t.table == table) return t.rows;
  return -1;
}

} // namespace

TEST_CASE("store copy: SQLite to SQLite keeps every row of every table, keys and bytes", "[store]")
{
  unit::TempDir dir;
  auto from = Store::open(dir.path() / "from.db");
  auto to = Store::open(dir.path() / "to.db");
  REQUIRE(from);
  REQUIRE(to);
  fill_every_table(*from);

  auto counts = store::copy_store(*from, *to);
  INFO((counts ? "" : counts.error().message));
  REQUIRE(counts);
  CHECK(count(*counts, "events") == 2);
  CHECK(count(*counts, "automation_steps") == 1);
  CHECK(dump(*to) == dump(*from));
  auto body = store::get_event_payload(*to, "evt_a");
  REQUIRE(body);
  CHECK(body->body == every_byte());
}

TEST_CASE("store copy: a target that holds anything is refused and left as it was", "[store]")
{
  unit::TempDir dir;
  auto from = Store::open(dir.path() / "from.db");
  auto to = Store::open(dir.path() / "to.db");
  REQUIRE(from);
  REQUIRE(to);
  fill_every_table(*from);
  to->exec("INSERT INTO records (id, collection, data, version, created_ms, updated_ms) "
           "VALUES ('rec_mine', 'notes', '{}', 1, 1, 1)");
  const auto before = dump(*to);

  auto counts = store::copy_store(*from, *to);
  REQUIRE(!counts);
  CHECK(counts.error().kind == ErrorKind::rejected);
  CHECK_THAT(counts.error().message, Catch::Contains(to->location()) && Catch::Contains("records: 1"));
  CHECK(dump(*to) == before);
}

TEST_CASE("store copy: a store is not copied onto itself", "[store]")
{
  unit::TempDir dir;
  auto from = Store::open(unit::store_location(dir));
  auto again = Store::open(unit::store_location(dir));
  REQUIRE(from);
  REQUIRE(again);
  auto counts = store::copy_store(*from, *again);
  REQUIRE(!counts);
  CHECK(counts.error().kind == ErrorKind::rejected);
}

TEST_CASE("store copy: SQLite to PostgreSQL and back keeps every row, and PostgreSQL numbers new rows after the copied ones",
          "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: set CENTRALI_TEST_POSTGRES to a PostgreSQL server URL (dev.sh test does)");
    return;
  }
  unit::TempDir dir;
  testing::ScratchDatabase database;
  auto sqlite = Store::open(dir.path() / "from.db");
  REQUIRE(sqlite);
  fill_every_table(*sqlite);
  const auto original = dump(*sqlite);

  auto pg = Store::open(database.url());
  REQUIRE(pg);
  auto there = store::copy_store(*sqlite, *pg);
  INFO((there ? "" : there.error().message));
  REQUIRE(there);
  CHECK(dump(*pg) == original);

  auto back = Store::open(dir.path() / "back.db");
  REQUIRE(back);
  auto again = store::copy_store(*pg, *back);
  INFO((again ? "" : again.error().message));
  REQUIRE(again);
  CHECK(dump(*back) == original);
  auto body = store::get_event_payload(*back, "evt_a");
  REQUIRE(body);
  CHECK(body->body == every_byte());

  // evt_c has the largest key copied (3): a sequence left at its start
  // would give the next event a key already taken.
  auto fresh = event("evt_new", "new");
  auto inserted = store::insert_event(*pg, fresh, false);
  INFO((inserted ? "" : inserted.error().message));
  REQUIRE(inserted);
  auto stored = store::get_event(*pg, "evt_new");
  REQUIRE(stored);
  CHECK(stored->seq > 3);
}

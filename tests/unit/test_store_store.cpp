#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <regex>

#include <SQLiteCpp/Database.h>

#include "centrali/store/deliveries.hpp"
#include "centrali/dispatch/fanout.hpp"
#include "centrali/store/store.hpp"
#include "centrali/store/webhooks.hpp"
#include "temp_dir.hpp"

using namespace centrali;
namespace fs = std::filesystem;

namespace {
int mode_of(const fs::path& p)
{
  struct stat st{};
  stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

// A store as a binary of schema `version` would have left it.
fs::path store_at_version(const unit::TempDir& dir, int version, const std::function<void(SQLite::Database&)>& fill)
{
  auto path = dir.path() / ("v" + std::to_string(version) + ".db");
  SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  REQUIRE(store::migrate(db, version));
  fill(db);
  return path;
}

// Opens `path` as this binary does, migrating it, and checks the file is sound.
store::Store open_upgraded(const fs::path& path)
{
  auto store = store::Store::open(path);
  REQUIRE(store);
  CHECK(store->query_text("PRAGMA integrity_check") == "ok");
  return std::move(*store);
}

void insert_event(SQLite::Database& db, const std::string& id)
{
  SQLite::Statement st(db, "INSERT INTO events (id, source, type, status, method, path, remote_addr, received_ms, "
                           "headers, body) VALUES (?, 's', 't', 'accepted', 'POST', '/', '', 1, '[]', '')");
  st.bind(1, id);
  st.exec();
}
} // namespace

TEST_CASE("store::Store::open creates folder 0700 and file 0600 at the latest schema", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = dir.path() / "nested" / ".centrali" / "centrali.db";
  auto store = store::Store::open(path);
  REQUIRE(store);
  CHECK(mode_of(path) == 0600);
  CHECK(mode_of(path.parent_path()) == 0700);
  CHECK(mode_of(path.parent_path().parent_path()) == 0700);
  auto info = store->info();
  REQUIRE(info);
  CHECK(info->schema_version == store::latest_schema_version());
  CHECK(store->query_text("PRAGMA journal_mode") == "wal");
  CHECK(static_cast<int>(store->query_int64("PRAGMA foreign_keys")) == 1);
  // The WAL file, once made, is private too.
  store->exec("INSERT INTO sources(name, provider, created_ms) VALUES ('a', 'none', 0)");
  CHECK(mode_of(path.string() + "-wal") == 0600);
}

TEST_CASE("store::Store::open upgrades a store made by an older schema and keeps its rows", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = dir.path() / "old.db";
  {
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    REQUIRE(store::migrate(db, 1));
    CHECK(db.execAndGet("PRAGMA user_version").getInt() == 1);
    CHECK_FALSE(db.tableExists("deliveries"));
    db.exec("INSERT INTO sources(name, provider, created_ms) VALUES ('gh', 'github', 1)");
  }
  auto store = store::Store::open(path);
  REQUIRE(store);
  CHECK(static_cast<int>(store->query_int64("PRAGMA user_version")) == store::latest_schema_version());
  CHECK(store->query_int64("SELECT count(*) FROM sqlite_schema WHERE name = 'deliveries'") == 1);
  CHECK(store->query_text("SELECT provider FROM sources WHERE name='gh'") == "github");
}

TEST_CASE("store: version 5 keeps every CHECK and the numbering, without per-row ephemeral tables or sequence writes", "[store][sqlite]")
{
  unit::TempDir dir;
  auto store = open_upgraded(store_at_version(dir, 4, [](SQLite::Database& db) { insert_event(db, "evt_old"); }));
  SQLite::Database db(store.location(), SQLite::OPEN_READWRITE);
  CHECK(db.execAndGet("SELECT count(*) FROM events WHERE id = 'evt_old'").getInt() == 1);
  // No table keeps a CHECK over an IN list of three or more values (SQLite
  // builds a b-tree of such a list for every row it checks).
  {
    SQLite::Statement tables(db, "SELECT name, sql FROM sqlite_schema WHERE type = 'table'");
    const std::regex long_in_list(R"(CHECK \(\w+ IN \(('[^']*',){2,})");
    while (tables.executeStep()) {
      INFO(tables.getColumn(0).getString());
      CHECK_FALSE(std::regex_search(tables.getColumn(1).getString(), long_in_list));
    }
  }
  auto ephemeral_tables = [&](const std::string& sql) {
    SQLite::Statement st(db, "EXPLAIN " + sql);
    int n = 0;
    while (st.executeStep()) n += st.getColumn(1).getString() == "OpenEphemeral" ? 1 : 0;
    return n;
  };
  CHECK(ephemeral_tables("INSERT INTO events (id, source, type, status, method, path, remote_addr, received_ms, "
                         "headers, body) VALUES (?,?,?,?,?,?,?,?,?,?)") == 0);
  CHECK(ephemeral_tables("UPDATE deliveries SET status = ? WHERE seq = ?") == 0);
  CHECK(ephemeral_tables("INSERT INTO attempts (id, delivery_id, number, trigger, url, started_ms) "
                         "VALUES (?,?,?,?,?,?)") == 0);
  CHECK(ephemeral_tables("INSERT INTO runs (id, trigger, status, origin, queued_ms) VALUES (?,?,?,?,?)") == 0);
  // No per-insert sqlite_sequence bookkeeping on the busy tables, and the
  // numbering carries on after the rows already there.
  CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%' "
                      "AND name IN ('events', 'deliveries', 'attempts', 'runs')")
            .getInt() == 0);
  const auto old_seq = db.execAndGet("SELECT seq FROM events WHERE id = 'evt_old'").getInt64();
  db.exec("INSERT INTO events (id, source, type, status, method, path, remote_addr, received_ms, headers, body) "
          "VALUES ('evt_new', 's', 't', 'accepted', 'POST', '/', '', 2, '[]', '')");
  CHECK(db.execAndGet("SELECT seq FROM events WHERE id = 'evt_new'").getInt64() == old_seq + 1);
  // The constraints still refuse what they refused.
  auto refused = [&](const std::string& sql) {
    try {
      db.exec(sql);
      return false;
    } catch (const SQLite::Exception&) {
      return true;
    }
  };
  CHECK(refused("INSERT INTO events (id, source, type, status, method, path, remote_addr, received_ms, headers, body) "
                "VALUES ('evt_bad', 's', 't', 'bogus', 'POST', '/', '', 1, '[]', '')"));
  CHECK(refused("INSERT INTO triggers (name, kind, command, timeout_ms, created_ms, updated_ms) "
                "VALUES ('t', 'bogus', 'true', 1, 1, 1)"));
  CHECK(refused("INSERT INTO runs (id, trigger, status, origin, queued_ms) VALUES ('run_1', 't', 'queued', 'bogus', 1)"));
  CHECK(refused("INSERT INTO runs (id, trigger, status, origin, queued_ms) VALUES ('run_1', 't', 'bogus', 'demand', 1)"));
  CHECK_FALSE(refused("INSERT INTO runs (id, trigger, status, origin, queued_ms) VALUES ('run_1', 't', 'queued', 'demand', 1)"));
}

TEST_CASE("store: version 7 indexes only failed and cancelled deliveries, and every status still lists newest first", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = store_at_version(dir, 5, [](SQLite::Database& db) {
    insert_event(db, "evt_1");
    // Three of each status, interleaved.
    const char* statuses[] = {"pending", "succeeded", "failed", "cancelled"};
    for (int i = 0; i < 12; ++i)
      db.exec(std::string("INSERT INTO deliveries (id, kind, event_id, event_type, url, status, next_attempt_ms, "
                          "created_ms, updated_ms) VALUES ('dlv_") +
              std::to_string(i) + "', 'webhook', 'evt_1', 't', 'http://x', '" + statuses[i % 4] + "', " +
              (i % 4 == 0 ? "1" : "NULL") + ", 1, 1)");
  });
  auto store = open_upgraded(path);
  SQLite::Database db(store.location(), SQLite::OPEN_READWRITE);
  CHECK_FALSE(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name IN ('deliveries_status', "
                            "'deliveries_unsettled')")
                  .getInt());
  // Neither a new delivery nor a success writes a status index entry; the
  // deliveries a support engineer looks for are there.
  CHECK(db.execAndGet("SELECT count(*) FROM deliveries INDEXED BY deliveries_unsuccessful "
                      "WHERE status = 'failed' OR status = 'cancelled'")
            .getInt() == 6);
  // `status = ?`, as list_deliveries binds it, is answered from the index.
  {
    SQLite::Statement plan(db, "EXPLAIN QUERY PLAN SELECT seq FROM deliveries WHERE status = ? ORDER BY seq DESC");
    plan.bind(1, "failed");
    std::string steps;
    while (plan.executeStep()) steps += plan.getColumn(3).getString() + "\n";
    CHECK_THAT(steps, Catch::Contains("deliveries_unsuccessful"));
  }
  for (std::string status : {"pending", "succeeded", "failed", "cancelled"}) {
    store::DeliveryFilter filter;
    filter.status = status;
    auto list = store::list_deliveries(store, filter);
    REQUIRE(list);
    REQUIRE(list->size() == 3);
    INFO(status);
    for (const auto& d : *list) CHECK(d.status == status);
    CHECK((*list)[0].seq > (*list)[1].seq);
    CHECK((*list)[1].seq > (*list)[2].seq);
  }
}

TEST_CASE("store: version 7 checks no foreign key per insert, and removing a webhook keeps its deliveries' link", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = store_at_version(dir, 6, [](SQLite::Database& db) {
    insert_event(db, "evt_1");
    db.exec("INSERT INTO webhooks (id, url, events, secret, retry_schedule, timeout_ms, disable_after_ms, "
            "created_ms, updated_ms) VALUES ('whk_1', 'http://x', '*', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', "
            "'[]', 1000, 1000, 0, 0)");
    db.exec("INSERT INTO deliveries (id, kind, event_id, webhook_id, event_type, url, status, created_ms, "
            "updated_ms) VALUES ('dlv_old', 'webhook', 'evt_1', 'whk_1', 't', 'http://x', 'succeeded', 1, 1)");
    db.exec("INSERT INTO attempts (id, delivery_id, number, trigger, url, started_ms) "
            "VALUES ('att_old', 'dlv_old', 1, 'scheduled', 'http://x', 1)");
  });
  auto store = open_upgraded(path);
  SQLite::Database db(store.location(), SQLite::OPEN_READWRITE);
  CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name IN ('deliveries', 'attempts') "
                      "AND sql LIKE '%REFERENCES%'")
            .getInt() == 0);
  CHECK(db.execAndGet("SELECT count(*) FROM attempts WHERE delivery_id = 'dlv_old'").getInt() == 1);
  // The insert programs look up no parent row (no table is opened to read).
  auto program_has = [&](const std::string& sql, const std::string& opcode) {
    SQLite::Statement st(db, "EXPLAIN " + sql);
    bool found = false;
    while (st.executeStep()) found = found || st.getColumn(1).getString() == opcode;
    return found;
  };
  CHECK_FALSE(program_has("INSERT INTO attempts (id, delivery_id, number, trigger, url, started_ms) "
                          "VALUES (?,?,?,?,?,?)",
                          "OpenRead"));
  CHECK_FALSE(program_has("INSERT INTO deliveries (id, kind, event_id, webhook_id, event_type, url, status, "
                          "created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?)",
                          "OpenRead"));
  // Unlike ON DELETE SET NULL before version 7, the deliveries keep naming
  // the removed webhook: its log stays findable by its id.
  REQUIRE(store::remove_webhook(store, "whk_1"));
  CHECK(db.execAndGet("SELECT count(*) FROM webhooks").getInt() == 0);
  CHECK(db.execAndGet("SELECT webhook_id FROM deliveries WHERE id = 'dlv_old'").getString() == "whk_1");
  auto again = store::remove_webhook(store, "whk_1");
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::not_found);
}

TEST_CASE("store: version 8 drops the attempts id index without copying the table, and frees its pages", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = store_at_version(dir, 7, [](SQLite::Database& db) {
    insert_event(db, "evt_1");
    db.exec("INSERT INTO deliveries (id, kind, event_id, event_type, url, status, created_ms, updated_ms) "
            "VALUES ('dlv_1', 'webhook', 'evt_1', 't', 'http://x', 'succeeded', 1, 1)");
    // Enough rows that the index spans pages of its own.
    SQLite::Statement ins(db, "INSERT INTO attempts (id, delivery_id, number, trigger, url, started_ms) "
                              "VALUES (printf('att_%026d', ?1), 'dlv_1', ?1, 'scheduled', 'http://x', 1)");
    for (int i = 1; i <= 2000; ++i) {
      ins.bind(1, i);
      ins.exec();
      ins.reset();
    }
  });
  const auto table_root = [&] {
    SQLite::Database db(path.string());
    return db.execAndGet("SELECT rootpage FROM sqlite_schema WHERE name = 'attempts'").getInt();
  }();
  auto store = open_upgraded(path);
  SQLite::Database db(store.location(), SQLite::OPEN_READWRITE);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() >= 8);
  // The table is the same b-tree (not a copy); only attempts_delivery indexes it now.
  CHECK(db.execAndGet("SELECT rootpage FROM sqlite_schema WHERE name = 'attempts'").getInt() == table_root);
  CHECK(db.execAndGet("SELECT group_concat(name) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'attempts'")
            .getString() == "attempts_delivery");
  CHECK(db.execAndGet("PRAGMA freelist_count").getInt() > 0);
  CHECK(db.execAndGet("SELECT count(*) FROM attempts WHERE delivery_id = 'dlv_1'").getInt() == 2000);
  CHECK(db.execAndGet("SELECT number FROM attempts WHERE id = printf('att_%026d', 1234)").getInt() == 1234);
  // Every other constraint of the table holds.
  CHECK_THROWS(db.exec("INSERT INTO attempts (id, delivery_id, number, trigger, url, started_ms) "
                       "VALUES ('att_x', 'dlv_1', 1, 'bogus', 'http://x', 1)"));
  CHECK_THROWS(db.exec("INSERT INTO attempts (delivery_id, number, trigger, url, started_ms) "
                       "VALUES ('dlv_1', 1, 'scheduled', 'http://x', 1)"));
  // The insert program writes the table and the one index, nothing more.
  SQLite::Statement explain(db, "EXPLAIN INSERT INTO attempts (id, delivery_id, number, trigger, url, started_ms) "
                                "VALUES (?,?,?,?,?,?)");
  int writes = 0;
  while (explain.executeStep()) writes += explain.getColumn(1).getString() == "OpenWrite" ? 1 : 0;
  CHECK(writes == 2);
}

TEST_CASE("store::list_deliveries finds pending deliveries newest first, in a backlog and among many settled ones", "[store][sqlite]")
{
  unit::TempDir dir;
  auto store = store::Store::open(dir.path() / "s.db");
  REQUIRE(store);
  SQLite::Database db(store->location(), SQLite::OPEN_READWRITE);
  insert_event(db, "evt_1");
  SQLite::Statement ins(db, "INSERT INTO deliveries (id, kind, event_id, event_type, url, status, next_attempt_ms, "
                            "created_ms, updated_ms) VALUES (?, 'webhook', 'evt_1', 't', 'http://x', ?, ?, 1, 1)");
  int n = 0;
  auto add = [&](const std::string& status) {
    ins.bind(1, "dlv_" + std::to_string(n++));
    ins.bind(2, status);
    if (status == "pending") ins.bind(3, 1);
    else ins.bind(3);
    ins.exec();
    ins.reset();
  };
  db.exec("BEGIN");
  // Two old retries, then more settled deliveries than the newest-rows scan
  // reads, then a backlog of three.
  add("pending");
  add("pending");
  for (int i = 0; i < 12000; ++i) add("succeeded");
  for (int i = 0; i < 3; ++i) add("pending");
  db.exec("COMMIT");
  auto ids = [&](int limit) {
    store::DeliveryFilter filter;
    filter.status = "pending";
    filter.limit = limit;
    auto list = store::list_deliveries(*store, filter);
    REQUIRE(list);
    std::vector<std::string> out;
    for (const auto& d : *list) out.push_back(d.id);
    return out;
  };
  CHECK(ids(0) == std::vector<std::string>{"dlv_12004", "dlv_12003", "dlv_12002", "dlv_1", "dlv_0"});
  CHECK(ids(4) == std::vector<std::string>{"dlv_12004", "dlv_12003", "dlv_12002", "dlv_1"});
  CHECK(ids(2) == std::vector<std::string>{"dlv_12004", "dlv_12003"});
}

TEST_CASE("store: events pending fan-out in a version 3 store are fanned out after the upgrade, the others not", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = dir.path() / "v3.db";
  {
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    REQUIRE(store::migrate(db, 3));
    db.exec("INSERT INTO webhooks (id, url, events, secret, retry_schedule, timeout_ms, disable_after_ms, "
            "created_ms, updated_ms) VALUES ('whk_1', 'http://127.0.0.1:9/h', '*', "
            "'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '[]', 1000, 1000, 0, 0)");
    auto event = [&](const char* id, int dispatched) {
      SQLite::Statement st(db, "INSERT INTO events (id, source, type, status, received_ms, dispatched, body) "
                               "VALUES (?, 's', 'order.created', 'accepted', 0, ?, x'')");
      st.bind(1, id);
      st.bind(2, dispatched);
      st.exec();
    };
    event("evt_done", 1);
    event("evt_pending1", 0);
    event("evt_rejected", 1);
    event("evt_pending2", 0);
  }
  auto store = store::Store::open(path);
  REQUIRE(store);
  auto pending = store::has_pending_events(*store);
  REQUIRE(pending);
  CHECK(*pending);
  auto fanned = dispatch::fan_out_pending(*store, 100, 1);
  REQUIRE(fanned);
  CHECK(fanned->events == 2);
  CHECK(fanned->deliveries == 2);
  CHECK(store->query_text("SELECT group_concat(event_id) FROM (SELECT event_id FROM deliveries ORDER BY event_id)") == "evt_pending1,evt_pending2");
  // Nothing is fanned out twice, and an idle look writes nothing.
  auto again = dispatch::fan_out_pending(*store, 100, 2);
  REQUIRE(again);
  CHECK(again->events == 0);
  CHECK_FALSE(*store::has_pending_events(*store));
}

TEST_CASE("store::Store::open refuses a schema newer than the binary", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = dir.path() / "future.db";
  {
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA user_version = 999");
  }
  auto store = store::Store::open(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().kind == ErrorKind::store);
  CHECK_THAT(store.error().message, Catch::Contains("newer than this centrali"));
}

TEST_CASE("store::Store::open refuses a file that is not SQLite and leaves it untouched", "[store][sqlite]")
{
  unit::TempDir dir;
  auto path = dir.path() / "notes.txt";
  std::ofstream(path) << "these are my notes, not a database\n";
  auto before = fs::file_size(path);
  auto store = store::Store::open(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().kind == ErrorKind::store);
  CHECK_THAT(store.error().message, Catch::Contains("not a SQLite database"));
  CHECK(fs::file_size(path) == before);
}

TEST_CASE("store::Store::open refuses a directory and a read-only location", "[store][sqlite]")
{
  unit::TempDir dir;
  auto as_dir = store::Store::open(dir.path());
  REQUIRE_FALSE(as_dir);
  CHECK_THAT(as_dir.error().message, Catch::Contains("is a directory"));

  fs::create_directory(dir.path() / "ro");
  fs::permissions(dir.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                                         fs::perms::others_exec);
  // Root ignores permission bits, so the check runs in a child that has
  // dropped to an unprivileged user; it reports the error kind and wording.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(99);
    auto ro = store::Store::open(dir.path() / "ro" / "c.db");
    std::string report = ro ? "opened" : std::to_string(exit_code(ro.error().kind)) + " " + ro.error().message;
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK_THAT(report, Catch::StartsWith("4 "));
  CHECK_THAT(report, Catch::Contains("read-only"));
}

TEST_CASE("store::Store::open twice on one file works (two processes share a store)", "[store][sqlite]")
{
  unit::TempDir dir;
  auto a = store::Store::open(dir.path() / "s.db");
  auto b = store::Store::open(dir.path() / "s.db");
  REQUIRE(a);
  REQUIRE(b);
  a->exec("INSERT INTO sources(name, provider, created_ms) VALUES ('x', 'none', 0)");
  CHECK(static_cast<int>(b->query_int64("SELECT count(*) FROM sources")) == 1);
}

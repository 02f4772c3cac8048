// Versioned schema. Each migration moves the store from version N-1 to N
// inside one IMMEDIATE transaction, so two processes opening a new store at
// once cannot both migrate it. Migrations are append-only: never edit one
// that has shipped; add the next.
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "centrali/store/store.hpp"

namespace centrali::store {
namespace {

struct Migration {
  int version;
  const char* sql;
  void (*code)(SQLite::Database&) = nullptr;  // runs after `sql`, for steps SQL text cannot say
};

struct Rewrite {
  const char* table;
  const char* from;
  const char* to;
};

// Runs `edit` on sqlite_schema with writable_schema on, then bumps
// schema_version so that other connections (and this one) re-read the
// schema on their next statement.
void edit_schema(SQLite::Database& db, const std::function<void()>& edit)
{
  const int schema_version = db.execAndGet("PRAGMA schema_version").getInt();
  db.exec("PRAGMA writable_schema = ON");
  try {
    edit();
    db.exec("PRAGMA schema_version = " + std::to_string(schema_version + 1));
  } catch (...) {
    db.exec("PRAGMA writable_schema = OFF");
    throw;
  }
  db.exec("PRAGMA writable_schema = OFF");
}

// The UPDATEs alone, for an edit_schema that changes more than table text.
void replace_table_text(SQLite::Database& db, std::initializer_list<Rewrite> rewrites)
{
  SQLite::Statement st(db, "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?");
  for (const auto& r : rewrites) {
    st.bind(1, r.from);
    st.bind(2, r.to);
    st.bind(3, r.table);
    st.exec();
    st.reset();
  }
}

// Replaces text in the CREATE TABLE statements of sqlite_schema, SQLite's
// documented procedure for schema changes that leave the stored rows as they
// are (https://sqlite.org/lang_altertable.html, "other kinds of table schema
// changes", which names removing CHECK and FOREIGN KEY constraints): no table
// is copied, so a large store upgrades at once.
void rewrite_table_text(SQLite::Database& db, std::initializer_list<Rewrite> rewrites)
{
  edit_schema(db, [&] { replace_table_text(db, rewrites); });
}

// Version 5 removes two costs SQLite pays on every insert:
// - `CHECK (x IN ('a','b','c'))` with three or more values is evaluated by
//   building an ephemeral b-tree of the list for every row inserted or
//   updated: about 3 µs per row, on the one writer thread, for every event,
//   delivery, attempt and run. An OR of equalities means the same and costs
//   a few comparisons.
// - AUTOINCREMENT makes every insert read and rewrite the table's row in
//   sqlite_sequence, so that a rowid is never reused after the newest row
//   is deleted. No row of these tables is ever deleted (attempts only by
//   a cascade from a deliveries row, and those are never deleted), so the
//   plain rowid (max + 1) numbers them the same way, one write fewer.
void rewrite_hot_table_text(SQLite::Database& db)
{
  constexpr const char* autoincrement = "INTEGER PRIMARY KEY AUTOINCREMENT";
  rewrite_table_text(
      db, {
              {"events", "CHECK (status IN ('accepted','rejected','duplicate'))",
               "CHECK (status = 'accepted' OR status = 'rejected' OR status = 'duplicate')"},
              {"deliveries", "CHECK (status IN ('pending','succeeded','failed','cancelled'))",
               "CHECK (status = 'pending' OR status = 'succeeded' OR status = 'failed' OR status = 'cancelled')"},
              {"attempts", "CHECK (trigger IN ('scheduled','resend','replay','test'))",
               "CHECK (trigger = 'scheduled' OR trigger = 'resend' OR trigger = 'replay' OR trigger = 'test')"},
              {"triggers", "CHECK (kind IN ('event','schedule','demand','endpoint'))",
               "CHECK (kind = 'event' OR kind = 'schedule' OR kind = 'demand' OR kind = 'endpoint')"},
              {"runs", "CHECK (status IN ('queued','running','completed','failure','timeout','cancelled'))",
               "CHECK (status = 'queued' OR status = 'running' OR status = 'completed' OR status = 'failure' OR "
               "status = 'timeout' OR status = 'cancelled')"},
              {"runs", "CHECK (origin IN ('event','schedule','demand','endpoint','rerun'))",
               "CHECK (origin = 'event' OR origin = 'schedule' OR origin = 'demand' OR origin = 'endpoint' OR "
               "origin = 'rerun')"},
              {"events", autoincrement, "INTEGER PRIMARY KEY"},
              {"deliveries", autoincrement, "INTEGER PRIMARY KEY"},
              {"attempts", autoincrement, "INTEGER PRIMARY KEY"},
              {"runs", autoincrement, "INTEGER PRIMARY KEY"},
          });
}

// Version 7 drops the foreign keys of deliveries and attempts. Every insert
// looked up its parents (a delivery's event and webhook, an attempt's
// delivery): three index descents per delivery, checking rows the one
// writer had just read in the same transaction. Of their actions only
// ON DELETE SET NULL ever ran (events and deliveries are never deleted);
// remove_webhook now clears its deliveries' webhook_id itself.
void drop_delivery_foreign_keys(SQLite::Database& db)
{
  rewrite_table_text(db, {
                             {"deliveries", " REFERENCES events(id)", ""},
                             {"deliveries", " REFERENCES webhooks(id) ON DELETE SET NULL", ""},
                             {"attempts", " REFERENCES deliveries(id) ON DELETE CASCADE", ""},
                         });
}

// Version 8 drops the UNIQUE index of attempts.id. Nothing looks an
// attempt up by its id (attempts are read by delivery, or by seq when
// followed), and ids are unique by construction (ids::make), so the index
// was one more b-tree written per attempt: about 3 % of the instructions of
// a delivery and one WAL frame in seven (callgrind and the WAL's frames per
// b-tree, `dispatch` of 4,000).
// No table is copied. An autoindex cannot be dropped, so the UNIQUE goes
// from the table's text and its index is renamed into a plain index on the
// same column: the b-tree holds (id, rowid) either way, so only the name and
// text change. DROP INDEX then frees its pages as for any index.
void drop_attempt_id_index(SQLite::Database& db)
{
  constexpr const char* retired = "attempts_id_retired";
  edit_schema(db, [&] {
    replace_table_text(db, {{"attempts", "id               TEXT NOT NULL UNIQUE,", "id               TEXT NOT NULL,"}});
    SQLite::Statement index(db, "UPDATE sqlite_schema SET name = ?1, sql = 'CREATE INDEX ' || ?1 || ' ON attempts(id)' "
                                "WHERE type = 'index' AND name = 'sqlite_autoindex_attempts_1' AND sql IS NULL");
    index.bind(1, retired);
    // Both or neither: a table without UNIQUE beside its autoindex (or the
    // reverse) is a schema SQLite refuses to load.
    const bool unique_gone =
        db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'attempts' AND "
                      "sql LIKE '%UNIQUE%'")
            .getInt() == 0;
    if (!unique_gone || index.exec() != 1) throw std::runtime_error("attempts table is not as version 7 left it");
  });
  // This connection still holds the old schema: the first statement to run
  // sees the new schema_version and reloads it, after which the renamed
  // index can be named.
  db.exec("SELECT count(*) FROM sqlite_schema");
  db.exec(std::string("DROP INDEX ") + retired);
}

// Version 10 lets a delivery be `skipped` (an event matched a disabled
// webhook: kept, so `webhooks recover` can send it once the endpoint is
// back) and an attempt be a `recover`. Both CHECKs only widen: every stored
// row meets the new text, so the rows stay as they are (as for version 5).
void allow_skipped_and_recover(SQLite::Database& db)
{
  rewrite_table_text(
      db, {
              {"deliveries",
               "CHECK (status = 'pending' OR status = 'succeeded' OR status = 'failed' OR status = 'cancelled')",
               "CHECK (status = 'pending' OR status = 'succeeded' OR status = 'failed' OR status = 'cancelled' OR "
               "status = 'skipped')"},
              {"attempts",
               "CHECK (trigger = 'scheduled' OR trigger = 'resend' OR trigger = 'replay' OR trigger = 'test')",
               "CHECK (trigger = 'scheduled' OR trigger = 'resend' OR trigger = 'replay' OR trigger = 'test' OR "
               "trigger = 'recover')"},
          });
}

const std::vector<Migration>& migrations()
{
  static const std::vector<Migration> list = {
      {1, R"sql(
        -- Inbound sources and every request they received.
        CREATE TABLE sources (
          name        TEXT PRIMARY KEY,
          provider    TEXT NOT NULL,
          secrets     TEXT NOT NULL DEFAULT '[]',   -- JSON array: literal, env:NAME or file:PATH
          tolerance_s INTEGER,
          forward_to  TEXT,
          created_ms  INTEGER NOT NULL
        );
        CREATE TABLE events (
          seq          INTEGER PRIMARY KEY AUTOINCREMENT,
          id           TEXT NOT NULL UNIQUE,
          source       TEXT NOT NULL,                 -- 'local' for events made here
          type         TEXT NOT NULL,
          status       TEXT NOT NULL CHECK (status IN ('accepted','rejected','duplicate')),
          reason       TEXT,
          http_status  INTEGER NOT NULL DEFAULT 0,
          dedupe_key   TEXT,
          duplicate_of TEXT,
          method       TEXT NOT NULL DEFAULT 'POST',
          path         TEXT NOT NULL DEFAULT '',
          remote_addr  TEXT NOT NULL DEFAULT '',
          received_ms  INTEGER NOT NULL,
          dispatched   INTEGER NOT NULL DEFAULT 1,    -- 0 while fan-out is pending
          -- Large columns last: listing never walks their overflow pages.
          headers      TEXT NOT NULL DEFAULT '[]',    -- JSON [[name, value], ...], credentials redacted
          body         BLOB NOT NULL
        );
        CREATE UNIQUE INDEX events_dedupe ON events(source, dedupe_key)
          WHERE status = 'accepted' AND dedupe_key IS NOT NULL;
        -- Every index is paid for on each ingested request, so only these:
        -- by type (the common filter), and the fan-out queue. Source and
        -- status filters scan newest-first, which stays fast for `--limit`.
        CREATE INDEX events_type ON events(type, seq);
        CREATE INDEX events_pending ON events(seq) WHERE dispatched = 0;
      )sql"},
      {2, R"sql(
        -- Outbound: webhook subscriptions, forwards of ingested events to the
        -- app under development, and every attempt at either.
        CREATE TABLE webhooks (
          id               TEXT PRIMARY KEY,
          name             TEXT NOT NULL DEFAULT '',
          url              TEXT NOT NULL,
          events           TEXT NOT NULL,             -- comma-separated globs
          secret           TEXT NOT NULL,
          previous_secret  TEXT,
          previous_until_ms INTEGER,
          headers          TEXT NOT NULL DEFAULT '[]',
          retry_schedule   TEXT NOT NULL,             -- JSON array of milliseconds
          timeout_ms       INTEGER NOT NULL,
          insecure         INTEGER NOT NULL DEFAULT 0,
          active           INTEGER NOT NULL DEFAULT 1,
          disabled_reason  TEXT,
          failing_since_ms INTEGER,                   -- first failure of the current failing streak
          disable_after_ms INTEGER NOT NULL,          -- failing this long disables the webhook
          created_ms       INTEGER NOT NULL,
          updated_ms       INTEGER NOT NULL
        );
        CREATE TABLE deliveries (
          seq             INTEGER PRIMARY KEY AUTOINCREMENT,
          id              TEXT NOT NULL UNIQUE,
          kind            TEXT NOT NULL CHECK (kind IN ('webhook','forward')),
          event_id        TEXT NOT NULL REFERENCES events(id),
          webhook_id      TEXT REFERENCES webhooks(id) ON DELETE SET NULL,
          event_type      TEXT NOT NULL,
          url             TEXT NOT NULL,
          status          TEXT NOT NULL CHECK (status IN ('pending','succeeded','failed','cancelled')),
          attempt_count   INTEGER NOT NULL DEFAULT 0,
          next_attempt_ms INTEGER,                    -- NULL unless pending
          lease_until_ms  INTEGER,                    -- set while one worker has it in flight
          last_status     INTEGER,
          last_error      TEXT,
          created_ms      INTEGER NOT NULL,
          updated_ms      INTEGER NOT NULL
        );
        CREATE INDEX deliveries_due ON deliveries(next_attempt_ms) WHERE status = 'pending';
        CREATE INDEX deliveries_status ON deliveries(status, seq);
        CREATE INDEX deliveries_webhook ON deliveries(webhook_id, seq);
        CREATE INDEX deliveries_event ON deliveries(event_id);
        CREATE TABLE attempts (
          seq              INTEGER PRIMARY KEY AUTOINCREMENT,
          id               TEXT NOT NULL UNIQUE,
          delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
          number           INTEGER NOT NULL,
          trigger          TEXT NOT NULL CHECK (trigger IN ('scheduled','resend','replay','test')),
          url              TEXT NOT NULL,
          response_status  INTEGER,
          duration_ms      INTEGER NOT NULL DEFAULT 0,
          error            TEXT,
          started_ms       INTEGER NOT NULL,
          request_headers  TEXT NOT NULL DEFAULT '[]',
          response_headers TEXT NOT NULL DEFAULT '[]',
          response_body    BLOB
        );
        CREATE INDEX attempts_delivery ON attempts(delivery_id, number);
      )sql"},
      {3, R"sql(
        -- Records (JSON documents in collections), triggers that run local
        -- commands, and every run.
        CREATE TABLE records (
          id         TEXT PRIMARY KEY,
          collection TEXT NOT NULL,
          data       TEXT NOT NULL,                 -- JSON object
          version    INTEGER NOT NULL,
          created_ms INTEGER NOT NULL,
          updated_ms INTEGER NOT NULL
        );
        CREATE INDEX records_collection ON records(collection, id);
        CREATE TABLE triggers (
          name          TEXT PRIMARY KEY,
          kind          TEXT NOT NULL CHECK (kind IN ('event','schedule','demand','endpoint')),
          command       TEXT NOT NULL,
          exec          INTEGER NOT NULL DEFAULT 0,   -- 1: argv, no shell
          params        TEXT NOT NULL DEFAULT '{}',   -- triggerParams
          timeout_ms    INTEGER NOT NULL,
          concurrency   INTEGER NOT NULL DEFAULT 1,
          cwd           TEXT,
          env           TEXT NOT NULL DEFAULT '[]',   -- JSON [[name, value], ...]
          paused        INTEGER NOT NULL DEFAULT 0,
          events        TEXT,                         -- event: comma-separated globs
          source        TEXT,                         -- event: only this source
          collection    TEXT,                         -- event: only record events of this collection
          cron          TEXT,                         -- schedule
          tz            TEXT,
          every_ms      INTEGER,
          at_ms         INTEGER,
          next_fire_ms  INTEGER,
          path          TEXT,                         -- endpoint
          method        TEXT,
          response_mode TEXT NOT NULL DEFAULT 'output', -- endpoint: output | envelope
          created_ms    INTEGER NOT NULL,
          updated_ms    INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX triggers_endpoint ON triggers(path, method) WHERE kind = 'endpoint';
        CREATE TABLE runs (
          seq            INTEGER PRIMARY KEY AUTOINCREMENT,
          id             TEXT NOT NULL UNIQUE,
          trigger        TEXT NOT NULL,               -- kept when the trigger is removed
          status         TEXT NOT NULL CHECK (status IN ('queued','running','completed','failure','timeout','cancelled')),
          origin         TEXT NOT NULL CHECK (origin IN ('event','schedule','demand','endpoint','rerun')),
          event_id       TEXT,                        -- event runs: input is built from the event
          rerun_of       TEXT,
          input          TEXT,                        -- executionParams when not from an event
          output         TEXT,
          stdout         BLOB,
          stderr         BLOB,
          exit_code      INTEGER,
          error          TEXT,
          queued_ms      INTEGER NOT NULL,
          started_ms     INTEGER,
          ended_ms       INTEGER,
          lease_until_ms INTEGER
        );
        CREATE INDEX runs_trigger ON runs(trigger, seq);
        CREATE INDEX runs_open ON runs(status, seq) WHERE status IN ('queued','running');
      )sql"},
      // The fan-out queue becomes a cursor: events after `last_seq` with
      // dispatched = 0 are pending. Marking each event dispatched rewrote
      // its whole row (headers and body) and an index entry, a second write
      // of every ingested event; the cursor is one small row per batch.
      // seq only grows (AUTOINCREMENT, one writer at a time), so no event
      // can appear behind the cursor.
      {4, R"sql(
        CREATE TABLE fanout_cursor (
          id       INTEGER PRIMARY KEY CHECK (id = 1),
          last_seq INTEGER NOT NULL
        );
        INSERT INTO fanout_cursor (id, last_seq)
          VALUES (1, coalesce((SELECT min(seq) - 1 FROM events WHERE dispatched = 0),
                              (SELECT max(seq) FROM events), 0));
        DROP INDEX events_pending;
      )sql"},
      {5, "", rewrite_hot_table_text},
      // The status index kept every delivery, so each cost three entry
      // writes: pending in when made, then pending out and succeeded in when
      // it succeeded. Succeeded is the bulk of any store and needs no index:
      // newest-first in rowid order finds it at once. Without it, a success
      // costs one entry write (pending out): about 2 % fewer instructions
      // per delivery end to end (callgrind, `dispatch` of 4,000). Pending,
      // failed and cancelled stay indexed.
      // Spelled as equalities: SQLite uses a partial index for `status = ?`
      // only when that term appears in the index's condition.
      {6, R"sql(
        DROP INDEX deliveries_status;
        CREATE INDEX deliveries_unsettled ON deliveries(status, seq)
          WHERE status = 'pending' OR status = 'failed' OR status = 'cancelled';
      )sql"},
      // Pending deliveries leave the status index too: each still entered
      // it when made and left it when settled, and the due-time index
      // already holds every pending delivery (it is the queue), which
      // list_deliveries reads for `--status pending`. Failed and cancelled
      // stay, so support's `--status failed` answers from an index.
      // With the foreign keys (above), about 7 % fewer instructions per
      // delivery end to end (callgrind, bench/instructions.sh).
      {7, R"sql(
        DROP INDEX deliveries_unsettled;
        CREATE INDEX deliveries_unsuccessful ON deliveries(status, seq)
          WHERE status = 'failed' OR status = 'cancelled';
      )sql", drop_delivery_foreign_keys},
      {8, "", drop_attempt_id_index},
      // How a forward's attempt was signed: again with a fresh timestamp, or
      // as the provider sent it (and why). Last, after the response body, as
      // only `deliveries show` reads it.
      {9, "ALTER TABLE attempts ADD COLUMN signature TEXT;"},
      // bodies: what each attempt sent, kept once per event and distinct body:
      // retries and resends send the same bytes, and so do the deliveries of
      // one event to several webhooks. Found by event and compared byte for
      // byte, not by a hash: an event has one or two bodies, and hashing
      // each attempt's body cost more than the rest of keeping it (a SHA-256
      // key also wrote a random index page per body). Event ids grow with
      // time, so new index entries land at its end.
      // auto_attempts: the attempts the schedule made, which alone decide
      // the next retry (resends, replays and recovers are logged and
      // numbered, but must not use up a delivery's retries). Pending
      // deliveries learn theirs from the log; settled ones need none.
      // Skipped deliveries join the index that answers `--status failed`:
      // `webhooks recover` and `--status skipped` read them from it.
      {10, R"sql(
        CREATE TABLE bodies (
          seq      INTEGER PRIMARY KEY,
          event_id TEXT NOT NULL,                  -- the event whose delivery sent it
          body     BLOB NOT NULL
        );
        CREATE INDEX bodies_event ON bodies(event_id);
        ALTER TABLE attempts ADD COLUMN body_id INTEGER;  -- bodies.seq; NULL: nothing sent, or before version 10
        ALTER TABLE deliveries ADD COLUMN auto_attempts INTEGER NOT NULL DEFAULT 0;
        UPDATE deliveries INDEXED BY deliveries_due
          SET auto_attempts = (SELECT count(*) FROM attempts
                               WHERE attempts.delivery_id = deliveries.id AND attempts.trigger = 'scheduled')
          WHERE status = 'pending';
        DROP INDEX deliveries_unsuccessful;
        CREATE INDEX deliveries_unsuccessful ON deliveries(status, seq)
          WHERE status = 'failed' OR status = 'cancelled' OR status = 'skipped';
      )sql", allow_skipped_and_recover},
      // Content filters (query/where.hpp): a webhook's `--filter` and an
      // event trigger's `--where` conditions, as written, in a JSON array
      // of strings; fan-out keeps an event only when all of them hold.
      {11, R"sql(
        ALTER TABLE webhooks ADD COLUMN conditions TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE triggers ADD COLUMN conditions TEXT NOT NULL DEFAULT '[]';
      )sql"},
      // Automations (multi-step workflows), their runs and each step a run
      // executed. A run keeps the definition it started with, so `update`
      // never changes a run in flight. automation_runs is the queue: a run
      // is work while running or waiting, due at due_ms (a delay stores its
      // absolute due time), leased while a process executes it.
      // clock_offset_ms: how far `dispatch --fast-forward` had jumped the
      // clock when an attempt or step was made (0: real time).
      {12, R"sql(
        CREATE TABLE automations (
          name         TEXT PRIMARY KEY,
          definition   TEXT NOT NULL,               -- the validated JSON file
          trigger      TEXT NOT NULL CHECK (trigger = 'event' OR trigger = 'schedule' OR trigger = 'demand' OR trigger = 'http'),
          events       TEXT,                        -- event: JSON array of type globs
          source       TEXT,
          collection   TEXT,
          path         TEXT,                        -- http: served at /automations/<path>
          cron         TEXT,                        -- schedule: one of cron, every_ms, at_ms
          tz           TEXT,
          every_ms     INTEGER,
          at_ms        INTEGER,
          next_fire_ms INTEGER,
          paused       INTEGER NOT NULL DEFAULT 0,
          created_ms   INTEGER NOT NULL,
          updated_ms   INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX automations_path ON automations(path) WHERE trigger = 'http';
        CREATE TABLE automation_runs (
          seq            INTEGER PRIMARY KEY AUTOINCREMENT,
          id             TEXT NOT NULL UNIQUE,      -- arun_…
          automation     TEXT NOT NULL,             -- kept when the automation is removed
          definition     TEXT NOT NULL,
          status         TEXT NOT NULL CHECK (status = 'running' OR status = 'waiting' OR status = 'completed' OR status = 'failed' OR status = 'cancelled'),
          origin         TEXT NOT NULL CHECK (origin = 'event' OR origin = 'schedule' OR origin = 'demand' OR origin = 'http' OR origin = 'rerun'),
          event_id       TEXT,                      -- event runs: input is built from the event
          rerun_of       TEXT,
          input          TEXT,                      -- JSON; NULL until built from event_id
          context        TEXT NOT NULL DEFAULT '{}',
          next_step      TEXT,                      -- the step to run next; NULL once ended
          due_ms         INTEGER NOT NULL,
          lease_until_ms INTEGER,
          steps_run      INTEGER NOT NULL DEFAULT 0,
          error          TEXT,
          created_ms     INTEGER NOT NULL,
          updated_ms     INTEGER NOT NULL,
          ended_ms       INTEGER
        );
        CREATE INDEX automation_runs_open ON automation_runs(due_ms, seq) WHERE status IN ('running','waiting');
        CREATE INDEX automation_runs_automation ON automation_runs(automation, seq);
        CREATE TABLE automation_steps (
          seq             INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id          TEXT NOT NULL,
          step            TEXT NOT NULL,
          type            TEXT NOT NULL CHECK (type = 'compute' OR type = 'decision' OR type = 'delay'),
          status          TEXT NOT NULL CHECK (status = 'running' OR status = 'waiting' OR status = 'succeeded' OR status = 'failed' OR status = 'cancelled' OR status = 'interrupted'),
          attempt         INTEGER NOT NULL DEFAULT 1,
          started_ms      INTEGER NOT NULL,
          ended_ms        INTEGER,
          output          TEXT,                     -- JSON
          next            TEXT,
          error           TEXT,
          detail          TEXT,                     -- JSON: a decision's case and values, a delay's due time, a compute's exit
          clock_offset_ms INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX automation_steps_run ON automation_steps(run_id, seq);
        ALTER TABLE attempts ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
      )sql"},
      // 13: which process holds a delivery's, a run's or an automation
      // run's lease (SenderLock::owner), so that the others can free it at
      // once when that process is gone. Read only while lease_until_ms is
      // set; NULL on a SQLite store, whose processes cannot see one another
      // (their leases run out instead).
      {13, R"sql(
        ALTER TABLE deliveries ADD COLUMN lease_owner INTEGER;
        ALTER TABLE runs ADD COLUMN lease_owner INTEGER;
        ALTER TABLE automation_runs ADD COLUMN lease_owner INTEGER;
      )sql"},
  };
  return list;
}

} // namespace

int latest_schema_version()
{
  return migrations().back().version;
}

Result<void> migrate(SQLite::Database& db, int target)
{
  if (target < 0) target = latest_schema_version();
  int current = db.execAndGet("PRAGMA user_version").getInt();
  if (current > latest_schema_version())
    return std::unexpected(newer_schema_error(current, latest_schema_version()));
  if (current >= target) return {};
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  // Read again under the write lock: another process may have migrated
  // while we waited for it.
  current = db.execAndGet("PRAGMA user_version").getInt();
  for (const auto& m : migrations()) {
    if (m.version <= current || m.version > target) continue;
    db.exec(m.sql);
    if (m.code) m.code(db);
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
  }
  tx.commit();
  return {};
}

} // namespace centrali::store

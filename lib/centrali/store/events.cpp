#include "centrali/store/events.hpp"
#include "centrali/store/glob.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

constexpr const char* k_find_original =
    "SELECT id FROM events WHERE source = ? AND dedupe_key = ? AND status = 'accepted'";
#define CENTRALI_EVENT_INSERT                                                                              \
  " INTO events (id, source, type, status, reason, http_status, dedupe_key, duplicate_of, method, path, "  \
  "remote_addr, received_ms, dispatched, headers, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
constexpr const char* k_insert = "INSERT" CENTRALI_EVENT_INSERT;
// Every value is given and valid, so only a unique index can refuse the row:
// the dedupe key (a repeat) or, never in practice, the event id.
constexpr const char* k_insert_unless_repeat = "INSERT OR IGNORE" CENTRALI_EVENT_INSERT;
#undef CENTRALI_EVENT_INSERT

void bind_text_or_null(SQLite::Statement& st, int index, const std::string& value)
{
  if (value.empty()) st.bind(index);
  else st.bindNoCopy(index, value);
}

// Whether the row was stored (`sql` may ignore a repeat).
bool insert_row(Store& store, const Event& e, bool dispatch, const char* sql = k_insert)
{
  // No copies: every string here outlives the insert.
  auto& st = store.statement(sql);
  st.bindNoCopy(1, e.id);
  st.bindNoCopy(2, e.source);
  st.bindNoCopy(3, e.type);
  st.bindNoCopy(4, e.status);
  bind_text_or_null(st, 5, e.reason);
  st.bind(6, e.http_status);
  bind_text_or_null(st, 7, e.dedupe_key);
  bind_text_or_null(st, 8, e.duplicate_of);
  st.bindNoCopy(9, e.method);
  st.bindNoCopy(10, e.path);
  st.bindNoCopy(11, e.remote_addr);
  st.bind(12, static_cast<int64_t>(e.received_ms));
  st.bind(13, dispatch && e.status == "accepted" ? 0 : 1);
  const auto headers = headers_to_json_text(e.headers);
  st.bindNoCopy(14, headers);
  st.bindNoCopy(15, e.body.data(), static_cast<int>(e.body.size()));
  return st.exec() > 0;
}

Event read_row(SQLite::Statement& st, bool with_body)
{
  Event e;
  e.seq = st.getColumn(0).getInt64();
  e.id = st.getColumn(1).getString();
  e.source = st.getColumn(2).getString();
  e.type = st.getColumn(3).getString();
  e.status = st.getColumn(4).getString();
  e.reason = st.getColumn(5).getString();
  e.http_status = st.getColumn(6).getInt();
  e.dedupe_key = st.getColumn(7).getString();
  e.duplicate_of = st.getColumn(8).getString();
  e.method = st.getColumn(9).getString();
  e.path = st.getColumn(10).getString();
  e.remote_addr = st.getColumn(11).getString();
  e.received_ms = st.getColumn(12).getInt64();
  if (with_body) {
    auto headers = parse_json(st.getColumn(13).getString());
    e.headers = headers_from_json(headers);
    auto body = st.getColumn(14);
    e.body.assign(static_cast<const char*>(body.getBlob()), static_cast<std::size_t>(body.getBytes()));
  }
  return e;
}

constexpr const char* k_columns = "seq, id, source, type, status, reason, http_status, dedupe_key, duplicate_of, "
                                  "method, path, remote_addr, received_ms";
constexpr const char* k_get_event =
    "SELECT seq, id, source, type, status, reason, http_status, dedupe_key, duplicate_of, method, path, remote_addr, "
    "received_ms, headers, body FROM events WHERE id = ?";

} // namespace

Result<void> insert_event(Store& store, Event& event, bool dispatch)
{
  return guarded("store event " + event.id, [&]() -> Result<void> {
    if (event.status != "accepted" || event.dedupe_key.empty()) {
      insert_row(store, event, dispatch);
      return {};
    }
    // Most deliveries are new: insert, and let the unique dedupe index catch
    // a repeat, rather than look every delivery id up first (a lookup per
    // request is a measurable share of the writer's time).
    if (insert_row(store, event, dispatch, k_insert_unless_repeat)) return {};
    auto& find = store.statement(k_find_original);
    find.bind(1, event.source);
    find.bind(2, event.dedupe_key);
    bool seen = find.executeStep();
    if (seen) event.duplicate_of = find.getColumn(0).getString();
    find.reset();
    if (!seen) return fail(ErrorKind::store, "event id " + event.id + " is already stored");
    event.status = "duplicate";
    event.http_status = 200;
    event.reason = "repeat of " + event.duplicate_of + " (same delivery id " + event.dedupe_key + ")";
    insert_row(store, event, dispatch);
    return {};
  });
}

Result<bool> import_event(Store& store, const Event& event)
{
  return guarded("import event " + event.id, [&]() -> Result<bool> {
    auto& exists = store.statement("SELECT 1 FROM events WHERE id = ?");
    exists.bind(1, event.id);
    bool present = exists.executeStep();
    exists.reset();
    if (present) return false;
    Event copy = event;
    // An imported accepted event whose delivery id is already here is kept,
    // but as a duplicate, so the dedupe index stays true.
    if (copy.status == "accepted" && !copy.dedupe_key.empty()) {
      auto& find = store.statement(k_find_original);
      find.bind(1, copy.source);
      find.bind(2, copy.dedupe_key);
      if (find.executeStep()) {
        copy.status = "duplicate";
        copy.duplicate_of = find.getColumn(0).getString();
      }
      find.reset();
    }
    insert_row(store, copy, false);
    return true;
  });
}

Result<Event> get_event(Store& store, const std::string& id)
{
  return guarded("read event " + id, [&]() -> Result<Event> {
    // Cached: every trigger run and delivery attempt reads its event.
    auto& st = store.statement(k_get_event);
    st.bind(1, id);
    if (!st.executeStep()) return fail(ErrorKind::not_found, "no event " + id);
    auto event = read_row(st, true);
    st.reset();
    return event;
  });
}

Result<Event> get_event_payload(Store& store, const std::string& id)
{
  return guarded("read event " + id, [&]() -> Result<Event> {
    auto& st = store.statement("SELECT type, received_ms, body FROM events WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return fail(ErrorKind::not_found, "no event " + id);
    Event e;
    e.id = id;
    e.type = st.getColumn(0).getString();
    e.received_ms = st.getColumn(1).getInt64();
    auto body = st.getColumn(2);
    e.body.assign(static_cast<const char*>(body.getBlob()), static_cast<std::size_t>(body.getBytes()));
    st.reset();
    return e;
  });
}

namespace {

// ` AND …` terms for an event filter's fields, named parameters bound by
// bind_filter: one spelling for listing and pruning.
std::string filter_terms(const EventFilter& f)
{
  std::string sql;
  // Exact types use the (type, seq) index directly; globs fall back to
  // SQLite's GLOB (store/glob.hpp).
  if (!f.source.empty()) sql += " AND source = :source";
  if (!f.type_glob.empty()) sql += is_glob(f.type_glob) ? " AND type GLOB :type" : " AND type = :type";
  if (!f.status.empty()) sql += " AND status = :status";
  if (f.since_ms) sql += " AND received_ms >= :since";
  if (f.until_ms) sql += " AND received_ms < :until";
  return sql;
}

void bind_filter(SQLite::Statement& st, const EventFilter& f)
{
  if (!f.source.empty()) st.bind(":source", f.source);
  if (!f.type_glob.empty()) st.bind(":type", is_glob(f.type_glob) ? sqlite_glob(f.type_glob) : f.type_glob);
  if (!f.status.empty()) st.bind(":status", f.status);
  if (f.since_ms) st.bind(":since", static_cast<int64_t>(*f.since_ms));
  if (f.until_ms) st.bind(":until", static_cast<int64_t>(*f.until_ms));
}

std::int64_t count(Store& store, const std::string& sql)
{
  return store.db().execAndGet(sql).getInt64();
}

} // namespace

Result<EventPage> read_events(Store& store, const EventFilter& f)
{
  return guarded("list events", [&]() -> Result<EventPage> {
    const bool matching = static_cast<bool>(f.body_match);
    std::string sql = std::string("SELECT ") + k_columns;
    // The body is column 14 either way; with_body adds the headers before it.
    sql += f.with_body ? ", headers, body" : matching ? ", NULL, body" : "";
    sql += " FROM events WHERE 1=1" + filter_terms(f);
    if (f.after_seq > 0) sql += " AND seq > :after";
    sql += f.oldest_first ? " ORDER BY seq ASC" : " ORDER BY seq DESC";
    // With a content query the limit counts matches, so SQL reads on.
    if (f.limit > 0 && !matching) sql += " LIMIT :limit";
    SQLite::Statement st(store.db(), sql);
    bind_filter(st, f);
    if (f.after_seq > 0) st.bind(":after", static_cast<int64_t>(f.after_seq));
    if (f.limit > 0 && !matching) st.bind(":limit", f.limit);
    EventPage page;
    while (st.executeStep()) {
      page.last_seq = st.getColumn(0).getInt64();
      if (matching) {
        // Only the body is read from a row that does not match: building
        // an Event costs more than the match, over a million rows.
        auto body = st.getColumn(14);
        if (!f.body_match(std::string_view(static_cast<const char*>(body.getBlob()), static_cast<std::size_t>(body.getBytes()))))
          continue;
      }
      page.events.push_back(read_row(st, f.with_body));
      if (matching && f.limit > 0 && static_cast<int>(page.events.size()) >= f.limit) break;
    }
    return page;
  });
}

Result<std::vector<Event>> list_events(Store& store, const EventFilter& f)
{
  auto page = read_events(store, f);
  if (!page) return std::unexpected(page.error());
  return std::move(page->events);
}

Result<PruneCounts> prune_events(Store& store, const EventFilter& f, bool dry_run)
{
  PruneCounts counts;
  auto pruned = write_transaction(store, [&]() -> Result<void> {
    return guarded("prune events", [&]() -> Result<void> {
      store.db().exec("DROP TABLE IF EXISTS temp.pruned; CREATE TEMP TABLE pruned (id TEXT PRIMARY KEY)");
      // In use: not yet fanned out (past the cursor), or queued work that
      // reads the event when it runs (pending deliveries are the delivery
      // queue's index; open runs are runs_open's).
      SQLite::Statement pick(
          store.db(),
          "INSERT INTO temp.pruned SELECT id FROM events WHERE 1=1" + filter_terms(f) +
              " AND seq <= (SELECT last_seq FROM fanout_cursor WHERE id = 1)"
              " AND id NOT IN (SELECT event_id FROM deliveries WHERE status = 'pending')"
              " AND id NOT IN (SELECT event_id FROM runs WHERE status IN ('queued', 'running') AND event_id IS NOT NULL)");
      bind_filter(pick, f);
      counts.events = pick.exec();
      SQLite::Statement matched(store.db(), "SELECT count(*) FROM events WHERE 1=1" + filter_terms(f));
      bind_filter(matched, f);
      matched.executeStep();
      counts.kept = matched.getColumn(0).getInt64() - counts.events;
      matched.reset();
      counts.deliveries = count(store, "SELECT count(*) FROM deliveries WHERE event_id IN (SELECT id FROM temp.pruned)");
      counts.runs = count(store, "SELECT count(*) FROM runs WHERE event_id IN (SELECT id FROM temp.pruned)");
      if (!dry_run) {
        store.db().exec(
            "DELETE FROM attempts WHERE delivery_id IN "
            "  (SELECT id FROM deliveries WHERE event_id IN (SELECT id FROM temp.pruned));"
            "DELETE FROM deliveries WHERE event_id IN (SELECT id FROM temp.pruned);"
            "DELETE FROM runs WHERE event_id IN (SELECT id FROM temp.pruned);"
            "DELETE FROM events WHERE id IN (SELECT id FROM temp.pruned);"
            "DELETE FROM bodies WHERE event_id IN (SELECT id FROM temp.pruned);");
      }
      store.db().exec("DROP TABLE temp.pruned");
      return {};
    });
  });
  if (!pruned) return std::unexpected(pruned.error());
  return counts;
}

} // namespace centrali::store

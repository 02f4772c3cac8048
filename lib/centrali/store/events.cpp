#include "centrali/store/events.hpp"
#include "centrali/store/glob.hpp"
#include "centrali/store/work_signal.hpp"

#include <algorithm>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

constexpr const char* k_find_original =
    "SELECT id FROM events WHERE source = ? AND dedupe_key = ? AND status = 'accepted'";
#define CENTRALI_EVENT_COLUMNS                                                                             \
  " INTO events (id, source, type, status, reason, http_status, dedupe_key, duplicate_of, method, path, "  \
  "remote_addr, received_ms, dispatched, headers, body) VALUES "
#define CENTRALI_EVENT_ROW "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
constexpr int k_event_columns = 15;
constexpr const char* k_insert = "INSERT" CENTRALI_EVENT_COLUMNS CENTRALI_EVENT_ROW;
// Every value is given and valid, so only a unique index can refuse the row:
// the dedupe key (a repeat) or, never in practice, the event id.
constexpr const char* k_insert_unless_repeat = "INSERT" CENTRALI_EVENT_COLUMNS CENTRALI_EVENT_ROW " ON CONFLICT DO NOTHING";

// The most rows one statement inserts. There is a statement for each count
// up to it (made and cached when a batch of that size first comes), so a
// batch takes one round trip: with statements of 1, 2, 4 ... rows, a batch
// of 13 took three, and on PostgreSQL each is a round trip the listener's
// requests wait for.
constexpr std::size_t k_max_rows_per_insert = 64;

// "INSERT ... VALUES (row), (row) ... ON CONFLICT DO NOTHING RETURNING id"
// for `rows` rows (1 to k_max_rows_per_insert); the text lives as long as
// the program, as Store::statement's cache key must.
const char* insert_rows_unless_repeat(std::size_t rows)
{
  static const auto texts = [] {
    std::vector<std::string> out;
    std::string sql = "INSERT" CENTRALI_EVENT_COLUMNS;
    for (std::size_t n = 1; n <= k_max_rows_per_insert; ++n) {
      sql += n == 1 ? CENTRALI_EVENT_ROW : "," CENTRALI_EVENT_ROW;
      out.push_back(sql + " ON CONFLICT DO NOTHING RETURNING id");
    }
    return out;
  }();
  return texts[rows - 1].c_str();
}
#undef CENTRALI_EVENT_COLUMNS
#undef CENTRALI_EVENT_ROW

void bind_text_or_null(Statement& st, int index, const std::string& value)
{
  if (value.empty()) st.bind(index);
  else st.bind_no_copy(index, value);
}

// Binds `e` as the row whose first parameter is `first`. No copies: every
// string here, `headers` included, outlives the statement's run.
void bind_row(Statement& st, int first, const Event& e, bool dispatch, const std::string& headers)
{
  const int at = first - 1;
  st.bind_no_copy(at + 1, e.id);
  st.bind_no_copy(at + 2, e.source);
  st.bind_no_copy(at + 3, e.type);
  st.bind_no_copy(at + 4, e.status);
  bind_text_or_null(st, at + 5, e.reason);
  st.bind(at + 6, e.http_status);
  bind_text_or_null(st, at + 7, e.dedupe_key);
  bind_text_or_null(st, at + 8, e.duplicate_of);
  st.bind_no_copy(at + 9, e.method);
  st.bind_no_copy(at + 10, e.path);
  st.bind_no_copy(at + 11, e.remote_addr);
  st.bind(at + 12, static_cast<int64_t>(e.received_ms));
  st.bind(at + 13, dispatch && e.status == "accepted" ? 0 : 1);
  st.bind_no_copy(at + 14, headers);
  st.bind_no_copy(at + 15, e.body.data(), static_cast<int>(e.body.size()));
}

// Whether the row was stored (`sql` may ignore a repeat).
bool insert_row(Store& store, const Event& e, bool dispatch, const char* sql = k_insert)
{
  auto& st = store.statement(sql);
  const auto headers = headers_to_json_text(e.headers);
  bind_row(st, 1, e, dispatch, headers);
  return st.exec() > 0;
}

// An accepted event whose delivery id is stored already: stored as its
// duplicate (status, duplicate_of and reason updated in place).
Result<void> insert_repeat(Store& store, Event& event, bool dispatch)
{
  auto& find = store.statement(k_find_original);
  find.bind(1, event.source);
  find.bind(2, event.dedupe_key);
  bool seen = find.step();
  if (seen) event.duplicate_of = find.column(0).as_string();
  find.reset();
  if (!seen) return fail(ErrorKind::store, "event id " + event.id + " is already stored");
  event.status = "duplicate";
  event.http_status = 200;
  event.reason = "repeat of " + event.duplicate_of + " (same delivery id " + event.dedupe_key + ")";
  insert_row(store, event, dispatch);
  return {};
}

Event read_row(Statement& st, bool with_body)
{
  Event e;
  e.seq = st.column(0).as_int64();
  e.id = st.column(1).as_string();
  e.source = st.column(2).as_string();
  e.type = st.column(3).as_string();
  e.status = st.column(4).as_string();
  e.reason = st.column(5).as_string();
  e.http_status = st.column(6).as_int();
  e.dedupe_key = st.column(7).as_string();
  e.duplicate_of = st.column(8).as_string();
  e.method = st.column(9).as_string();
  e.path = st.column(10).as_string();
  e.remote_addr = st.column(11).as_string();
  e.received_ms = st.column(12).as_int64();
  if (with_body) {
    auto headers = parse_json(st.column(13).as_string());
    e.headers = headers_from_json(headers);
    auto body = st.column(14);
    e.body = body.as_string();
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
    } else if (!insert_row(store, event, dispatch, k_insert_unless_repeat)) {
      // Most deliveries are new: insert, and let the unique dedupe index
      // catch a repeat, rather than look every delivery id up first (a
      // lookup per request is a measurable share of the writer's time).
      if (auto r = insert_repeat(store, event, dispatch); !r) return r;
    }
    // One event at a time is a command's (emit, a record change, a send):
    // running processes fan it out at once. After the insert, which may
    // commit on its own. (A listener stores its requests with
    // insert_events and wakes its own fan-out.)
    if (dispatch && event.status == "accepted") announce_work(store);
    return {};
  });
}

Result<void> insert_events(Store& store, std::span<Event* const> events, bool dispatch)
{
  return guarded("store events", [&]() -> Result<void> {
    std::vector<std::string> headers;
    std::unordered_set<std::string> stored;
    for (std::size_t done = 0; done < events.size();) {
      const auto rows = std::min(events.size() - done, k_max_rows_per_insert);
      const auto chunk = events.subspan(done, rows);
      headers.clear();
      for (const auto* e : chunk) headers.push_back(headers_to_json_text(e->headers));
      auto& st = store.statement(insert_rows_unless_repeat(rows));
      for (std::size_t i = 0; i < rows; ++i)
        bind_row(st, static_cast<int>(i) * k_event_columns + 1, *chunk[i], dispatch, headers[i]);
      while (st.step()) stored.insert(st.column(0).as_string());
      st.reset();
      done += rows;
    }
    // Rows the statement skipped repeat a stored delivery id (or one earlier
    // in the same batch, which the unique index sees as well).
    for (auto* e : events)
      if (!stored.contains(e->id))
        if (auto r = insert_repeat(store, *e, dispatch); !r) return r;
    return {};
  });
}

Result<bool> import_event(Store& store, const Event& event)
{
  return guarded("import event " + event.id, [&]() -> Result<bool> {
    auto& exists = store.statement("SELECT 1 FROM events WHERE id = ?");
    exists.bind(1, event.id);
    bool present = exists.step();
    exists.reset();
    if (present) return false;
    Event copy = event;
    // An imported accepted event whose delivery id is already here is kept,
    // but as a duplicate, so the dedupe index stays true.
    if (copy.status == "accepted" && !copy.dedupe_key.empty()) {
      auto& find = store.statement(k_find_original);
      find.bind(1, copy.source);
      find.bind(2, copy.dedupe_key);
      if (find.step()) {
        copy.status = "duplicate";
        copy.duplicate_of = find.column(0).as_string();
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
    if (!st.step()) return fail(ErrorKind::not_found, "no event " + id);
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
    if (!st.step()) return fail(ErrorKind::not_found, "no event " + id);
    Event e;
    e.id = id;
    e.type = st.column(0).as_string();
    e.received_ms = st.column(1).as_int64();
    auto body = st.column(2);
    e.body = body.as_string();
    st.reset();
    return e;
  });
}

namespace {

// ` AND …` terms for an event filter's fields, named parameters bound by
// bind_filter: one spelling for listing and pruning.
std::string filter_terms(Backend backend, const EventFilter& f)
{
  std::string sql;
  // Exact types use the (type, seq) index directly; globs fall back to
  // a glob match (store/glob.hpp).
  if (!f.source.empty()) sql += " AND source = :source";
  if (!f.type_glob.empty()) sql += is_glob(f.type_glob) ? glob_condition(backend, "type", ":type") : " AND type = :type";
  if (!f.status.empty()) sql += " AND status = :status";
  if (f.since_ms) sql += " AND received_ms >= :since";
  if (f.until_ms) sql += " AND received_ms < :until";
  return sql;
}

void bind_filter(Backend backend, Statement& st, const EventFilter& f)
{
  if (!f.source.empty()) st.bind(":source", f.source);
  if (!f.type_glob.empty()) st.bind(":type", is_glob(f.type_glob) ? glob_pattern(backend, f.type_glob) : f.type_glob);
  if (!f.status.empty()) st.bind(":status", f.status);
  if (f.since_ms) st.bind(":since", static_cast<int64_t>(*f.since_ms));
  if (f.until_ms) st.bind(":until", static_cast<int64_t>(*f.until_ms));
}

std::int64_t count(Store& store, const std::string& sql)
{
  return store.query_int64(sql);
}

} // namespace

Result<EventPage> read_events(Store& store, const EventFilter& f)
{
  return guarded("list events", [&]() -> Result<EventPage> {
    const bool matching = static_cast<bool>(f.body_match);
    std::string sql = std::string("SELECT ") + k_columns;
    // The body is column 14 either way; with_body adds the headers before it.
    sql += f.with_body ? ", headers, body" : matching ? ", NULL, body" : "";
    sql += " FROM events WHERE 1=1" + filter_terms(store.backend(), f);
    if (f.after_seq > 0) sql += " AND seq > :after";
    sql += f.oldest_first ? " ORDER BY seq ASC" : " ORDER BY seq DESC";
    // With a content query the limit counts matches, so SQL reads on.
    if (f.limit > 0 && !matching) sql += " LIMIT :limit";
    Statement st(store, sql);
    bind_filter(store.backend(), st, f);
    if (f.after_seq > 0) st.bind(":after", static_cast<int64_t>(f.after_seq));
    if (f.limit > 0 && !matching) st.bind(":limit", f.limit);
    EventPage page;
    while (st.step()) {
      page.last_seq = st.column(0).as_int64();
      if (matching) {
        // Only the body is read from a row that does not match: building
        // an Event costs more than the match, over a million rows.
        auto body = st.column(14);
        if (!f.body_match(body.bytes()))
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
      store.exec("DROP TABLE IF EXISTS pruned; CREATE TEMP TABLE pruned (id TEXT PRIMARY KEY)");
      // In use: not yet fanned out (past the cursor), or queued work that
      // reads the event when it runs (pending deliveries are the delivery
      // queue's index; open runs are runs_open's).
      Statement pick(
          store,
          "INSERT INTO pruned SELECT id FROM events WHERE 1=1" + filter_terms(store.backend(), f) +
              " AND seq <= (SELECT last_seq FROM fanout_cursor WHERE id = 1)"
              " AND id NOT IN (SELECT event_id FROM deliveries WHERE status = 'pending')"
              " AND id NOT IN (SELECT event_id FROM runs WHERE status IN ('queued', 'running') AND event_id IS NOT NULL)");
      bind_filter(store.backend(), pick, f);
      counts.events = pick.exec();
      Statement matched(store, "SELECT count(*) FROM events WHERE 1=1" + filter_terms(store.backend(), f));
      bind_filter(store.backend(), matched, f);
      matched.step();
      counts.kept = matched.column(0).as_int64() - counts.events;
      matched.reset();
      counts.deliveries = count(store, "SELECT count(*) FROM deliveries WHERE event_id IN (SELECT id FROM pruned)");
      counts.runs = count(store, "SELECT count(*) FROM runs WHERE event_id IN (SELECT id FROM pruned)");
      if (!dry_run) {
        store.exec(
            "DELETE FROM attempts WHERE delivery_id IN "
            "  (SELECT id FROM deliveries WHERE event_id IN (SELECT id FROM pruned));"
            "DELETE FROM deliveries WHERE event_id IN (SELECT id FROM pruned);"
            "DELETE FROM runs WHERE event_id IN (SELECT id FROM pruned);"
            "DELETE FROM events WHERE id IN (SELECT id FROM pruned);"
            "DELETE FROM bodies WHERE event_id IN (SELECT id FROM pruned);");
      }
      store.exec("DROP TABLE pruned");
      return {};
    });
  });
  if (!pruned) return std::unexpected(pruned.error());
  return counts;
}

} // namespace centrali::store

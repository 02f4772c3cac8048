#include "centrali/store/deliveries.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/sqlite/sql.hpp"

#include "centrali/store/automations.hpp"
#include "centrali/store/glob.hpp"
#include "centrali/store/runs.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::store {
namespace {

constexpr const char* k_delivery_columns =
    "seq, id, kind, event_id, webhook_id, event_type, url, status, attempt_count, next_attempt_ms, last_status, "
    "last_error, created_ms, updated_ms, auto_attempts";
constexpr int k_delivery_column_count = 15;

Delivery read_delivery(Statement& st)
{
  Delivery d;
  d.seq = st.column(0).as_int64();
  d.id = st.column(1).as_string();
  d.kind = st.column(2).as_string();
  d.event_id = st.column(3).as_string();
  d.webhook_id = st.column(4).as_string();
  d.event_type = st.column(5).as_string();
  d.url = st.column(6).as_string();
  d.status = st.column(7).as_string();
  d.attempt_count = st.column(8).as_int();
  if (!st.column(9).is_null()) d.next_attempt_ms = st.column(9).as_int64();
  if (!st.column(10).is_null()) d.last_status = st.column(10).as_int();
  d.last_error = st.column(11).as_string();
  d.created_ms = st.column(12).as_int64();
  d.updated_ms = st.column(13).as_int64();
  d.auto_attempts = st.column(14).as_int();
  return d;
}

} // namespace

Result<void> insert_delivery(Store& store, const Delivery& d, std::int64_t* seq)
{
  return guarded("store delivery ", d.id, [&]() -> Result<void> {
#define CENTRALI_INSERT_DELIVERY                                                                       \
  "INSERT INTO deliveries (id, kind, event_id, webhook_id, event_type, url, status, attempt_count, "   \
  "next_attempt_ms, created_ms, updated_ms, lease_until_ms, last_error, lease_owner) "                   \
  "VALUES (?,?,?,?,?,?,?,0,?,?,?,?,?,?)"
    auto& st = store.statement(CENTRALI_INSERT_DELIVERY, CENTRALI_INSERT_DELIVERY " RETURNING seq");
#undef CENTRALI_INSERT_DELIVERY
    // No copies: the strings outlive the statement's execution below.
    st.bind_no_copy(1, d.id);
    st.bind_no_copy(2, d.kind);
    st.bind_no_copy(3, d.event_id);
    if (d.webhook_id.empty()) st.bind(4);
    else st.bind_no_copy(4, d.webhook_id);
    st.bind_no_copy(5, d.event_type);
    st.bind_no_copy(6, d.url);
    st.bind_no_copy(7, d.status);
    // Inserted leased: stored as a claim leaves it, due at the lease's end.
    if (d.lease_until_ms) st.bind(8, static_cast<int64_t>(d.lease_until_ms));
    else if (d.next_attempt_ms) st.bind(8, static_cast<int64_t>(*d.next_attempt_ms));
    else st.bind(8);
    st.bind(9, static_cast<int64_t>(d.created_ms));
    st.bind(10, static_cast<int64_t>(d.updated_ms));
    if (d.lease_until_ms) st.bind(11, static_cast<int64_t>(d.lease_until_ms));
    else st.bind(11);
    if (d.last_error.empty()) st.bind(12);  // a skipped delivery says why
    else st.bind_no_copy(12, d.last_error);
    if (d.lease_until_ms && d.lease_owner) st.bind(13, static_cast<int64_t>(d.lease_owner));
    else st.bind(13);
    const auto key = store.insert_for_key(st);
    if (seq) *seq = key;
    return {};
  });
}

Result<std::vector<Delivery>> claim_due_deliveries(Store& store, std::int64_t now_ms, int limit, ClaimLease lease,
                                                   const std::function<bool(const std::string&)>& accept)
{
  return guarded("claim due deliveries", [&]() -> Result<std::vector<Delivery>> {
    // Look further ahead than `limit` so one endpoint's backlog cannot hide
    // the deliveries due to the others, but boundedly: every row looked at
    // is a table read on the writer, and a claim runs for every few
    // attempts. A long run of refusals means the rows ahead all belong to
    // endpoints that are busy; stop there rather than walk their backlog.
    constexpr int k_max_lookahead = 1024;
    constexpr int k_max_refused_run = 128;
    // The rows are read whole here, so the lease below needs no RETURNING
    // (which SQLite buffers in an ephemeral table per statement).
    auto& candidates = store.statement(sqlite::k_claim_candidates, postgres::k_claim_candidates);
    candidates.bind(1, static_cast<int64_t>(now_ms));
    candidates.bind(2, std::min(limit * 8, std::max(limit, k_max_lookahead)));
    std::vector<Delivery> out;
    int refused_run = 0;
    while (static_cast<int>(out.size()) < limit && refused_run < k_max_refused_run && candidates.step()) {
      const char* url = candidates.column(6).as_text();
      if (!accept || accept(url)) {
        out.push_back(read_delivery(candidates));
        refused_run = 0;
      } else {
        ++refused_run;
      }
    }
    candidates.reset();
    if (out.empty()) return out;
    const bool takes_forward = std::any_of(out.begin(), out.end(), [](const Delivery& d) { return d.kind == "forward"; });
    const auto lease_until_ms = now_ms + (takes_forward ? lease.with_forward_ms : lease.webhooks_ms);
    for (auto& d : out) {
      d.lease_until_ms = lease_until_ms;
      d.lease_owner = lease.owner;
    }
    // One statement leases the whole batch (rowids as a JSON array): a write
    // statement's fixed cost is paid once per claim, not once per delivery.
    // The due time moves to the lease's end, which is when the delivery
    // could next be claimed (should this holder die): leased rows then sit
    // behind the due ones in the due-time index, instead of in front where
    // every claim had to read past each of them.
    std::string seqs = "[";
    for (const auto& d : out) {
      if (seqs.size() > 1) seqs += ',';
      seqs += std::to_string(d.seq);
    }
    seqs += ']';
    auto& leasing = store.statement(sqlite::k_lease_deliveries, postgres::k_lease_deliveries);
    leasing.bind(1, static_cast<int64_t>(lease_until_ms));
    leasing.bind(2, seqs);
    if (lease.owner) leasing.bind(3, static_cast<int64_t>(lease.owner));
    else leasing.bind(3);
    leasing.exec();
    return out;
  });
}

Result<void> release_lease(Store& store, const Delivery& claimed)
{
  return guarded("release delivery " + claimed.id, [&]() -> Result<void> {
    // Due again when it was due before the claim; only while it still holds
    // this claim's lease (nobody has recorded an attempt for it since, and
    // no other holder claimed it after the lease ended).
    auto& st = store.statement("UPDATE deliveries SET lease_until_ms = NULL, next_attempt_ms = ? "
                               "WHERE id = ? AND status = 'pending' AND lease_until_ms = ?");
    if (claimed.next_attempt_ms) st.bind(1, static_cast<int64_t>(*claimed.next_attempt_ms));
    else st.bind(1);
    st.bind(2, claimed.id);
    st.bind(3, static_cast<int64_t>(claimed.lease_until_ms));
    st.exec();
    return {};
  });
}

Result<int> release_abandoned_leases(Store& store, std::int64_t now_ms)
{
  return guarded("release abandoned leases", [&]() -> Result<int> {
    // A claim only takes what is due, so each was due by now at the latest.
    // A leased row is due at its lease's end: only those still ahead need
    // freeing, and the due-time index finds them without reading the
    // backlog that is due already.
    auto& st = store.statement("UPDATE deliveries INDEXED BY deliveries_due SET lease_until_ms = NULL, "
                               "next_attempt_ms = ?1 WHERE status = 'pending' AND next_attempt_ms > ?1 "
                               "AND lease_until_ms IS NOT NULL");
    st.bind(1, static_cast<int64_t>(now_ms));
    int freed = st.exec();
    st.reset();
    // Automation runs are leased the same way, by the same processes.
    auto runs = release_abandoned_automation_leases(store);
    if (!runs) return std::unexpected(runs.error());
    return freed + *runs;
  });
}

Result<int> release_departed_senders_leases(Store& store, std::int64_t now_ms)
{
  if (store.backend() != Backend::postgresql) return 0;  // see the declaration
  return guarded("release departed senders' leases", [&]() -> Result<int> {
    // Owners are read from the server's locks as this statement runs. A
    // sender joins (holds its lock) before it claims, and a claim or a
    // leasing fan-out cannot commit while this runs (they take the write
    // lock shared or whole, the caller whole): no lease of a running
    // sender is taken for a departed one's.
    auto& st = store.statement(postgres::k_release_departed_leases);
    st.bind(1, static_cast<int64_t>(now_ms));
    st.bind(2, postgres::k_sender_owner_class);
    int freed = st.exec();
    st.reset();
    // Runs and automation runs are leased by the same processes.
    auto runs = interrupt_departed_runs(store, now_ms);
    if (!runs) return std::unexpected(runs.error());
    auto automation_runs = release_departed_automation_leases(store);
    if (!automation_runs) return std::unexpected(automation_runs.error());
    return freed + *runs + *automation_runs;
  });
}

namespace {

// Writes the delivery's new state as attempt `number`; false when its row
// (seq and id) holds another count than `number - 1` (or is gone).
bool update_for_attempt(Store& store, const Attempt& a, const DeliveryUpdate& u, std::int64_t seq, int number)
{
  auto& upd = store.statement(
      "UPDATE deliveries SET status = ?1, attempt_count = ?2, next_attempt_ms = ?3, last_status = ?4, last_error = ?5, "
      "lease_until_ms = CASE WHEN ?6 = 1 THEN NULL ELSE lease_until_ms END, auto_attempts = auto_attempts + ?6, "
      "updated_ms = ?7 WHERE seq = ?8 AND id = ?9 AND attempt_count = ?10");
  upd.bind_no_copy(1, u.status);
  upd.bind(2, number);
  if (u.next_attempt_ms) upd.bind(3, static_cast<int64_t>(*u.next_attempt_ms));
  else upd.bind(3);
  if (u.last_status) upd.bind(4, *u.last_status);
  else upd.bind(4);
  if (u.last_error.empty()) upd.bind(5);
  else upd.bind_no_copy(5, u.last_error);
  // Only the scheduled attempt holds the lease; a manual resend next to it
  // must not release it, nor use up a retry.
  upd.bind(6, a.trigger == "scheduled" ? 1 : 0);
  upd.bind(7, static_cast<int64_t>(a.started_ms + a.duration_ms));
  upd.bind(8, static_cast<int64_t>(seq));  // the rowid: no descent through the id index
  upd.bind_no_copy(9, a.delivery_id);
  upd.bind(10, number - 1);
  return upd.exec() == 1;
}

} // namespace

Result<int> record_attempt(Store& store, const Attempt& a, const DeliveryUpdate& u)
{
  return guarded("record attempt for ", a.delivery_id, [&]() -> Result<int> {
    // The caller that read the row (the worker) names the count it saw:
    // the update then numbers the attempt itself, and only when another
    // attempt was recorded meanwhile (a resend from elsewhere) is the
    // count read. The number never comes from UPDATE … RETURNING: SQLite
    // buffers RETURNING rows in an ephemeral b-tree it opens and frees per
    // statement, which cost a third of the writer's time here. Everything
    // runs in the caller's transaction, so nothing moves in between.
    int number = 0;
    if (u.seq && u.attempts_seen && update_for_attempt(store, a, u, u.seq, *u.attempts_seen + 1)) {
      number = *u.attempts_seen + 1;
    } else {
      // By rowid when the caller has it: no descent through the id index.
      // The id still has to match. On PostgreSQL another process may record
      // an attempt of this delivery at the same time (attempts take the
      // write lock shared there): the read locks the row until the commit.
#define CENTRALI_COUNT_BY_SEQ "SELECT seq, attempt_count FROM deliveries WHERE id = ?1 AND seq = ?2"
#define CENTRALI_COUNT_BY_ID "SELECT seq, attempt_count FROM deliveries WHERE id = ?1"
      auto& count = u.seq ? store.statement(CENTRALI_COUNT_BY_SEQ, CENTRALI_COUNT_BY_SEQ " FOR UPDATE")
                          : store.statement(CENTRALI_COUNT_BY_ID, CENTRALI_COUNT_BY_ID " FOR UPDATE");
#undef CENTRALI_COUNT_BY_SEQ
#undef CENTRALI_COUNT_BY_ID
      count.bind_no_copy(1, a.delivery_id);
      if (u.seq) count.bind(2, static_cast<int64_t>(u.seq));
      if (!count.step()) {
        count.reset();
        return fail(ErrorKind::not_found, "no delivery " + a.delivery_id);
      }
      const std::int64_t seq = count.column(0).as_int64();
      number = count.column(1).as_int() + 1;
      count.reset();
      update_for_attempt(store, a, u, seq, number);  // matches: the count was read (and locked) in this transaction
    }
    std::optional<std::int64_t> body_id;
    if (a.body_kept) {
      // Once per event and distinct body: a retry finds its bytes stored already.
      auto& known = store.statement("SELECT seq, body FROM bodies WHERE event_id = ?");
      known.bind_no_copy(1, a.event_id);
      while (!body_id && known.step()) {
        auto stored = known.column(1);
        if (stored.bytes() == std::string_view(a.request_body))
          body_id = known.column(0).as_int64();
      }
      known.reset();
      if (!body_id) {
#define CENTRALI_INSERT_BODY "INSERT INTO bodies (event_id, body) VALUES (?, ?)"
        auto& body = store.statement(CENTRALI_INSERT_BODY, CENTRALI_INSERT_BODY " RETURNING seq");
#undef CENTRALI_INSERT_BODY
        body.bind_no_copy(1, a.event_id);
        body.bind_no_copy(2, a.request_body.data(), static_cast<int>(a.request_body.size()));
        body_id = store.insert_for_key(body);
      }
    }
    auto& ins = store.statement(
        "INSERT INTO attempts (id, delivery_id, number, trigger, url, response_status, duration_ms, error, "
        "started_ms, request_headers, response_headers, response_body, signature, body_id, clock_offset_ms) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    // No copies: every string here outlives the insert.
    ins.bind_no_copy(1, a.id);
    ins.bind_no_copy(2, a.delivery_id);
    ins.bind(3, number);
    ins.bind_no_copy(4, a.trigger);
    ins.bind_no_copy(5, a.url);
    if (a.response_status) ins.bind(6, *a.response_status);
    else ins.bind(6);
    ins.bind(7, static_cast<int64_t>(a.duration_ms));
    if (a.error.empty()) ins.bind(8);
    else ins.bind_no_copy(8, a.error);
    ins.bind(9, static_cast<int64_t>(a.started_ms));
    const auto request_headers = headers_to_json_text(a.request_headers);
    const auto response_headers = headers_to_json_text(a.response_headers);
    ins.bind_no_copy(10, request_headers);
    ins.bind_no_copy(11, response_headers);
    ins.bind_no_copy(12, a.response_body.data(), static_cast<int>(a.response_body.size()));
    if (a.signature.empty()) ins.bind(13);
    else ins.bind_no_copy(13, a.signature);
    if (body_id) ins.bind(14, static_cast<int64_t>(*body_id));
    else ins.bind(14);
    // Every attempt is recorded here, so every one says whether it was made
    // under a fast-forwarded clock (`dispatch --fast-forward` jumps only
    // while nothing is in flight: the offset now is the one it started at).
    ins.bind(15, static_cast<int64_t>(timeutil::clock_offset_ms()));
    ins.exec();
    return number;
  });
}

Result<void> skip_delivery(Store& store, const Delivery& claimed, const std::string& reason, std::int64_t now_ms)
{
  return guarded("skip delivery " + claimed.id, [&]() -> Result<void> {
    auto& st = store.statement("UPDATE deliveries SET status = 'skipped', next_attempt_ms = NULL, lease_until_ms = NULL, "
                               "last_error = ?1, updated_ms = ?2 WHERE seq = ?3 AND id = ?4 AND status = 'pending'");
    st.bind(1, reason);
    st.bind(2, static_cast<int64_t>(now_ms));
    st.bind(3, static_cast<int64_t>(claimed.seq));
    st.bind(4, claimed.id);
    st.exec();
    return {};
  });
}

Result<std::vector<Delivery>> pending_deliveries_of(Store& store, const std::string& webhook_id)
{
  return guarded("read pending deliveries of " + webhook_id, [&]() -> Result<std::vector<Delivery>> {
    // Through the queue's index: a webhook's settled history can be millions of rows.
    Statement st(store, std::string("SELECT ") + k_delivery_columns + ", lease_until_ms " +
                                         "FROM deliveries INDEXED BY deliveries_due "
                                         "WHERE status = 'pending' AND webhook_id = ? AND kind = 'webhook'");
    st.bind(1, webhook_id);
    std::vector<Delivery> out;
    while (st.step()) {
      out.push_back(read_delivery(st));
      if (auto lease = st.column(k_delivery_column_count); !lease.is_null()) out.back().lease_until_ms = lease.as_int64();
    }
    return out;
  });
}

Result<void> reschedule_delivery(Store& store, const Delivery& d, std::optional<std::int64_t> due_ms,
                                 const std::string& failure, std::int64_t now_ms)
{
  return guarded("reschedule delivery " + d.id, [&]() -> Result<void> {
    // Only while nobody holds it: a held one is planned when its attempt is recorded.
    Statement st(store,
                         "UPDATE deliveries SET status = ?1, next_attempt_ms = ?2, "
                         "last_error = CASE WHEN ?1 = 'failed' THEN ?3 ELSE last_error END, "
                         // Kept while pending: it is when the last attempt ended, which the next re-plan counts from.
                         "updated_ms = CASE WHEN ?1 = 'failed' THEN ?4 ELSE updated_ms END "
                         "WHERE seq = ?5 AND status = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms <= ?4)");
    st.bind(1, due_ms ? "pending" : "failed");
    if (due_ms) st.bind(2, static_cast<int64_t>(*due_ms));
    else st.bind(2);
    st.bind(3, failure);
    st.bind(4, static_cast<int64_t>(now_ms));
    st.bind(5, static_cast<int64_t>(d.seq));
    st.exec();
    return {};
  });
}

Result<StatusCount> count_webhook_deliveries(Store& store, const std::string& webhook_id, const std::string& status,
                                             std::int64_t since_ms)
{
  return guarded("count deliveries of " + webhook_id, [&]() -> Result<StatusCount> {
    Statement st(store, "SELECT count(*), min(created_ms) FROM deliveries "
                                     "WHERE webhook_id = ? AND status = ? AND created_ms >= ?");
    st.bind(1, webhook_id);
    st.bind(2, status);
    st.bind(3, static_cast<int64_t>(since_ms));
    st.step();
    StatusCount c;
    c.count = st.column(0).as_int64();
    if (!st.column(1).is_null()) c.oldest_ms = st.column(1).as_int64();
    return c;
  });
}

Result<std::optional<std::int64_t>> next_due_ms(Store& store, std::int64_t after_ms)
{
  return guarded("read delivery queue", [&]() -> Result<std::optional<std::int64_t>> {
    // One probe of the due-time index. Asking instead for the first row
    // nobody holds read past every leased row (a worker holds hundreds)
    // whenever none was free, which is most of the time.
    auto& st = store.statement("SELECT min(next_attempt_ms) FROM deliveries INDEXED BY deliveries_due "
                               "WHERE status = 'pending' AND next_attempt_ms > ?");
    st.bind(1, static_cast<int64_t>(after_ms));
    std::optional<std::int64_t> due;
    if (st.step() && !st.column(0).is_null()) due = st.column(0).as_int64();
    st.reset();
    return due;
  });
}

Result<Delivery> get_delivery(Store& store, const std::string& id)
{
  return guarded("read delivery " + id, [&]() -> Result<Delivery> {
    Statement st(store, std::string("SELECT ") + k_delivery_columns + " FROM deliveries WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return fail(ErrorKind::not_found, "no delivery " + id);
    return read_delivery(st);
  });
}

namespace {

// With the body each attempt sent, from the bodies table.
constexpr const char* k_attempt_columns =
    "attempts.seq, id, delivery_id, number, trigger, url, response_status, duration_ms, error, started_ms, "
    "request_headers, response_headers, response_body, signature, bodies.seq, bodies.body, clock_offset_ms";
constexpr const char* k_attempts_with_bodies = " FROM attempts LEFT JOIN bodies ON bodies.seq = attempts.body_id";

Attempt read_attempt(Statement& st)
{
  Attempt a;
      a.seq = st.column(0).as_int64();
      a.id = st.column(1).as_string();
      a.delivery_id = st.column(2).as_string();
      a.number = st.column(3).as_int();
      a.trigger = st.column(4).as_string();
      a.url = st.column(5).as_string();
      if (!st.column(6).is_null()) a.response_status = st.column(6).as_int();
      a.duration_ms = st.column(7).as_int64();
      a.error = st.column(8).as_string();
      a.started_ms = st.column(9).as_int64();
      a.request_headers = headers_from_json(parse_json(st.column(10).as_string()));
      a.response_headers = headers_from_json(parse_json(st.column(11).as_string()));
      auto body = st.column(12);
      if (!body.is_null())
        a.response_body = body.as_string();
      a.signature = st.column(13).as_string();
      a.body_kept = !st.column(14).is_null();
      if (auto sent = st.column(15); !sent.is_null())
        a.request_body = sent.as_string();
      a.clock_offset_ms = st.column(16).as_int64();
  return a;
}

} // namespace

Result<std::vector<Attempt>> list_attempts(Store& store, const std::string& delivery_id)
{
  return guarded("read attempts of " + delivery_id, [&]() -> Result<std::vector<Attempt>> {
    Statement st(store, std::string("SELECT ") + k_attempt_columns + k_attempts_with_bodies +
                                         " WHERE delivery_id = ? ORDER BY number");
    st.bind(1, delivery_id);
    std::vector<Attempt> out;
    while (st.step()) out.push_back(read_attempt(st));
    return out;
  });
}

Result<std::vector<Attempt>> attempts_after(Store& store, std::int64_t after_seq, int limit)
{
  return guarded("read attempts", [&]() -> Result<std::vector<Attempt>> {
    Statement st(store, std::string("SELECT ") + k_attempt_columns + k_attempts_with_bodies +
                                         " WHERE attempts.seq > ? ORDER BY attempts.seq LIMIT ?");
    st.bind(1, static_cast<int64_t>(after_seq));
    st.bind(2, limit);
    std::vector<Attempt> out;
    while (st.step()) out.push_back(read_attempt(st));
    return out;
  });
}

Result<std::int64_t> last_attempt_seq(Store& store)
{
  return guarded("read attempts", [&]() -> Result<std::int64_t> {
    Statement st(store, "SELECT coalesce(max(seq), 0) FROM attempts");
    st.step();
    return st.column(0).as_int64();
  });
}

namespace {

// How many of the newest deliveries `--status pending` scans before it
// turns to the due-time index: a backlog is found among them at once, and
// reading this many rows costs a few milliseconds.
constexpr std::int64_t k_pending_scan_rows = 10000;

// One part of a listing: the filter's rows that also meet `extra`, newest
// first, at most `limit` (0: all).
std::vector<Delivery> list_part(Store& store, const DeliveryFilter& f, const char* extra, std::int64_t cut, int limit)
{
  const bool matching = static_cast<bool>(f.event_body_match);
  std::string sql = std::string("SELECT ") + k_delivery_columns;
  // The event's body for a content query, looked up by the events' id index.
  if (matching) sql += ", (SELECT body FROM events WHERE events.id = deliveries.event_id)";
  sql += " FROM deliveries WHERE 1=1";
  if (!f.webhook_id.empty()) sql += " AND webhook_id = :webhook";
  if (!f.status.empty()) sql += " AND status = :status";
  if (!f.event_id.empty()) sql += " AND event_id = :event";
  if (!f.kind.empty()) sql += " AND kind = :kind";
  if (!f.type_glob.empty()) sql += glob_condition(store.backend(), "event_type", ":type");
  if (f.since_ms) sql += " AND created_ms >= :since";
  if (f.until_ms) sql += " AND created_ms < :until";
  if (f.active_since_ms) sql += " AND updated_ms >= :asince";
  if (f.active_until_ms) sql += " AND created_ms < :auntil";
  if (!f.reason_glob.empty()) sql += glob_condition(store.backend(), "last_error", ":reason");
  if (*extra) sql += std::string(" AND ") + extra;
  sql += " ORDER BY seq DESC";
  // With a content query the limit counts matches, so SQL reads on.
  if (limit > 0 && !matching) sql += " LIMIT :limit";
  Statement st(store, sql);
  if (!f.webhook_id.empty()) st.bind(":webhook", f.webhook_id);
  if (!f.status.empty()) st.bind(":status", f.status);
  if (!f.event_id.empty()) st.bind(":event", f.event_id);
  if (!f.kind.empty()) st.bind(":kind", f.kind);
  if (!f.type_glob.empty()) st.bind(":type", glob_pattern(store.backend(), f.type_glob));
  if (f.since_ms) st.bind(":since", static_cast<int64_t>(*f.since_ms));
  if (f.until_ms) st.bind(":until", static_cast<int64_t>(*f.until_ms));
  if (f.active_since_ms) st.bind(":asince", static_cast<int64_t>(*f.active_since_ms));
  if (f.active_until_ms) st.bind(":auntil", static_cast<int64_t>(*f.active_until_ms));
  if (!f.reason_glob.empty()) st.bind(":reason", glob_pattern(store.backend(), f.reason_glob));
  if (*extra) st.bind(":cut", static_cast<int64_t>(cut));
  if (limit > 0 && !matching) st.bind(":limit", limit);
  std::vector<Delivery> out;
  while (st.step()) {
    if (matching) {
      auto body = st.column(k_delivery_column_count);  // after the delivery's own columns
      if (!f.event_body_match(body.bytes()))
        continue;
    }
    out.push_back(read_delivery(st));
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

} // namespace

Result<std::vector<Delivery>> list_deliveries(Store& store, const DeliveryFilter& f)
{
  return guarded("list deliveries", [&]() -> Result<std::vector<Delivery>> {
    if (f.status != "pending") return list_part(store, f, "", 0, f.limit);
    // Pending deliveries are in the due-time index (the queue), not the
    // status index (schema 7), and that index is not in seq order. A
    // backlog is the newest rows: scan those first. A few retries among
    // many settled deliveries are older: the due-time index finds them
    // without a scan of everything since.
    std::vector<Delivery> out;
    auto read = read_snapshot(store, [&]() -> Result<void> {
      const auto newest = store.query_int64("SELECT coalesce(max(seq), 0) FROM deliveries");
      const auto cut = newest - k_pending_scan_rows;
      out = list_part(store, f, "seq > :cut", cut, f.limit);
      if (f.limit > 0 && static_cast<int>(out.size()) >= f.limit) return {};
      auto older = list_part(store, f,
                             "seq <= :cut AND seq IN (SELECT seq FROM deliveries INDEXED BY deliveries_due "
                             "WHERE status = 'pending')",
                             cut, f.limit > 0 ? f.limit - static_cast<int>(out.size()) : 0);
      for (auto& d : older) out.push_back(std::move(d));
      return {};
    });
    if (!read) return std::unexpected(read.error());
    return out;
  });
}

Result<Delivery> cancel_delivery(Store& store, const std::string& id, std::int64_t now_ms)
{
  return guarded("cancel delivery " + id, [&]() -> Result<Delivery> {
    Statement st(store, "UPDATE deliveries SET status = 'cancelled', next_attempt_ms = NULL, "
                                     "updated_ms = ? WHERE id = ? AND status = 'pending'");
    st.bind(1, static_cast<int64_t>(now_ms));
    st.bind(2, id);
    int changed = st.exec();
    auto d = get_delivery(store, id);
    if (!d) return d;
    if (changed == 0)
      return fail(ErrorKind::rejected, "delivery " + id + " is " + d->status + ", not pending; only pending deliveries can be cancelled");
    return d;
  });
}

Result<std::vector<AttemptOutcome>> webhook_attempts_since(Store& store, std::int64_t since_ms,
                                                           const std::string& webhook_id)
{
  return guarded("read attempts", [&]() -> Result<std::vector<AttemptOutcome>> {
    // Attempts are stored as they end, so seq follows started_ms but for an
    // attempt's own duration (at most 5 minutes): walking back from the
    // newest, one that started an hour before the window ends the walk
    // without reading the older history.
    constexpr std::int64_t k_slack_ms = 3'600'000;
    Statement st(store,
                         "SELECT d.webhook_id, a.response_status, a.duration_ms, a.error, a.started_ms "
                         "FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
                         "WHERE d.kind = 'webhook' ORDER BY a.seq DESC");
    std::vector<AttemptOutcome> out;
    while (st.step()) {
      const auto started = st.column(4).as_int64();
      if (started < since_ms - k_slack_ms) break;
      if (started < since_ms) continue;
      auto id = st.column(0).as_string();
      if (!webhook_id.empty() && id != webhook_id) continue;
      AttemptOutcome o;
      o.webhook_id = std::move(id);
      if (!st.column(1).is_null()) o.response_status = st.column(1).as_int();
      o.duration_ms = st.column(2).as_int64();
      o.error = st.column(3).as_string();
      o.started_ms = started;
      out.push_back(std::move(o));
    }
    return out;
  });
}

Result<QueueState> queue_state(Store& store)
{
  return guarded("read delivery queue", [&]() -> Result<QueueState> {
    // Covered by the due-time index: no table reads (the listener and
    // `dispatch` ask every few dozen milliseconds).
    Statement st(store, "SELECT count(*), min(next_attempt_ms) FROM deliveries INDEXED BY deliveries_due "
                                     "WHERE status = 'pending'");
    st.step();
    QueueState q;
    q.pending = st.column(0).as_int64();
    if (!st.column(1).is_null()) q.next_due_ms = st.column(1).as_int64();
    return q;
  });
}

Result<std::vector<Delivery>> deliveries_for_event(Store& store, const std::string& event_id)
{
  return guarded("read deliveries of " + event_id, [&]() -> Result<std::vector<Delivery>> {
    Statement st(store, std::string("SELECT ") + k_delivery_columns +
                                         " FROM deliveries WHERE event_id = ? ORDER BY seq");
    st.bind(1, event_id);
    std::vector<Delivery> out;
    while (st.step()) out.push_back(read_delivery(st));
    return out;
  });
}

Result<std::optional<Delivery>> find_forward(Store& store, const std::string& event_id, const std::string& url)
{
  return guarded("read deliveries of " + event_id, [&]() -> Result<std::optional<Delivery>> {
    Statement st(store, std::string("SELECT ") + k_delivery_columns +
                                         " FROM deliveries WHERE event_id = ? AND kind = 'forward' AND url = ? "
                                         "ORDER BY seq LIMIT 1");
    st.bind(1, event_id);
    st.bind(2, url);
    if (!st.step()) return std::optional<Delivery>{};
    return std::optional<Delivery>{read_delivery(st)};
  });
}

} // namespace centrali::store

// The event log (store/events.hpp): exact bytes in and out, one accepted
// row per provider delivery id, listing (filters, order, pages, content
// queries), import, and pruning that never takes an event still in use.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include <string>
#include <vector>

#include "centrali/dispatch/fanout.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/triggers.hpp"
#include "scratch_postgres.hpp"
#include "temp_store.hpp"

using namespace centrali;

namespace {

store::Event make_event(const std::string& id, const std::string& source, const std::string& type,
                        std::int64_t received_ms, std::string body = "{}", const std::string& status = "accepted")
{
  store::Event e;
  e.id = id;
  e.source = source;
  e.type = type;
  e.status = status;
  e.http_status = status == "accepted" ? 202 : 401;
  e.path = "/ingest/" + source;
  e.remote_addr = "127.0.0.1";
  e.body = std::move(body);
  e.received_ms = received_ms;
  return e;
}

void add(store::Store& s, store::Event e, bool dispatch = true)
{
  REQUIRE(store::insert_event(s, e, dispatch));
}

std::vector<std::string> ids_of(const std::vector<store::Event>& events)
{
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

std::vector<std::string> list_ids(store::Store& s, store::EventFilter f)
{
  auto events = store::list_events(s, f);
  REQUIRE(events);
  return ids_of(*events);
}

std::int64_t scalar(store::Store& s, const std::string& sql)
{
  return s.query_int64(sql);
}

using Ids = std::vector<std::string>;

} // namespace

TEST_CASE("store::insert_event keeps the body and headers byte for byte: NULs, invalid UTF-8, every byte value",
          "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  std::string body;
  for (int i = 0; i < 256; ++i) body += static_cast<char>(i);
  body += std::string("\x00\x00\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80 trailing\n", 20);
  auto e = make_event("evt_bytes", "src", "order.created", 1234, body);
  e.method = "PUT";
  e.reason = "a reason";
  e.dedupe_key = "key-1";
  e.headers = {{"X-Multi", "a"}, {"X-Multi", "b"}, {"X-Odd", "caf\xc3\xa9 \x01"}, {"Content-Type", "application/json"}};
  add(s, e);

  auto got = store::get_event(s, "evt_bytes");
  REQUIRE(got);
  CHECK(got->body.size() == body.size());
  CHECK(got->body == body);
  REQUIRE(got->headers.size() == 4);
  CHECK(got->headers[0].name == "X-Multi");
  CHECK(got->headers[1].value == "b");  // order and duplicates kept
  CHECK(got->headers[2].value == "caf\xc3\xa9 \x01");
  CHECK(got->seq > 0);
  CHECK(got->source == "src");
  CHECK(got->type == "order.created");
  CHECK(got->status == "accepted");
  CHECK(got->http_status == 202);
  CHECK(got->dedupe_key == "key-1");
  CHECK(got->method == "PUT");
  CHECK(got->path == "/ingest/src");
  CHECK(got->remote_addr == "127.0.0.1");
  CHECK(got->reason == "a reason");
  CHECK(got->received_ms == 1234);

  // What an outbound envelope is built from, and nothing else.
  auto payload = store::get_event_payload(s, "evt_bytes");
  REQUIRE(payload);
  CHECK(payload->id == "evt_bytes");
  CHECK(payload->type == "order.created");
  CHECK(payload->received_ms == 1234);
  CHECK(payload->body == body);
  CHECK(payload->headers.empty());
  CHECK(payload->source.empty());

  // So does a listing with bodies; one without leaves them out.
  store::EventFilter with_body;
  with_body.with_body = true;
  auto listed = store::list_events(s, with_body);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().body == body);
  auto bare = store::list_events(s, {});
  REQUIRE(bare);
  REQUIRE(bare->size() == 1);
  CHECK(bare->front().body.empty());
  CHECK(bare->front().headers.empty());

  // An empty body is a body too (a GET, a ping).
  add(s, make_event("evt_empty", "src", "ping", 1, ""));
  auto empty = store::get_event(s, "evt_empty");
  REQUIRE(empty);
  CHECK(empty->body.empty());
}

TEST_CASE("store::get_event and get_event_payload say not_found for an unknown id", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto missing = store::get_event(s, "evt_nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);
  auto payload = store::get_event_payload(s, "evt_nope");
  REQUIRE_FALSE(payload);
  CHECK(payload.error().kind == ErrorKind::not_found);
}

TEST_CASE("store::insert_event keeps one accepted event per source and delivery id: repeats become duplicates",
          "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto first = make_event("evt_1", "stripe", "invoice.paid", 1);
  first.dedupe_key = "evt_stripe_1";
  REQUIRE(store::insert_event(s, first, true));
  CHECK(first.status == "accepted");

  auto repeat = make_event("evt_2", "stripe", "invoice.paid", 2);
  repeat.dedupe_key = "evt_stripe_1";
  REQUIRE(store::insert_event(s, repeat, true));
  // Updated in place, so the caller answers with the original.
  CHECK(repeat.status == "duplicate");
  CHECK(repeat.duplicate_of == "evt_1");
  CHECK(repeat.http_status == 200);
  CHECK_THAT(repeat.reason, Catch::Contains("evt_1") && Catch::Contains("evt_stripe_1"));
  auto stored = store::get_event(s, "evt_2");
  REQUIRE(stored);
  CHECK(stored->status == "duplicate");
  CHECK(stored->duplicate_of == "evt_1");

  auto again = make_event("evt_3", "stripe", "invoice.paid", 3);
  again.dedupe_key = "evt_stripe_1";
  REQUIRE(store::insert_event(s, again, true));
  CHECK(again.duplicate_of == "evt_1");  // always the original, never a duplicate of a duplicate

  // Per source; a rejected request does not claim the key; no key, no dedupe.
  auto elsewhere = make_event("evt_4", "github", "push", 4);
  elsewhere.dedupe_key = "evt_stripe_1";
  REQUIRE(store::insert_event(s, elsewhere, true));
  CHECK(elsewhere.status == "accepted");
  auto refused = make_event("evt_5", "shop", "x", 5, "{}", "rejected");
  refused.dedupe_key = "d-1";
  REQUIRE(store::insert_event(s, refused, true));
  auto after_refusal = make_event("evt_6", "shop", "x", 6);
  after_refusal.dedupe_key = "d-1";
  REQUIRE(store::insert_event(s, after_refusal, true));
  CHECK(after_refusal.status == "accepted");
  for (const char* id : {"evt_7", "evt_8"}) {
    auto keyless = make_event(id, "stripe", "invoice.paid", 7);
    REQUIRE(store::insert_event(s, keyless, true));
    CHECK(keyless.status == "accepted");
  }
  CHECK(scalar(s, "SELECT count(*) FROM events WHERE source = 'stripe' AND dedupe_key = 'evt_stripe_1' "
                  "AND status = 'accepted'") == 1);
  CHECK(scalar(s, "SELECT count(*) FROM events WHERE status = 'duplicate'") == 2);

  // Duplicates and refusals never wait for fan-out.
  auto pending = store::pending_events(s, 100, store::PendingBodies::records);
  REQUIRE(pending);
  std::vector<std::string> pending_ids;
  for (const auto& p : *pending) pending_ids.push_back(p.id);
  CHECK(pending_ids == Ids{"evt_1", "evt_4", "evt_6", "evt_7", "evt_8"});
}

// The same rules for a batch, which a listener stores with a statement per
// up to 64 events: each backend (PostgreSQL with a test server).
void check_batch_insert(store::Store& s)
{
  auto earlier = make_event("evt_0", "stripe", "invoice.paid", 1);
  earlier.dedupe_key = "d-0";
  REQUIRE(store::insert_event(s, earlier, true));
  // 100 events: a statement of 64 rows, then one of 36. In them: a repeat of
  // a stored one, a repeat within one statement and one across the two,
  // refusals, keyless ones, NUL bytes in a body.
  std::vector<store::Event> events;
  for (int i = 1; i <= 100; ++i) {
    auto e = make_event("evt_" + std::to_string(i), "stripe", "invoice.paid", 1 + i,
                        std::string("{\"n\":") + std::to_string(i) + std::string("}\0\xff", 3));
    if (i % 10 != 0) e.dedupe_key = "d-" + std::to_string(i);
    if (i % 7 == 0) e = make_event(e.id, "stripe", "x", 1 + i, "{}", "rejected");
    events.push_back(std::move(e));
  }
  events[4].dedupe_key = "d-0";   // evt_5 repeats the stored evt_0
  events[40].dedupe_key = "d-11";  // evt_41 repeats evt_11, in the same statement
  events[98].dedupe_key = "d-3";   // evt_99 repeats evt_3, of the statement before
  std::vector<store::Event*> batch;
  for (auto& e : events) batch.push_back(&e);
  REQUIRE(store::insert_events(s, batch, true));

  CHECK(scalar(s, "SELECT count(*) FROM events") == 101);
  CHECK(events[4].status == "duplicate");
  CHECK(events[4].duplicate_of == "evt_0");
  CHECK(events[98].status == "duplicate");
  CHECK(events[98].duplicate_of == "evt_3");
  CHECK(events[98].http_status == 200);
  CHECK(events[40].status == "duplicate");
  CHECK(events[40].duplicate_of == "evt_11");
  CHECK(scalar(s, "SELECT count(*) FROM events WHERE status = 'duplicate'") == 3);
  CHECK(scalar(s, "SELECT count(*) FROM events WHERE status = 'rejected'") == 14);
  for (int i : {1, 50, 64, 65, 97, 100}) {
    auto stored = store::get_event(s, "evt_" + std::to_string(i));
    REQUIRE(stored);
    CHECK(stored->body == events[static_cast<std::size_t>(i - 1)].body);
    CHECK(stored->status == events[static_cast<std::size_t>(i - 1)].status);
  }
  // Only accepted, not duplicate, events wait for fan-out, in order.
  auto pending = store::pending_events(s, 200, store::PendingBodies::records);
  REQUIRE(pending);
  REQUIRE(pending->size() == 1 + 100 - 14 - 3);
  CHECK(pending->at(0).id == "evt_0");
  CHECK(pending->at(1).id == "evt_1");
  CHECK(pending->back().id == "evt_100");
}

TEST_CASE("store::insert_events stores a batch as insert_event would each: repeats in it and before it, refusals",
          "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  check_batch_insert(s);
}

TEST_CASE("store::insert_events on PostgreSQL: the same", "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto s = store::Store::open(db.url());
  REQUIRE(s);
  check_batch_insert(*s);
}

TEST_CASE("store::insert_event refuses an id that is already stored instead of dropping either", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, make_event("evt_same", "src", "a", 1, "first"));
  auto plain = make_event("evt_same", "src", "b", 2, "second");
  auto r = store::insert_event(s, plain, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::store);
  // With a delivery id the insert may ignore a repeat: an id clash must still fail.
  auto keyed = make_event("evt_same", "src", "c", 3, "third");
  keyed.dedupe_key = "k";
  auto k = store::insert_event(s, keyed, true);
  REQUIRE_FALSE(k);
  CHECK(k.error().kind == ErrorKind::store);
  auto kept = store::get_event(s, "evt_same");
  REQUIRE(kept);
  CHECK(kept->body == "first");
  CHECK(scalar(s, "SELECT count(*) FROM events") == 1);
}

TEST_CASE("store::list_events filters by source, type, status and time, newest first unless asked", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, make_event("evt_1", "stripe", "invoice.paid", 100));
  add(s, make_event("evt_2", "github", "push", 200));
  add(s, make_event("evt_3", "stripe", "invoice.payment_failed", 300, "{}", "rejected"));
  add(s, make_event("evt_4", "stripe", "customer.created", 400));
  add(s, make_event("evt_5", "github", "pull_request.opened", 500));
  add(s, make_event("evt_6", "stripe", "invoice.paid", 600));

  CHECK(list_ids(s, {}) == Ids{"evt_6", "evt_5", "evt_4", "evt_3", "evt_2", "evt_1"});
  store::EventFilter f;
  f.oldest_first = true;
  CHECK(list_ids(s, f) == Ids{"evt_1", "evt_2", "evt_3", "evt_4", "evt_5", "evt_6"});

  f = {};
  f.source = "stripe";
  CHECK(list_ids(s, f) == Ids{"evt_6", "evt_4", "evt_3", "evt_1"});
  f = {};
  f.type_glob = "invoice.paid";
  CHECK(list_ids(s, f) == Ids{"evt_6", "evt_1"});
  f.type_glob = "invoice.*";
  CHECK(list_ids(s, f) == Ids{"evt_6", "evt_3", "evt_1"});
  f.type_glob = "pus?";
  CHECK(list_ids(s, f) == Ids{"evt_2"});
  f.type_glob = "invoice";  // exact unless it has a wildcard
  CHECK(list_ids(s, f).empty());
  f = {};
  f.status = "rejected";
  CHECK(list_ids(s, f) == Ids{"evt_3"});
  // since is inclusive, until exclusive: consecutive windows never overlap.
  f = {};
  f.since_ms = 200;
  f.until_ms = 500;
  CHECK(list_ids(s, f) == Ids{"evt_4", "evt_3", "evt_2"});
  f = {};
  f.source = "stripe";
  f.type_glob = "invoice.*";
  f.status = "accepted";
  f.since_ms = 100;
  CHECK(list_ids(s, f) == Ids{"evt_6", "evt_1"});
}

TEST_CASE("store::list_events reads a bracket in a type as itself, as fan-out's globs do", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  // Types may hold '[' (sanitize_event_type keeps it); SQLite's GLOB would
  // read "a[1]" as "a" then one of "1", and list only a1.
  add(s, make_event("evt_1", "app", "a1", 100));
  add(s, make_event("evt_2", "app", "a[1]", 200));
  add(s, make_event("evt_3", "app", "a[1].done", 300));
  store::EventFilter f;
  f.type_glob = "a[1]";
  CHECK(list_ids(s, f) == Ids{"evt_2"});
  f.type_glob = "a[1].*";
  CHECK(list_ids(s, f) == Ids{"evt_3"});
  f.type_glob = "a[1]*";
  CHECK(list_ids(s, f) == Ids{"evt_3", "evt_2"});
}

TEST_CASE("store::list_events pages with limit and after_seq without skipping or repeating an event", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  for (int i = 1; i <= 7; ++i) add(s, make_event("evt_" + std::to_string(i), "src", "t", i));

  store::EventFilter f;
  f.limit = 3;
  CHECK(list_ids(s, f) == Ids{"evt_7", "evt_6", "evt_5"});
  f.limit = 0;  // no limit
  CHECK(list_ids(s, f).size() == 7);
  f.limit = -1;
  CHECK(list_ids(s, f).size() == 7);

  // A follower reads oldest first, a page at a time, from its cursor.
  f = {};
  f.oldest_first = true;
  f.limit = 3;
  Ids seen;
  for (int page = 0; page < 10; ++page) {
    auto events = store::list_events(s, f);
    REQUIRE(events);
    if (events->empty()) break;
    for (const auto& e : *events) seen.push_back(e.id);
    f.after_seq = events->back().seq;
  }
  CHECK(seen == Ids{"evt_1", "evt_2", "evt_3", "evt_4", "evt_5", "evt_6", "evt_7"});
  add(s, make_event("evt_8", "src", "t", 8));
  CHECK(list_ids(s, f) == Ids{"evt_8"});
}

TEST_CASE("store::read_events: a content query counts matches toward the limit and reports how far it read",
          "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add(s, make_event("evt_1", "src", "t", 1, R"({"hit":true})"));
  for (int i = 2; i <= 5; ++i) add(s, make_event("evt_" + std::to_string(i), "src", "t", i, R"({"hit":false})"));
  add(s, make_event("evt_6", "src", "t", 6, R"({"hit":true})"));
  add(s, make_event("evt_7", "src", "t", 7, R"({"hit":false})"));

  store::EventFilter f;
  f.oldest_first = true;
  f.limit = 1;
  std::vector<std::string> bodies_seen;
  f.body_match = [&](std::string_view body) {
    bodies_seen.emplace_back(body);
    return body.find("true") != std::string_view::npos;
  };
  auto first = store::read_events(s, f);
  REQUIRE(first);
  CHECK(ids_of(first->events) == Ids{"evt_1"});
  CHECK(first->events[0].body.empty());  // not asked for with_body

  // The next page reads past four refused rows to the next match, and
  // says it read that far.
  f.after_seq = first->last_seq;
  auto second = store::read_events(s, f);
  REQUIRE(second);
  CHECK(ids_of(second->events) == Ids{"evt_6"});
  CHECK(second->last_seq == second->events[0].seq);

  // Nothing more matches: the cursor still moves to the last row read.
  f.after_seq = second->last_seq;
  auto rest = store::read_events(s, f);
  REQUIRE(rest);
  CHECK(rest->events.empty());
  auto last = store::get_event(s, "evt_7");
  REQUIRE(last);
  CHECK(rest->last_seq == last->seq);

  f = {};
  f.limit = 0;
  f.with_body = true;
  f.body_match = [](std::string_view body) { return body.find("true") != std::string_view::npos; };
  auto all = store::read_events(s, f);
  REQUIRE(all);
  CHECK(ids_of(all->events) == Ids{"evt_6", "evt_1"});
  CHECK(all->events[0].body == R"({"hit":true})");
}

TEST_CASE("store::import_event keeps the id, skips one already here, and keeps dedupe true", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto original = make_event("evt_orig", "stripe", "invoice.paid", 1);
  original.dedupe_key = "evt_s_1";
  add(s, original);

  auto other = make_event("evt_imported", "stripe", "invoice.paid", 2, std::string("\x00\x01", 2));
  auto imported = store::import_event(s, other);
  REQUIRE(imported);
  CHECK(*imported);
  auto again = store::import_event(s, other);
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto got = store::get_event(s, "evt_imported");
  REQUIRE(got);
  CHECK(got->body == std::string("\x00\x01", 2));

  auto repeat = make_event("evt_repeat", "stripe", "invoice.paid", 3);
  repeat.dedupe_key = "evt_s_1";
  auto r = store::import_event(s, repeat);
  REQUIRE(r);
  CHECK(*r);
  auto dup = store::get_event(s, "evt_repeat");
  REQUIRE(dup);
  CHECK(dup->status == "duplicate");
  CHECK(dup->duplicate_of == "evt_orig");
  // Imports are history: they are not fanned out again.
  auto pending = store::pending_events(s, 10, store::PendingBodies::records);
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  CHECK(pending->front().id == "evt_orig");
}

TEST_CASE("store::prune_events deletes matching events with their work, but never one still in use", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  store::Trigger t;
  t.name = "on-old";
  t.kind = "event";
  t.command = "true";
  t.events = "old.*";
  REQUIRE(store::add_trigger(s, t));
  // Fanned out: old.done gets a run, then that run ends.
  add(s, make_event("evt_done", "src", "old.done", 100));
  add(s, make_event("evt_refused", "src", "old.refused", 100, "{}", "rejected"));
  REQUIRE(dispatch::fan_out_pending(s, 100, 1000));
  s.exec("UPDATE runs SET status = 'completed' WHERE event_id = 'evt_done'");
  // Old, but its run is still queued.
  add(s, make_event("evt_run_open", "src", "old.open", 100));
  REQUIRE(dispatch::fan_out_pending(s, 100, 1000));
  // Old, with a pending delivery, and one settled delivery with an attempt.
  add(s, make_event("evt_delivering", "src", "keep.me", 100), false);
  add(s, make_event("evt_delivered", "src", "keep.me", 100), false);
  for (const auto& [id, event, status] : {std::tuple{"dlv_p", "evt_delivering", "pending"},
                                          std::tuple{"dlv_s", "evt_delivered", "succeeded"}}) {
    store::Delivery d;
    d.id = id;
    d.kind = "forward";
    d.event_id = event;
    d.event_type = "keep.me";
    d.url = "http://127.0.0.1:9/";
    d.status = status;
    if (std::string(status) == "pending") d.next_attempt_ms = 1;
    REQUIRE(store::insert_delivery(s, d));
  }
  store::Attempt a;
  a.id = "att_1";
  a.delivery_id = "dlv_s";
  a.trigger = "scheduled";
  a.url = "http://127.0.0.1:9/";
  a.response_status = 200;
  a.started_ms = 2;
  store::DeliveryUpdate u;
  u.status = "succeeded";
  u.last_status = 200;
  REQUIRE(store::record_attempt(s, a, u));
  REQUIRE(dispatch::fan_out_pending(s, 100, 1000));  // the cursor passes them (no route takes keep.me)
  // Old, but not fanned out yet.
  add(s, make_event("evt_waiting", "src", "old.waiting", 100));
  // New.
  add(s, make_event("evt_new", "src", "old.done", 5000));

  store::EventFilter old;
  old.until_ms = 1000;
  old.limit = 1;  // ignored by prune
  auto dry = store::prune_events(s, old, true);
  REQUIRE(dry);
  CHECK(dry->events == 3);  // evt_done, evt_refused, evt_delivered
  CHECK(dry->kept == 3);    // evt_run_open, evt_delivering, evt_waiting
  CHECK(dry->deliveries == 1);
  CHECK(dry->runs == 1);
  CHECK(scalar(s, "SELECT count(*) FROM events") == 7);  // a dry run deletes nothing

  auto done = store::prune_events(s, old, false);
  REQUIRE(done);
  CHECK(done->events == 3);
  CHECK(done->kept == 3);
  store::EventFilter everything;
  everything.limit = 0;
  everything.oldest_first = true;
  CHECK(list_ids(s, everything) == Ids{"evt_run_open", "evt_delivering", "evt_waiting", "evt_new"});
  CHECK(scalar(s, "SELECT count(*) FROM deliveries") == 1);
  CHECK(scalar(s, "SELECT count(*) FROM attempts") == 0);
  CHECK(scalar(s, "SELECT count(*) FROM runs WHERE event_id = 'evt_done'") == 0);
  CHECK(scalar(s, "SELECT count(*) FROM runs WHERE event_id = 'evt_run_open'") == 1);
  // What still waits for fan-out is fanned out as if nothing happened.
  auto pending = store::pending_events(s, 10, store::PendingBodies::records);
  REQUIRE(pending);
  REQUIRE(pending->size() == 2);
  CHECK(pending->at(0).id == "evt_waiting");
}

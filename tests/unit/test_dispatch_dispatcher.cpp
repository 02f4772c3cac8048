// The dispatcher (dispatch/dispatcher.hpp) on a real store and group
// committer: which events become which deliveries and runs, that each event
// is fanned out once however often or by however many it is drained, that
// operational centrali.* events reach only globs that name them, and that
// a failing store leaves the events waiting rather than lost.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "centrali/dispatch/dispatcher.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "scratch_postgres.hpp"
#include "temp_store.hpp"

using namespace centrali;
namespace fs = std::filesystem;

namespace {

// A writer on the store at `path`, as one process has.
std::unique_ptr<store::GroupCommitter> writer_on(const fs::path& path)
{
  auto s = store::Store::open(path);
  REQUIRE(s);
  return std::make_unique<store::GroupCommitter>(std::move(*s));
}

void add_webhook(store::Store& s, const std::string& id, const std::string& events)
{
  store::Webhook w;
  w.id = id;
  w.name = id;
  w.url = "http://127.0.0.1:9/" + id;
  w.events = events;
  w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  REQUIRE(store::insert_webhook(s, w));
}

void add_trigger(store::Store& s, const std::string& name, const std::string& events, const std::string& source = "")
{
  store::Trigger t;
  t.name = name;
  t.kind = "event";
  t.command = "true";
  t.events = events;
  t.source = source;
  REQUIRE(store::add_trigger(s, t));
}

// An event as it is stored on arrival (accepted ones wait for fan-out).
void add_event(store::Store& s, const std::string& id, const std::string& type, const std::string& source = "stripe",
               const std::string& status = "accepted", const std::string& dedupe_key = "")
{
  store::Event e;
  e.id = id;
  e.source = source;
  e.type = type;
  e.status = status;
  e.dedupe_key = dedupe_key;
  e.body = R"({"n":1})";
  e.received_ms = 1;
  REQUIRE(store::insert_event(s, e, true));
}

std::string column(store::Store& s, const std::string& sql)
{
  store::Statement st(s, sql);
  return st.step() ? st.column(0).as_string() : std::string();
}

std::int64_t scalar(store::Store& s, const std::string& sql)
{
  return s.query_int64(sql);
}

// "event>target" for every delivery (target: webhook) or run (target: trigger), sorted.
std::string deliveries(store::Store& s, const std::string& status = "pending")
{
  return column(s, "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT event_id || '>' || webhook_id AS x "
                   "FROM deliveries WHERE status = '" + status + "' ORDER BY x)");
}
std::string runs(store::Store& s)
{
  return column(s, "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT event_id || '>' || trigger AS x "
                   "FROM runs ORDER BY x)");
}

struct HookCounts {
  std::atomic<int> deliveries_queued{0}, runs_queued{0}, skipped{0};
};

dispatch::DispatcherHooks counting(HookCounts& c)
{
  dispatch::DispatcherHooks h;
  h.deliveries_queued = [&c] { ++c.deliveries_queued; };
  h.runs_queued = [&c] { ++c.runs_queued; };
  h.deliveries_skipped = [&c](int n) { c.skipped += n; };
  return h;
}

// Polls `done` until it holds, for at most 10 s (fails the test then).
template <class Fn>
void wait_for(Fn done)
{
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

} // namespace

TEST_CASE("dispatch::Dispatcher::drain makes a delivery per matching webhook, a skipped one per disabled webhook, "
          "and a run per matching unpaused trigger",
          "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_orders", "order.*");
  add_webhook(s, "whk_all", "*");
  add_webhook(s, "whk_off", "order.*");
  REQUIRE(store::disable_webhook(s, "whk_off", "HTTP 410", 1));
  add_trigger(s, "t_orders", "order.*");
  add_trigger(s, "t_stripe", "*", "stripe");
  add_trigger(s, "t_paused", "*");
  REQUIRE(store::pause_trigger(s, "t_paused"));

  add_event(s, "e1", "order.created", "stripe", "accepted", "k1");
  add_event(s, "e2", "customer.created", "github");
  add_event(s, "e3", "order.created", "stripe", "rejected");
  add_event(s, "e4", "order.created", "stripe", "accepted", "k1");  // stored as a duplicate of e1
  add_event(s, "e5", "record_created", "local");

  auto writer = writer_on(s.path());
  HookCounts hooks;
  dispatch::Dispatcher dispatcher(*writer, s.path(), counting(hooks));
  auto out = dispatcher.drain();
  REQUIRE(out);
  CHECK(out->events == 3);
  CHECK(out->deliveries == 4);
  CHECK(out->skipped == 1);
  CHECK(out->runs == 2);

  CHECK(deliveries(s) == "e1>whk_all e1>whk_orders e2>whk_all e5>whk_all");
  // A disabled webhook loses nothing: what it would take is kept, skipped, with the reason.
  CHECK(deliveries(s, "skipped") == "e1>whk_off");
  CHECK(column(s, "SELECT last_error FROM deliveries WHERE status = 'skipped'") == "webhook disabled: HTTP 410");
  CHECK(runs(s) == "e1>t_orders e1>t_stripe");
  CHECK(scalar(s, "SELECT count(*) FROM runs WHERE status = 'queued' AND origin = 'event'") == 2);
  // Due now, for any sender to claim.
  CHECK(scalar(s, "SELECT count(*) FROM deliveries WHERE status = 'pending' AND next_attempt_ms IS NOT NULL "
                  "AND lease_until_ms IS NULL") == 4);

  // Whoever has new work is woken; a skipped delivery is reported.
  CHECK(hooks.deliveries_queued >= 1);
  CHECK(hooks.runs_queued >= 1);
  CHECK(hooks.skipped == 1);
}

TEST_CASE("dispatch::Dispatcher::drain fans each event out once, however often it runs", "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_all", "*");
  add_trigger(s, "t_all", "*");
  add_event(s, "e1", "a");
  add_event(s, "e2", "b");
  auto writer = writer_on(s.path());
  HookCounts hooks;
  dispatch::Dispatcher dispatcher(*writer, s.path(), counting(hooks));

  auto first = dispatcher.drain();
  REQUIRE(first);
  CHECK(first->events == 2);
  auto second = dispatcher.drain();
  REQUIRE(second);
  CHECK(second->events == 0);
  CHECK(second->deliveries == 0);
  CHECK(second->runs == 0);
  CHECK(deliveries(s) == "e1>whk_all e2>whk_all");
  CHECK(runs(s) == "e1>t_all e2>t_all");
  auto pending = store::has_pending_events(s);
  REQUIRE(pending);
  CHECK_FALSE(*pending);
  const int woken = hooks.deliveries_queued;
  CHECK(woken == 1);  // an idle drain wakes nobody

  add_event(s, "e3", "c");
  auto third = dispatcher.drain();
  REQUIRE(third);
  CHECK(third->events == 1);
  CHECK(deliveries(s) == "e1>whk_all e2>whk_all e3>whk_all");
  CHECK(runs(s) == "e1>t_all e2>t_all e3>t_all");
}

TEST_CASE("dispatch::Dispatcher::drain empties a backlog larger than one batch in one call", "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_all", "*");
  constexpr int k_events = 700;  // batches of 256: two full, one short
  REQUIRE(store::write_transaction(s, [&]() -> Result<void> {
    for (int i = 0; i < k_events; ++i) add_event(s, "e" + std::to_string(i), "t");
    return {};
  }));
  auto writer = writer_on(s.path());
  dispatch::Dispatcher dispatcher(*writer, s.path(), {});
  auto out = dispatcher.drain();
  REQUIRE(out);
  CHECK(out->events == k_events);
  CHECK(out->deliveries == k_events);
  CHECK(scalar(s, "SELECT count(DISTINCT event_id) FROM deliveries") == k_events);
  auto pending = store::has_pending_events(s);
  REQUIRE(pending);
  CHECK_FALSE(*pending);
}

TEST_CASE("dispatch: operational centrali.* events reach only globs that name them, never '*'", "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_star", "*");
  add_webhook(s, "whk_ops", "centrali.*");
  add_webhook(s, "whk_disabled_only", "centrali.webhook.disabled");
  add_webhook(s, "whk_mixed", "order.*,centrali.delivery.*");
  add_webhook(s, "whk_q", "?entrali.*");  // does not start with centrali.: does not name them
  add_trigger(s, "t_star", "*");
  add_trigger(s, "t_ops", "centrali.*");
  add_event(s, "op1", "centrali.webhook.disabled", "local");
  add_event(s, "op2", "centrali.delivery.exhausted", "local");
  add_event(s, "app", "order.created", "local");

  auto writer = writer_on(s.path());
  dispatch::Dispatcher dispatcher(*writer, s.path(), {});
  REQUIRE(dispatcher.drain());
  CHECK(deliveries(s) == "app>whk_mixed app>whk_star "
                         "op1>whk_disabled_only op1>whk_ops "
                         "op2>whk_mixed op2>whk_ops");
  CHECK(runs(s) == "app>t_star op1>t_ops op2>t_ops");
}

TEST_CASE("dispatch::Dispatcher hands what it makes to an in-process sender leased, and wakes no one for those",
          "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_mine", "*");
  add_webhook(s, "whk_theirs", "*");
  add_event(s, "e1", "a");
  add_event(s, "e2", "b");

  auto writer = writer_on(s.path());
  HookCounts hooks;
  auto h = counting(hooks);
  std::vector<store::LeasedDelivery> taken;
  int takes = 0;
  bool accept_all = false;
  const std::string mine = "http://127.0.0.1:9/whk_mine";
  h.hand_off.lease = [&](store::Store&, std::int64_t now_ms) {
    return store::FanOutLease{now_ms + 60'000, [&](const std::string& url) { return accept_all || url == mine; },
                              1 << 20};
  };
  h.hand_off.take = [&](std::vector<store::LeasedDelivery> leased) {
    ++takes;
    for (auto& l : leased) taken.push_back(std::move(l));
  };
  dispatch::Dispatcher dispatcher(*writer, s.path(), h);
  auto out = dispatcher.drain();
  REQUIRE(out);
  REQUIRE(taken.size() == 2);
  for (const auto& l : taken) {
    CHECK(l.delivery.url == mine);
    CHECK(l.delivery.lease_until_ms > 0);
    REQUIRE(l.payload);
    CHECK(l.payload->body == R"({"n":1})");
  }
  // The others are due for anyone, and the sender is woken for them.
  CHECK(hooks.deliveries_queued == 1);
  auto due = store::claim_due_deliveries(s, taken[0].delivery.lease_until_ms - 1, 10, 60'000);
  REQUIRE(due);
  REQUIRE(due->size() == 2);
  for (const auto& d : *due) CHECK(d.webhook_id == "whk_theirs");

  // When the sender takes everything made, nobody else needs waking.
  accept_all = true;
  add_event(s, "e3", "c");
  REQUIRE(dispatcher.drain());
  CHECK(taken.size() == 4);
  CHECK(hooks.deliveries_queued == 1);
  CHECK(takes >= 2);
}

TEST_CASE("dispatch::Dispatcher::drain reports a failing store, hands nothing over, and leaves the events waiting",
          "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_all", "*");
  add_event(s, "e1", "a");
  s.exec("CREATE TRIGGER refuse BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'simulated'); END");

  auto writer = writer_on(s.path());
  HookCounts hooks;
  auto h = counting(hooks);
  std::vector<std::size_t> handed;
  h.hand_off.lease = [](store::Store&, std::int64_t now_ms) {
    return store::FanOutLease{now_ms + 60'000, [](const std::string&) { return true; }, 0};
  };
  h.hand_off.take = [&](std::vector<store::LeasedDelivery> leased) { handed.push_back(leased.size()); };
  dispatch::Dispatcher dispatcher(*writer, s.path(), h);
  auto failed = dispatcher.drain();
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == ErrorKind::store);
  CHECK(handed == std::vector<std::size_t>{0});  // the take always hears, and gets nothing
  CHECK(hooks.deliveries_queued == 0);
  auto pending = store::has_pending_events(s);
  REQUIRE(pending);
  CHECK(*pending);
  CHECK(scalar(s, "SELECT count(*) FROM deliveries") == 0);

  s.exec("DROP TRIGGER refuse");
  auto retried = dispatcher.drain();
  REQUIRE(retried);
  CHECK(retried->events == 1);
  CHECK(deliveries(s) == "e1>whk_all");
}

TEST_CASE("dispatch::Dispatcher's thread fans out when woken, without waiting for its poll", "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_all", "*");
  auto writer = writer_on(s.path());
  HookCounts hooks;
  // A poll far longer than the test's bound: only wake() can explain a fan-out.
  dispatch::Dispatcher dispatcher(*writer, s.path(), counting(hooks), std::chrono::hours(1));
  dispatcher.start();
  for (int i = 1; i <= 3; ++i) {
    add_event(s, "e" + std::to_string(i), "t");
    dispatcher.wake();
    wait_for([&] { return scalar(s, "SELECT count(*) FROM deliveries") == i; });
    wait_for([&] { return hooks.deliveries_queued == i; });
  }
  dispatcher.stop();  // returns at once, though the poll is an hour
  CHECK(deliveries(s) == "e1>whk_all e2>whk_all e3>whk_all");
}

TEST_CASE("dispatch: two dispatchers on one store (two processes) fan each event out exactly once", "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_webhook(s, "whk_all", "*");
  add_trigger(s, "t_all", "*");
  constexpr int k_events = 600;
  auto writer_a = writer_on(s.path());
  auto writer_b = writer_on(s.path());
  dispatch::Dispatcher a(*writer_a, s.path(), {});
  dispatch::Dispatcher b(*writer_b, s.path(), {});
  // Both drain while events keep arriving.
  std::atomic<bool> arriving{true};
  std::atomic<int> failures{0}, fanned{0};
  auto drainer = [&](dispatch::Dispatcher& d) {
    while (true) {
      const bool last = !arriving;
      auto r = d.drain();
      if (!r) ++failures;
      else fanned += r->events;
      if (last) return;
    }
  };
  std::thread ta(drainer, std::ref(a)), tb(drainer, std::ref(b));
  for (int i = 0; i < k_events; i += 50) {
    REQUIRE(store::write_transaction(s, [&]() -> Result<void> {
      for (int j = i; j < i + 50; ++j) add_event(s, "e" + std::to_string(j), "t");
      return {};
    }));
  }
  arriving = false;
  ta.join();
  tb.join();
  CHECK(failures == 0);
  CHECK(fanned == k_events);
  CHECK(scalar(s, "SELECT count(*) FROM deliveries") == k_events);
  CHECK(scalar(s, "SELECT count(DISTINCT event_id) FROM deliveries") == k_events);
  CHECK(scalar(s, "SELECT count(*) FROM runs") == k_events);
  CHECK(scalar(s, "SELECT count(DISTINCT event_id) FROM runs") == k_events);
}

TEST_CASE("dispatch::Dispatcher::drain with nothing to route passes events, and once a webhook comes it routes what "
          "arrives after",
          "[dispatch]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  add_event(s, "e1", "a");
  auto writer = writer_on(s.path());
  HookCounts hooks;
  dispatch::Dispatcher dispatcher(*writer, s.path(), counting(hooks));
  // Nothing to route to: passed, twice (the second pass beside ingestion).
  for (int pass = 0; pass < 2; ++pass) {
    auto out = dispatcher.drain();
    REQUIRE(out);
    CHECK(out->deliveries == 0);
  }
  add_event(s, "e2", "b");
  REQUIRE(dispatcher.drain());
  auto pending = store::has_pending_events(s);
  REQUIRE(pending);
  CHECK_FALSE(*pending);

  // A webhook now: the next drain finds something to route and routes it,
  // in the same call, with the whole lock.
  add_webhook(s, "whk_all", "*");
  add_event(s, "e3", "c");
  auto out = dispatcher.drain();
  REQUIRE(out);
  CHECK(out->events == 1);
  CHECK(out->deliveries == 1);
  CHECK(deliveries(s) == "e3>whk_all");
}

TEST_CASE("dispatch::Dispatcher::drain on PostgreSQL: a pass with nothing to route runs beside a listener's open "
          "ingestion, a pass that routes waits for it",
          "[dispatch][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto opened = store::Store::open(db.url());
  REQUIRE(opened);
  auto& s = *opened;
  add_event(s, "e1", "a");
  auto writer_store = store::Store::open(db.url());
  REQUIRE(writer_store);
  store::GroupCommitter writer(std::move(*writer_store), 512, std::chrono::milliseconds(300));
  HookCounts hooks;
  dispatch::Dispatcher dispatcher(writer, db.url(), counting(hooks));
  REQUIRE(dispatcher.drain());  // learns there is nothing to route

  // Another listener is inserting an event: its transaction holds the write lock shared.
  auto other = store::Store::open(db.url());
  REQUIRE(other);
  other->connection().begin_write(store::WriteLock::shared);
  add_event(*other, "e2", "b");
  CHECK(dispatcher.drain());  // beside it, without waiting
  s.connection().begin_write(store::WriteLock::shared);  // (a write of its own would wait for the other)
  add_webhook(s, "whk_all", "*");
  s.exec("COMMIT");
  auto routed = dispatcher.drain();  // must see every event committed: waits, and gives up at 300 ms
  REQUIRE_FALSE(routed);
  CHECK(routed.error().fault == StoreFault::locked);
  other->exec("COMMIT");
  routed = dispatcher.drain();
  REQUIRE(routed);
  CHECK(routed->deliveries == 1);  // e2, committed now
}

// Several senders on one PostgreSQL store: claims and attempt records take
// the write lock shared there (store/connection.hpp), so two processes'
// transactions run at once. These cases hold one open while the other runs,
// as two `dispatch` processes would, and check that what a sender relies on
// still holds: no delivery claimed twice, attempts of one delivery numbered
// one after the other, a failure streak ended (and said to end) once, the
// leases of a sender that is gone (deliveries, runs, automation runs) freed
// by the others, and only those.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "centrali/store/automations.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/store/sender_lock.hpp"
#include "centrali/store/store.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "pending_delivery.hpp"
#include "scratch_postgres.hpp"

using namespace centrali;
using namespace std::chrono_literals;

namespace {

// A sender's session: its own connection, as another process would have.
store::Store open_sender(const testing::ScratchDatabase& db)
{
  auto s = store::Store::open(db.url(), {store::Durability::normal});
  REQUIRE(s);
  return std::move(*s);
}

// A forward delivery due at 100 ms; its row's seq.
std::int64_t add_delivery(store::Store& s, const std::string& id)
{
  std::int64_t seq = 0;
  REQUIRE(store::insert_delivery(s, testing::pending_delivery(id, 100), &seq));
  return seq;
}

void begin_shared(store::Store& s) { s.connection().begin_write(store::WriteLock::shared); }

} // namespace

TEST_CASE("store on PostgreSQL: senders claiming at once take different deliveries, and every one is claimed once",
          "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto a = open_sender(db);
  auto b = open_sender(db);
  // More than any claim looks ahead (its candidates stay locked until it commits).
  constexpr int k_deliveries = 2000;
  a.exec("BEGIN");
  for (int i = 0; i < k_deliveries; ++i) add_delivery(a, "dlv_" + std::to_string(i));
  a.exec("COMMIT");

  begin_shared(a);
  auto first = store::claim_due_deliveries(a, 1'000, 50, 60'000);
  REQUIRE(first);
  CHECK(first->size() == 50);
  // While the first claim is open: the second neither waits for it nor takes what it holds.
  begin_shared(b);
  auto second = store::claim_due_deliveries(b, 1'000, 50, 60'000);
  REQUIRE(second);
  CHECK(second->size() == 50);
  a.exec("COMMIT");
  b.exec("COMMIT");

  std::set<std::string> claimed;
  for (const auto* batch : {&*first, &*second})
    for (const auto& d : *batch) CHECK(claimed.insert(d.id).second);
  // The rest, by both in turn: each delivery once, none left.
  for (bool from_a = true;; from_a = !from_a) {
    auto& s = from_a ? a : b;
    begin_shared(s);
    auto more = store::claim_due_deliveries(s, 1'000, 300, 60'000);
    s.exec("COMMIT");
    REQUIRE(more);
    if (more->empty()) break;
    for (const auto& d : *more) CHECK(claimed.insert(d.id).second);
  }
  CHECK(claimed.size() == static_cast<std::size_t>(k_deliveries));
}

TEST_CASE("store on PostgreSQL: attempts of one delivery recorded at once by two senders are numbered 1 and 2",
          "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto a = open_sender(db);
  auto b = open_sender(db);
  const auto seq = add_delivery(a, "dlv_1");
  // Both read the row before either attempt: each saw none recorded.
  auto attempt = [&](const std::string& id) {
    store::Attempt at;
    at.id = id;
    at.delivery_id = "dlv_1";
    at.trigger = id == "att_a" ? "scheduled" : "resend";
    at.url = "http://127.0.0.1:9/app";
    at.response_status = 500;
    at.started_ms = 2'000;
    return at;
  };
  store::DeliveryUpdate update;
  update.seq = seq;
  update.attempts_seen = 0;
  update.status = "pending";
  update.next_attempt_ms = 10'000;
  update.last_status = 500;

  begin_shared(a);
  auto number_a = store::record_attempt(a, attempt("att_a"), update);
  REQUIRE(number_a);
  CHECK(*number_a == 1);
  auto racing = std::async(std::launch::async, [&] {
    begin_shared(b);
    auto n = store::record_attempt(b, attempt("att_b"), update);
    b.exec("COMMIT");
    return n;
  });
  // It waits for the row the first holds, not for the write lock.
  CHECK(racing.wait_for(300ms) == std::future_status::timeout);
  a.exec("COMMIT");
  REQUIRE(racing.wait_for(10s) == std::future_status::ready);
  auto number_b = racing.get();
  REQUIRE(number_b);
  CHECK(*number_b == 2);

  auto delivery = store::get_delivery(a, "dlv_1");
  REQUIRE(delivery);
  CHECK(delivery->attempt_count == 2);
  auto attempts = store::list_attempts(a, "dlv_1");
  REQUIRE(attempts);
  std::multiset<int> numbers;
  for (const auto& at : *attempts) numbers.insert(at.number);
  CHECK(numbers == std::multiset<int>{1, 2});
}

TEST_CASE("store on PostgreSQL: a failure streak two senders end at once is said to end once", "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto a = open_sender(db);
  auto b = open_sender(db);
  store::Webhook w;
  w.id = "whk_1";
  w.url = "http://127.0.0.1:9/hook";
  w.events = "*";
  w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  REQUIRE(store::insert_webhook(a, w));
  auto failed = store::note_webhook_health(a, "whk_1", false, 1'000);
  REQUIRE(failed);
  CHECK(failed->failing_since == 1'000);

  // Both senders' attempts succeed; each reads the streak before either commits.
  begin_shared(a);
  auto health_a = store::note_webhook_health(a, "whk_1", true, 2'000);
  REQUIRE(health_a);
  CHECK(health_a->recovered_from == 1'000);
  auto racing = std::async(std::launch::async, [&] {
    begin_shared(b);
    auto h = store::note_webhook_health(b, "whk_1", true, 2'000);
    b.exec("COMMIT");
    return h;
  });
  CHECK(racing.wait_for(300ms) == std::future_status::timeout);
  a.exec("COMMIT");
  REQUIRE(racing.wait_for(10s) == std::future_status::ready);
  auto health_b = racing.get();
  REQUIRE(health_b);
  CHECK_FALSE(health_b->recovered_from);  // one webhook.recovered event, not two
  auto after = store::get_webhook(a, "whk_1");
  REQUIRE(after);
  CHECK_FALSE(after->failing_since_ms);
}

namespace {

// The ids of `claimed`, sorted.
std::set<std::string> ids_of(const std::vector<store::Delivery>& claimed)
{
  std::set<std::string> ids;
  for (const auto& d : claimed) ids.insert(d.id);
  return ids;
}

// A sender that has joined the store and lets others join, as a running
// `listen` or `dispatch` is; reset() ends its session, as its process's end would.
std::optional<store::SenderLock> join_sender(const testing::ScratchDatabase& db)
{
  auto joined = store::SenderLock::acquire(db.url());
  REQUIRE(joined);
  joined->share();
  return std::move(*joined);
}

// Looks at the senders from `lock` until `senders` run (the server drops a
// session's locks a moment after it ends); true when any look saw one leave.
bool look_until(store::SenderLock& lock, int senders)
{
  bool someone_left = false;
  for (int i = 0; i < 500; ++i) {
    const auto seen = lock.look();
    someone_left = someone_left || seen.someone_left;
    if (seen.senders == senders) break;
    std::this_thread::sleep_for(10ms);
  }
  return someone_left;
}

} // namespace

TEST_CASE("store on PostgreSQL: a sender that is gone loses its leases at once, while the leases of those running "
          "stay",
          "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto s = open_sender(db);
  for (int i = 0; i < 10; ++i) add_delivery(s, "dlv_" + std::to_string(i));

  auto a = join_sender(db);
  auto b = join_sender(db);
  CHECK_FALSE(b->alone());
  CHECK(a->owner() != 0);
  CHECK(a->owner() != b->owner());
  CHECK(b->look().senders == 2);

  const auto by_a = store::claim_due_deliveries(s, 1'000, 4, store::ClaimLease{60'000, 60'000, a->owner()});
  const auto by_b = store::claim_due_deliveries(s, 1'000, 4, store::ClaimLease{60'000, 60'000, b->owner()});
  REQUIRE(by_a);
  REQUIRE(by_b);
  REQUIRE(by_a->size() == 4);
  REQUIRE(by_b->size() == 4);
  // Both running: nobody is seen to leave, and no lease is freed.
  CHECK_FALSE(b->look().someone_left);
  auto none = store::release_departed_senders_leases(s, 2'000);
  REQUIRE(none);
  CHECK(*none == 0);

  a.reset();  // its session ends, as with kill -9 of its process
  CHECK(look_until(*b, 1));
  auto freed = store::release_departed_senders_leases(s, 2'000);
  REQUIRE(freed);
  CHECK(*freed == 4);
  // Due at once: a's four and the two nobody claimed; b's stay leased.
  auto again = store::claim_due_deliveries(s, 2'000, 100, 60'000);
  REQUIRE(again);
  auto expected = ids_of(*by_a);
  expected.insert({"dlv_8", "dlv_9"});
  CHECK(ids_of(*again) == expected);
}

TEST_CASE("store on PostgreSQL: a sender whose session was lost joins again under its own name, its leases kept",
          "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto s = open_sender(db);
  add_delivery(s, "dlv_0");
  auto a = join_sender(db);
  const auto owner = a->owner();
  CHECK(a->look().senders == 1);
  REQUIRE(store::claim_due_deliveries(s, 1'000, 1, store::ClaimLease{60'000, 60'000, owner})->size() == 1);

  // The server ends the sender's session (a restart, a network cut).
  CHECK(s.query_int64("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
                      "AND objsubid = 2 AND objid::bigint = " + std::to_string(owner)) == 1);
  for (int i = 0; i < 500 && s.query_int64("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
                                           "AND objid::bigint = " + std::to_string(owner)) > 0; ++i)
    std::this_thread::sleep_for(10ms);
  // Its next look makes the session again and takes back its locks.
  const auto seen = a->look();
  CHECK(seen.senders == 1);
  CHECK_FALSE(seen.someone_left);
  CHECK(a->owner() == owner);
  // A sender starting now is not alone, and the lease is still the sender's.
  auto b = store::SenderLock::acquire(db.url());
  REQUIRE(b);
  CHECK_FALSE(b->alone());
  auto freed = store::release_departed_senders_leases(s, 2'000);
  REQUIRE(freed);
  CHECK(*freed == 0);
}

TEST_CASE("store on PostgreSQL: the runs of a process that is gone are interrupted at once, and its automation runs "
          "free to claim",
          "[store][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  testing::ScratchDatabase db;
  auto s = open_sender(db);
  store::Trigger t;
  t.name = "job";
  t.kind = "demand";
  t.command = "true";
  t.concurrency = 2;
  t.timeout_ms = 600'000;  // leases of ten minutes
  REQUIRE(store::add_trigger(s, t));
  for (const char* id : {"run_gone", "run_kept"}) {
    store::Run r;
    r.id = id;
    r.trigger = "job";
    r.status = "queued";
    r.origin = "demand";
    r.input = R"({"data":null})";
    r.queued_ms = 1;
    REQUIRE(store::insert_run(s, r));
  }
  for (const char* id : {"arun_gone", "arun_kept"}) {
    store::AutomationRun r;
    r.id = id;
    r.automation = "flow";
    r.definition = "{}";
    r.status = "running";
    r.origin = "demand";
    r.input = "{}";
    r.next_step = "first";
    r.due_ms = 1;
    r.created_ms = r.updated_ms = 1;
    REQUIRE(store::insert_automation_run(s, r));
  }
  auto a = join_sender(db);
  auto b = join_sender(db);
  CHECK(b->look().senders == 2);
  REQUIRE(store::claim_runs(s, 1'000, 1, a->owner())->front().run.id == "run_gone");
  REQUIRE(store::claim_runs(s, 1'000, 1, b->owner())->front().run.id == "run_kept");
  REQUIRE(store::claim_automation_runs(s, 1'000, 601'000, 1, a->owner())->front().run.id == "arun_gone");
  REQUIRE(store::claim_automation_runs(s, 1'000, 601'000, 1, b->owner())->front().run.id == "arun_kept");

  a.reset();
  CHECK(look_until(*b, 1));
  auto freed = store::release_departed_senders_leases(s, 2'000);
  REQUIRE(freed);
  CHECK(*freed == 2);
  auto gone = store::get_run(s, "run_gone");
  REQUIRE(gone);
  CHECK(gone->status == "failure");
  CHECK(gone->error == store::k_interrupted);
  CHECK(store::get_run(s, "run_kept")->status == "running");
  auto again = store::claim_automation_runs(s, 2'000, 602'000, 10, b->owner());
  REQUIRE(again);
  REQUIRE(again->size() == 1);
  CHECK(again->front().run.id == "arun_gone");
}

// The delivery worker against a real store and a real loopback endpoint:
// two workers on one store stand in for two processes (`listen` and a
// `dispatch` next to it), each with its own writer and connections.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>

#include "centrali/delivery/worker.hpp"
#include "centrali/dispatch/dispatcher.hpp"
#include "centrali/http/server.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/sender_lock.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/time.hpp"
#include "scratch_postgres.hpp"
#include "temp_store.hpp"

using namespace centrali;
using namespace std::chrono_literals;

namespace {

// An endpoint on loopback: centrali's own server, whose plain handlers run
// on its thread pool and may block, so a TSan build sees every thread.
class Receiver {
public:
  explicit Receiver(http::Server::Handler handler) : m_server(options())
  {
    m_server.route("/", std::move(handler));
    auto port = m_server.bind();
    REQUIRE(port);
    m_port = *port;
    m_thread = std::thread([this] { m_server.run(); });
  }
  ~Receiver() { stop(); }
  int port() const { return m_port; }
  void stop()
  {
    if (!m_thread.joinable()) return;
    m_server.stop();
    m_thread.join();
  }

private:
  static http::ServerOptions options()
  {
    http::ServerOptions o;
    o.port = 0;
    o.loops = 1;
    return o;
  }
  http::Server m_server;
  int m_port = 0;
  std::thread m_thread;
};

// A receiver that answers each request after 100 ms and counts how many
// were open at once: what a cap on the requests to one URL shows on.
class SlowReceiver {
public:
  SlowReceiver()
      : m_receiver([this](http::Request&, http::Response& res) {
          const int now = ++m_open;
          for (int seen = m_most_open; now > seen && !m_most_open.compare_exchange_weak(seen, now);) {
          }
          std::this_thread::sleep_for(100ms);
          --m_open;
          ++m_answered;
          res.status = 200;
          res.body = "{}";
        })
  {
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_receiver.port()) + "/slow"; }
  int open() const { return m_open; }
  int most_open() const { return m_most_open; }
  int answered() const { return m_answered; }
  void stop() { m_receiver.stop(); }

private:
  std::atomic<int> m_open{0};
  std::atomic<int> m_most_open{0};
  std::atomic<int> m_answered{0};
  Receiver m_receiver;  // last: stopped before the counts go
};

// A forward of a fresh event whose body is `body`, due now.
void add_forward(store::Store& s, const std::string& id, const std::string& url, const std::string& body)
{
  store::Event e;
  e.id = "evt_" + id;
  e.source = "src";
  e.type = "t";
  e.status = "accepted";
  e.path = "/ingest/src";
  e.body = body;
  e.received_ms = timeutil::now_ms();
  REQUIRE(store::insert_event(s, e, false));
  store::Delivery d;
  d.id = id;
  d.kind = "forward";
  d.event_id = e.id;
  d.event_type = e.type;
  d.url = url;
  d.status = "pending";
  d.next_attempt_ms = e.received_ms;
  d.created_ms = d.updated_ms = e.received_ms;
  REQUIRE(store::insert_delivery(s, d));
}

} // namespace

TEST_CASE("worker: deliveries queued past their lease are given back, never sent twice", "[delivery]")
{
  // One attempt at a time per worker, 150 ms each, and a lease of two
  // one-second rounds: a claim queues up to 16 deliveries, which take 2.4 s
  // to send one by one. Those whose turn comes too late to end before the
  // lease must go back to the store unsent, for either worker to claim
  // afresh. Sent anyway, the other worker would claim them once the lease
  // ended and the endpoint would receive them twice.
  std::mutex mutex;
  std::map<std::string, int> received;
  Receiver receiver([&](http::Request& req, http::Response& res) {
    {
      std::lock_guard lock(mutex);
      ++received[req.body];
    }
    std::this_thread::sleep_for(150ms);
    res.status = 200;
    res.body = "{}";
  });
  const auto url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/app";

  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  constexpr int n = 20;
  {
    auto s = unit::open_store(dir);
    for (int i = 0; i < n; ++i) add_forward(s, "dlv_" + std::to_string(i), url, "n=" + std::to_string(i));
  }

  delivery::WorkerOptions options;
  options.per_url = 1;
  options.forward_timeout = 1s;
  options.lease_rounds = 2;
  options.lease_slack = 0ms;
  options.lease_margin = 0ms;
  options.poll_interval = 20ms;
  auto open_writer = [&] {
    auto s = store::Store::open(path, {store::Durability::normal});
    REQUIRE(s);
    return std::make_unique<store::GroupCommitter>(std::move(*s));
  };
  auto writer_a = open_writer();
  auto writer_b = open_writer();
  delivery::Worker a(*writer_a, path, options, {});
  delivery::Worker b(*writer_b, path, options, {});
  a.start();
  b.start();

  auto reader = unit::open_store(dir);
  auto succeeded = [&] {
    store::DeliveryFilter filter;
    filter.status = "succeeded";
    filter.limit = n + 1;
    auto list = store::list_deliveries(reader, filter);
    REQUIRE(list);
    return static_cast<int>(list->size());
  };
  for (int i = 0; i < 300 && succeeded() < n; ++i) std::this_thread::sleep_for(50ms);
  a.stop();
  b.stop();
  receiver.stop();

  CHECK(succeeded() == n);
  std::lock_guard lock(mutex);
  CHECK(received.size() == static_cast<std::size_t>(n));
  for (const auto& [body, count] : received) {
    INFO(body);
    CHECK(count == 1);
  }
}

TEST_CASE("worker: wait_idle_after wakes the caller when the last delivery is recorded", "[delivery]")
{
  // `dispatch --until-idle` waits this way for the end of the work: it must
  // hear of it when it happens, not only when its wait runs out.
  Receiver receiver([](http::Request&, http::Response& res) {
    std::this_thread::sleep_for(100ms);
    res.status = 200;
  });

  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  {
    auto s = unit::open_store(dir);
    add_forward(s, "dlv_idle", "http://127.0.0.1:" + std::to_string(receiver.port()) + "/app", "{}");
  }
  auto s = store::Store::open(path, {store::Durability::normal});
  REQUIRE(s);
  store::GroupCommitter writer(std::move(*s));
  delivery::WorkerOptions options;
  options.poll_interval = 10ms;
  int reported = 0;
  delivery::Worker worker(writer, path, options, [&](const delivery::AttemptReport&) { ++reported; });
  const auto epoch = worker.idle_epoch();
  worker.start();
  CHECK(worker.wait_idle_after(epoch, 20s));  // true: woken, not timed out
  CHECK(worker.idle());
  CHECK(reported == 1);  // reported before the worker counts as idle
  // Nothing more to do: a further wait times out.
  CHECK_FALSE(worker.wait_idle_after(worker.idle_epoch(), 50ms));
  worker.stop();
  receiver.stop();
}

TEST_CASE("worker: deliveries the fan-out hands over are sent, and free again at once if it stops first", "[delivery]")
{
  // The fan-out in the worker's process leases fresh deliveries straight to
  // it (no claim). What the worker has not sent when it stops must be due
  // again at once for the next run, not held until its lease ends, and
  // nothing may be sent twice.
  std::mutex mutex;
  std::map<std::string, int> received;  // by webhook-id
  std::string a_body;
  Receiver receiver([&](http::Request& req, http::Response& res) {
    {
      std::lock_guard lock(mutex);
      const auto* id = find_header(req.headers, "webhook-id");
      ++received[id ? *id : ""];
      a_body = req.body;
    }
    std::this_thread::sleep_for(20ms);
    res.status = 204;
  });

  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  // More than the worker turns into jobs at once (16 rounds of one), so
  // some are still as handed over when it stops.
  constexpr int n = 40;
  {
    auto s = unit::open_store(dir);
    store::Webhook w;
    w.id = "whk_1";
    w.name = "app";
    w.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
    w.events = "order.*";
    w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    w.retry_schedule_ms = {30'000};
    REQUIRE(store::insert_webhook(s, w));
    for (int i = 0; i < n; ++i) {
      store::Event e;
      e.id = "evt_" + std::to_string(i);
      e.source = "local";
      e.type = "order.created";
      e.status = "accepted";
      e.body = "{}";
      e.received_ms = timeutil::now_ms();
      REQUIRE(store::insert_event(s, e, true));
    }
  }
  auto reader = unit::open_store(dir);
  auto count = [&](const std::string& where) {
    return static_cast<int>(reader.query_int64("SELECT count(*) FROM deliveries WHERE " + where));
  };
  auto sent = [&] {
    std::lock_guard lock(mutex);
    return static_cast<int>(received.size());
  };
  delivery::WorkerOptions options;
  options.per_url = 1;  // one at a time: most are still waiting when it stops
  options.poll_interval = 20ms;
  {
    auto s = store::Store::open(path, {store::Durability::normal});
    REQUIRE(s);
    store::GroupCommitter writer(std::move(*s));
    delivery::Worker worker(writer, path, options, {});
    dispatch::Dispatcher dispatcher(writer, path, {[&worker] { worker.wake(); }, {}, worker.hand_off(), {}});
    worker.start();
    dispatcher.start();
    for (int i = 0; i < 200 && sent() < 2; ++i) std::this_thread::sleep_for(10ms);
    dispatcher.stop();
    worker.stop();
  }
  const int first = count("status = 'succeeded'");
  CHECK(first >= 2);
  CHECK(first < n);
  CHECK(count("1") == n);
  // Every unsent one is due now, its lease given up.
  CHECK(count("status = 'pending' AND lease_until_ms IS NULL AND next_attempt_ms <= " +
              std::to_string(timeutil::now_ms())) == n - first);

  // The next run sends the rest, each once.
  {
    auto s = store::Store::open(path, {store::Durability::normal});
    REQUIRE(s);
    store::GroupCommitter writer(std::move(*s));
    delivery::Worker worker(writer, path, options, {});
    worker.start();
    for (int i = 0; i < 500 && count("status = 'succeeded'") < n; ++i) std::this_thread::sleep_for(10ms);
    worker.stop();
  }
  receiver.stop();
  CHECK(count("status = 'succeeded'") == n);
  std::lock_guard lock(mutex);
  // The envelope of the event (whose payload came with the hand-over).
  CHECK_THAT(a_body, Catch::StartsWith(R"({"type":"order.created","timestamp":)") && Catch::EndsWith(R"(,"data":{}})"));
  CHECK(received.size() == static_cast<std::size_t>(n));
  for (const auto& [id, times] : received) {
    INFO(id);
    CHECK(times == 1);
  }
}

TEST_CASE("worker: leases a dead sender left are freed at start, unless another sender runs on the store", "[delivery]")
{
  // A process killed with deliveries claimed leaves them leased for
  // minutes. The next sender frees them at once when it is the only one
  // (every lease then belongs to the dead); with another sender running
  // they may be that one's, and wait for their lease.
  std::atomic<int> received{0};
  Receiver receiver([&](http::Request&, http::Response& res) {
    ++received;
    res.status = 200;
  });

  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  {
    auto s = unit::open_store(dir);
    add_forward(s, "dlv_orphan", "http://127.0.0.1:" + std::to_string(receiver.port()) + "/app", "{}");
    // Claimed by a process that then died: leased for ten minutes.
    auto claimed = store::claim_due_deliveries(s, timeutil::now_ms(), 10, 600'000);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 1);
  }
  auto reader = unit::open_store(dir);
  auto leased = [&] {
    return static_cast<int>(reader.query_int64("SELECT count(*) FROM deliveries WHERE lease_until_ms IS NOT NULL"));
  };
  delivery::WorkerOptions options;
  options.poll_interval = 10ms;
  auto run_worker = [&](std::chrono::milliseconds for_at_most) {
    auto s = store::Store::open(path, {store::Durability::normal});
    REQUIRE(s);
    store::GroupCommitter writer(std::move(*s));
    delivery::Worker worker(writer, path, options, {});
    worker.start();
    const auto until = std::chrono::steady_clock::now() + for_at_most;
    while (received == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    worker.stop();
  };
  {
    // Another sender is running: the lease may be its own.
    auto other = store::SenderLock::acquire(path);
    REQUIRE(other);
    other->share();
    run_worker(300ms);
    CHECK(received == 0);
    CHECK(leased() == 1);
  }
  // Alone: the lease is freed and the delivery sent at once.
  run_worker(10s);
  CHECK(received == 1);
  CHECK(leased() == 0);
  receiver.stop();
}

TEST_CASE("worker: no URL holds more than per_url attempts at once, so a slow endpoint cannot take every connection",
          "[delivery]")
{
  // The endpoint answers slowly and counts requests open at once. With
  // connections enough for 8, the cap of 3 attempts per URL is what holds
  // them back: a slow or dead endpoint ties up no more than its share.
  SlowReceiver receiver;
  const auto url = receiver.url();

  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  constexpr int n = 24;
  {
    auto s = unit::open_store(dir);
    for (int i = 0; i < n; ++i) add_forward(s, "dlv_" + std::to_string(i), url, "n=" + std::to_string(i));
  }
  delivery::WorkerOptions options;
  options.per_url = 3;
  options.connections_per_origin = 8;
  options.poll_interval = 20ms;
  auto opened = store::Store::open(path, {store::Durability::normal});
  REQUIRE(opened);
  store::GroupCommitter writer(std::move(*opened));
  delivery::Worker worker(writer, path, options, {});
  worker.start();
  for (int i = 0; i < 600 && receiver.answered() < n; ++i) std::this_thread::sleep_for(20ms);
  worker.stop();
  receiver.stop();

  CHECK(receiver.answered() == n);
  CHECK(receiver.most_open() <= 3);
  CHECK(receiver.most_open() == 3);  // the cap, not something narrower, was the limit
}

TEST_CASE("worker: on a PostgreSQL store the per-URL cap is shared by the processes that send, and grows back "
          "when one stops", "[delivery][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  SlowReceiver receiver;
  const auto url = receiver.url();

  testing::ScratchDatabase db;
  constexpr int n = 96;
  {
    auto s = store::Store::open(db.url());
    REQUIRE(s);
    for (int i = 0; i < n; ++i) add_forward(*s, "dlv_" + std::to_string(i), url, "n=" + std::to_string(i));
  }
  // Another process sends from the store (its session holds the senders' lock).
  auto acquired = store::SenderLock::acquire(db.url());
  REQUIRE(acquired);
  std::optional<store::SenderLock> other{std::move(*acquired)};
  other->share();
  CHECK(other->look().senders == 1);

  delivery::WorkerOptions options;
  options.per_url = 6;
  options.connections_per_origin = 8;
  options.poll_interval = 20ms;
  auto opened = store::Store::open(db.url(), {store::Durability::normal});
  REQUIRE(opened);
  store::GroupCommitter writer(std::move(*opened));
  delivery::Worker worker(writer, db.url(), options, {});
  worker.start();
  CHECK(other->look().senders == 2);
  // Two senders: this one keeps to half of the cap.
  for (int i = 0; i < 500 && receiver.answered() < 12; ++i) std::this_thread::sleep_for(10ms);
  CHECK(receiver.most_open() == 3);
  // Alone again: the whole cap, from the next look (100 ms).
  other.reset();
  for (int i = 0; i < 300 && receiver.open() < 6; ++i) std::this_thread::sleep_for(10ms);
  for (int i = 0; i < 1000 && receiver.answered() < n; ++i) std::this_thread::sleep_for(10ms);
  worker.stop();
  receiver.stop();
  CHECK(receiver.answered() == n);
  CHECK(receiver.most_open() == 6);
}

TEST_CASE("worker: on a PostgreSQL store the leases of a sender that stops running are freed at once, and sent",
          "[delivery][postgres]")
{
  if (!testing::postgres_available()) {
    SUCCEED("skipped: no CENTRALI_TEST_POSTGRES");
    return;
  }
  SlowReceiver receiver;
  testing::ScratchDatabase db;
  auto s = store::Store::open(db.url());
  REQUIRE(s);
  add_forward(*s, "dlv_held", receiver.url(), "{}");
  // Another process sends from the store and holds the delivery for ten
  // minutes: it claimed it and has it in flight.
  auto acquired = store::SenderLock::acquire(db.url());
  REQUIRE(acquired);
  std::optional<store::SenderLock> other{std::move(*acquired)};
  other->share();
  auto claimed = store::claim_due_deliveries(*s, timeutil::now_ms(), 10,
                                             store::ClaimLease{600'000, 600'000, other->owner()});
  REQUIRE(claimed);
  REQUIRE(claimed->size() == 1);

  delivery::WorkerOptions options;
  options.poll_interval = 20ms;
  auto opened = store::Store::open(db.url(), {store::Durability::normal});
  REQUIRE(opened);
  store::GroupCommitter writer(std::move(*opened));
  delivery::Worker worker(writer, db.url(), options, {});
  worker.start();  // not alone: the lease may be the other's, and stays
  std::this_thread::sleep_for(300ms);
  CHECK(receiver.answered() == 0);
  other.reset();  // the other process ends (kill -9 alike: its session goes)
  for (int i = 0; i < 1000 && receiver.answered() < 1; ++i) std::this_thread::sleep_for(10ms);
  worker.stop();
  receiver.stop();
  CHECK(receiver.answered() == 1);
}

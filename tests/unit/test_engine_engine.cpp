// The engine's idle loop (`dispatch --until-idle`) on a real store, with
// a real loopback endpoint: it ends when nothing is due, waits for what
// falls due within its window, and with fast-forward jumps the clock to
// each retry instead of waiting.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>

#include "centrali/engine/engine.hpp"
#include "centrali/http/server.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/sender_lock.hpp"
#include "centrali/util/time.hpp"
#include "temp_store.hpp"

using namespace centrali;
using namespace std::chrono_literals;

namespace {

// An endpoint on loopback that answers every request with `status`.
class Receiver {
public:
  explicit Receiver(int status) : m_server(options())
  {
    m_server.route("/", [this, status](http::Request&, http::Response& res) {
      ++m_received;
      res.status = status;
    });
    auto port = m_server.bind();
    REQUIRE(port);
    m_url = "http://127.0.0.1:" + std::to_string(*port) + "/app";
    m_thread = std::thread([this] { m_server.run(); });
  }
  ~Receiver()
  {
    m_server.stop();
    m_thread.join();
  }
  const std::string& url() const { return m_url; }
  int received() const { return m_received; }

private:
  static http::ServerOptions options()
  {
    http::ServerOptions o;
    o.port = 0;
    o.loops = 1;
    return o;
  }
  http::Server m_server;
  std::string m_url;
  std::atomic<int> m_received{0};
  std::thread m_thread;
};

// A forward of a fresh event to `url`, due now.
void add_forward(store::Store& s, const std::string& id, const std::string& url)
{
  store::Event e;
  e.id = "evt_" + id;
  e.source = "src";
  e.type = "t";
  e.status = "accepted";
  e.path = "/ingest/src";
  e.body = "{}";
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

engine::EngineOptions options_for(const std::filesystem::path& path, std::vector<std::chrono::milliseconds> schedule)
{
  engine::EngineOptions o;
  o.store_path = path;
  o.worker.forward_schedule = std::move(schedule);
  o.worker.poll_interval = 20ms;
  o.runs = engine::RunsOn::idle_loop;
  o.schedules = engine::Schedules::ignore;
  return o;
}

} // namespace

TEST_CASE("engine: run_until_idle delivers what is due, then ends", "[engine]")
{
  Receiver receiver(200);
  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  {
    auto s = unit::open_store(dir);
    for (int i = 0; i < 5; ++i) add_forward(s, "dlv_" + std::to_string(i), receiver.url());
  }
  std::atomic<int> succeeded{0};
  auto engine = engine::Engine::create(options_for(path, {1h}), {[&](const delivery::AttemptReport& r) {
                                                                  if (r.update.status == "succeeded") ++succeeded;
                                                                }, {}, {}, {}});
  REQUIRE(engine);
  (*engine)->start();
  std::atomic<bool> stop{false};
  auto report = (*engine)->run_until_idle({}, stop);
  (*engine)->stop();

  CHECK_FALSE(report.interrupted);
  CHECK_FALSE((*engine)->failure());
  CHECK(succeeded == 5);
  CHECK(receiver.received() == 5);
  CHECK(report.fast_forwarded_ms == 0);
}

TEST_CASE("engine: run_until_idle ends with a retry pending later, unless due within its window", "[engine]")
{
  Receiver receiver(500);
  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  {
    auto s = unit::open_store(dir);
    add_forward(s, "dlv_later", receiver.url());
  }
  SECTION("a retry an hour away is left for later")
  {
    auto engine = engine::Engine::create(options_for(path, {1h}), {});
    REQUIRE(engine);
    (*engine)->start();
    std::atomic<bool> stop{false};
    auto report = (*engine)->run_until_idle({}, stop);
    (*engine)->stop();
    CHECK_FALSE(report.interrupted);
    CHECK(receiver.received() == 1);
    auto s = unit::open_store(dir);
    auto d = store::get_delivery(s, "dlv_later");
    REQUIRE(d);
    CHECK(d->status == "pending");
  }
  SECTION("a retry due within wait_for_due is waited for")
  {
    auto engine = engine::Engine::create(options_for(path, {200ms}), {});
    REQUIRE(engine);
    (*engine)->start();
    std::atomic<bool> stop{false};
    engine::IdleOptions idle;
    idle.wait_for_due = 1h;
    auto report = (*engine)->run_until_idle(idle, stop);
    (*engine)->stop();
    CHECK_FALSE(report.interrupted);
    CHECK(receiver.received() == 2);  // the first attempt and the one retry, then failed for good
    auto s = unit::open_store(dir);
    auto d = store::get_delivery(s, "dlv_later");
    REQUIRE(d);
    CHECK(d->status == "failed");
  }
}

TEST_CASE("engine: a store another process keeps locked ends run_until_idle once its patience runs out", "[engine]")
{
  Receiver receiver(200);
  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  {
    auto s = unit::open_store(dir);
    add_forward(s, "dlv_locked", receiver.url());
  }
  // Another sender is running (so the engine frees no leases at start), and
  // a connection of another process holds the write lock, as a `sqlite3`
  // shell inside BEGIN IMMEDIATE does: the due delivery cannot be claimed.
  auto other_sender = store::SenderLock::acquire(path);
  REQUIRE(other_sender);
  other_sender->share();
  SQLite::Database shell(path.string(), SQLite::OPEN_READWRITE);
  shell.exec("BEGIN IMMEDIATE");

  auto engine = engine::Engine::create(options_for(path, {1h}), {});
  REQUIRE(engine);
  (*engine)->start();
  std::atomic<bool> stop{false};
  engine::IdleOptions idle;
  idle.locked_patience = 100ms;
  auto report = (*engine)->run_until_idle(idle, stop);
  shell.exec("ROLLBACK");
  (*engine)->stop();

  CHECK_FALSE(report.interrupted);
  auto failure = (*engine)->failure();
  REQUIRE(failure);
  CHECK(failure->fault == StoreFault::locked);
  CHECK(receiver.received() == 0);
}

TEST_CASE("engine: a stop request ends run_until_idle", "[engine]")
{
  Receiver receiver(500);
  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  {
    auto s = unit::open_store(dir);
    add_forward(s, "dlv_wait", receiver.url());
  }
  auto engine = engine::Engine::create(options_for(path, {1h}), {});
  REQUIRE(engine);
  (*engine)->start();
  std::atomic<bool> stop{true};
  engine::IdleOptions idle;
  idle.wait_for_due = 24h;  // would wait for the retry without the stop
  auto report = (*engine)->run_until_idle(idle, stop);
  (*engine)->stop();
  CHECK(report.interrupted);
}

TEST_CASE("engine: fast-forward jumps the clock to each retry and refuses a second sender", "[engine]")
{
  // Runs last in its process as far as the clock goes: the jump is for good.
  Receiver receiver(500);
  unit::TempDir dir;
  const auto path = dir.path() / "s.db";
  { auto s = unit::open_store(dir); }
  auto options = options_for(path, {10min, 20min});
  options.senders = engine::Senders::alone;
  {
    // Another sender on the store (a running listener) keeps it from starting.
    auto other = engine::Engine::create(options_for(path, {1h}), {});
    REQUIRE(other);
    (*other)->start();
    auto refused = engine::Engine::create(options, {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::store);
    (*other)->stop();
  }
  {
    auto s = unit::open_store(dir);
    add_forward(s, "dlv_ff", receiver.url());
  }
  const auto offset_before = timeutil::clock_offset_ms();
  auto engine = engine::Engine::create(options, {});
  REQUIRE(engine);
  (*engine)->start();
  std::atomic<bool> stop{false};
  engine::IdleOptions idle;
  idle.fast_forward = engine::FastForward::yes;
  auto report = (*engine)->run_until_idle(idle, stop);
  (*engine)->stop();

  CHECK_FALSE(report.interrupted);
  CHECK(receiver.received() == 3);
  CHECK(report.fast_forwarded_ms >= std::chrono::milliseconds(30min).count() * 8 / 10 - 1000);
  CHECK(timeutil::clock_offset_ms() - offset_before == report.fast_forwarded_ms);
  auto s = unit::open_store(dir);
  auto d = store::get_delivery(s, "dlv_ff");
  REQUIRE(d);
  CHECK(d->status == "failed");
  auto attempts = store::list_attempts(s, "dlv_ff");
  REQUIRE(attempts);
  REQUIRE(attempts->size() == 3);
  const auto gap = (*attempts)[1].started_ms - (*attempts)[0].started_ms;
  const std::int64_t ten_minutes_ms = std::chrono::milliseconds(10min).count();
  CHECK(gap >= ten_minutes_ms * 8 / 10);
  CHECK(gap <= ten_minutes_ms * 12 / 10 + 1000);
}

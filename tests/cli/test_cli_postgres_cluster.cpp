// Binary tests of several centrali processes on one PostgreSQL store (the
// way a PostgreSQL store is meant to be used): listeners and a dispatcher
// side by side, one of them killed, and what the store and the receivers
// saw afterwards. They need a server: CENTRALI_TEST_POSTGRES (`dev.sh test`,
// or tests/postgres/cluster.sh start); without one each test says so and
// passes.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/work_signal.hpp"
#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "wait.hpp"
#include "webhook_endpoint.hpp"

using namespace testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

bool postgres_server_given()
{
  const char* url = std::getenv("CENTRALI_TEST_POSTGRES");
  return url && *url;
}

// A database of the test's own on the test server, dropped at the end.
// Declared before the processes that use it, so it outlives them.
class Database {
public:
  Database() : m_url(make_test_database(m_name)) {}
  ~Database() { drop_test_database(m_name); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  const std::string& url() const { return m_url; }
  const std::string& name() const { return m_name; }

private:
  std::string m_name;
  std::string m_url;
};

// A receiver of outbound webhooks that notes, per delivery (`webhook-id`),
// whether two of its requests were ever in flight at once, which events
// (`data.key` of the envelope) arrived, and whether every signature held.
class DeliveryLog {
public:
  void begin(const httplib::Request& req)
  {
    const auto id = req.get_header_value("webhook-id");
    auto envelope = json::parse(req.body, nullptr, false);
    std::lock_guard lock(m_mutex);
    if (++m_in_flight[id] > 1) m_overlapping.push_back(id);
    if (!envelope.is_discarded() && envelope.contains("data") && envelope["data"].contains("key"))
      m_keys.insert(envelope["data"]["key"].get<std::string>());
  }
  void end(const httplib::Request& req)
  {
    std::lock_guard lock(m_mutex);
    --m_in_flight[req.get_header_value("webhook-id")];
  }
  void bad_signature()
  {
    std::lock_guard lock(m_mutex);
    ++m_bad_signatures;
  }
  std::set<std::string> keys()
  {
    std::lock_guard lock(m_mutex);
    return m_keys;
  }
  std::vector<std::string> overlapping()
  {
    std::lock_guard lock(m_mutex);
    return m_overlapping;
  }
  int bad_signatures()
  {
    std::lock_guard lock(m_mutex);
    return m_bad_signatures;
  }

private:
  std::mutex m_mutex;
  std::map<std::string, int> m_in_flight;
  std::vector<std::string> m_overlapping;
  std::set<std::string> m_keys;
  int m_bad_signatures = 0;
};

// Runs `sql` on the test server's own database (not a store).
void on_server(const std::string& sql)
{
  auto admin = centrali::store::postgres::connect(std::getenv("CENTRALI_TEST_POSTGRES"),
                                                  centrali::store::Durability::normal);
  admin->exec(sql);
}

struct Answer {
  std::string key;
  int status = 0;
  std::string id;  // the event id the listener answered with
};

// Sends the event with delivery id `key` the way a provider does: to
// `first`, and on no answer (or a 503) again, to `fallback`, until a
// listener answers 202 or 200. The last answer is returned.
Answer deliver(const std::string& key, const std::string& first, const std::string& fallback)
{
  const std::string body = R"({"type":"order.created","key":")" + key + R"("})";
  Answer answer;
  answer.key = key;
  std::string url = first;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto sent = post(url, "/ingest/open", body, {{"webhook-id", key}});
    answer.status = sent.status;
    if (sent.status == 202 || sent.status == 200) {
      auto parsed = json::parse(sent.body, nullptr, false);
      if (!parsed.is_discarded() && parsed.contains("id")) answer.id = parsed["id"].get<std::string>();
      return answer;
    }
    url = fallback;
    std::this_thread::sleep_for(50ms);
  }
  return answer;
}

} // namespace

TEST_CASE("two listeners and one dispatch share one PostgreSQL store: every acknowledged event is stored once and "
          "delivered at least once, none in flight twice at once",
          "[cli][postgres]")
{
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  Database database;
  const auto& store = database.url();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});

  DeliveryLog log;
  std::string secret;
  std::mutex secret_mutex;
  webhooks::Endpoint receiver([&](int, const httplib::Request& req, httplib::Response&) {
    log.begin(req);
    {
      std::lock_guard lock(secret_mutex);
      if (!webhooks::standard_webhooks_valid(secret, req)) log.bad_signature();
    }
    // Long enough that a second sender of the same delivery would overlap.
    std::this_thread::sleep_for(5ms);
    log.end(req);
  });
  {
    // A short timeout keeps the lease of a killed sender short (4 × 2 s +
    // 60 s); quick retries cover a refused attempt.
    auto hook = webhooks::add_webhook(store, receiver.url(), {"--timeout", "2s", "--retry-schedule", "1s,1s,1s,1s,1s"});
    std::lock_guard lock(secret_mutex);
    secret = hook.secret;
  }

  Listen survivor(store);
  Listen victim(store);
  Background dispatch({centrali_binary(), "--store", store, "dispatch"});

  // Every tenth event is also sent to the other listener after its answer
  // (a provider's retry), and every tenth, offset by five, to both at once
  // (a provider's retry racing the original).
  constexpr int k_events = 300;
  constexpr int k_clients = 4;
  std::mutex answers_mutex;
  std::vector<Answer> answers;
  std::atomic<int> done{0};
  auto client = [&](int first) {
    for (int i = first; i < k_events; i += k_clients) {
      const auto key = "msg_" + std::to_string(i);
      const auto& mine = i % 2 == 0 ? survivor.url() : victim.url();
      const auto& other = i % 2 == 0 ? victim.url() : survivor.url();
      std::vector<Answer> got;
      if (i % 10 == 5) {
        auto racing = std::async(std::launch::async, [&] { return deliver(key, other, survivor.url()); });
        got.push_back(deliver(key, mine, survivor.url()));
        got.push_back(racing.get());
      } else {
        got.push_back(deliver(key, mine, survivor.url()));
        if (i % 10 == 0) got.push_back(deliver(key, other, survivor.url()));
      }
      std::lock_guard lock(answers_mutex);
      answers.insert(answers.end(), got.begin(), got.end());
      ++done;
    }
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < k_clients; ++c) clients.emplace_back(client, c);
  // Midway, one listener dies without a chance to finish anything.
  bool halfway = wait_until([&] { return done >= k_events / 2; }, 120s);
  CHECK(halfway);
  CHECK(victim.process().stop(SIGKILL) == 128 + SIGKILL);
  for (auto& t : clients) t.join();

  // Per delivery id: one event, whichever listener took it, and at most one
  // 202 (the others are answered as duplicates of it).
  std::map<std::string, std::vector<Answer>> by_key;
  for (const auto& a : answers) by_key[a.key].push_back(a);
  REQUIRE(by_key.size() == static_cast<std::size_t>(k_events));
  std::set<std::string> acknowledged;  // event ids
  for (const auto& [key, all] : by_key) {
    INFO("delivery id " << key);
    int accepted = 0;
    for (const auto& a : all) {
      REQUIRE((a.status == 202 || a.status == 200));
      REQUIRE_FALSE(a.id.empty());
      CHECK(a.id == all.front().id);
      accepted += a.status == 202;
    }
    CHECK(accepted <= 1);
    acknowledged.insert(all.front().id);
  }
  CHECK(acknowledged.size() == static_cast<std::size_t>(k_events));

  // Stored once each, as accepted; nothing else accepted.
  auto listed = cli_json(store, {"events", "list", "--limit", "0"});
  std::map<std::string, int> times_listed;
  std::set<std::string> accepted_ids;
  for (const auto& e : listed) {
    ++times_listed[e["id"].get<std::string>()];
    if (e["status"] == "accepted") accepted_ids.insert(e["id"].get<std::string>());
  }
  for (const auto& id : acknowledged) {
    INFO("event " << id);
    CHECK(times_listed[id] == 1);
    CHECK(accepted_ids.count(id) == 1);
  }
  CHECK(accepted_ids == acknowledged);

  // Delivered at least once each, one sender at a time per delivery. A
  // delivery the killed listener had leased waits out its lease first.
  std::set<std::string> keys;
  for (const auto& [key, all] : by_key) keys.insert(key);
  bool all_delivered = wait_until(
      [&] {
        auto got = log.keys();
        return std::includes(got.begin(), got.end(), keys.begin(), keys.end());
      },
      180s, 200ms);
  if (!all_delivered) {
    std::vector<std::string> missing;
    auto got = log.keys();
    std::set_difference(keys.begin(), keys.end(), got.begin(), got.end(), std::back_inserter(missing));
    INFO("first missing: " << missing.front() << " of " << missing.size());
    INFO("deliveries: " << webhooks::deliveries(store).dump());
    CHECK(all_delivered);
  }
  CHECK(log.overlapping().empty());
  CHECK(log.bad_signatures() == 0);

  CHECK(dispatch.stop(SIGTERM) == 0);
  CHECK(survivor.process().stop(SIGTERM) == 0);
}

namespace {

// How many senders (`listen`, `dispatch`) hold their lock on the store.
int running_senders(const std::string& store)
{
  auto session = centrali::store::postgres::connect(store, centrali::store::Durability::normal);
  centrali::store::Statement st(session->prepare(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
  return st.step() ? st.column(0).as_int() : 0;
}

} // namespace

TEST_CASE("a dispatch killed with deliveries in flight: the dispatch beside it sends them at once, long before "
          "their leases end",
          "[cli][postgres]")
{
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  Database database;
  const auto& store = database.url();
  std::atomic<bool> hang{true};
  webhooks::Endpoint receiver([&hang](int, const httplib::Request&, httplib::Response&) {
    // Bounded, so a failing test's receiver still stops (120 s, past any wait here).
    for (int i = 0; i < 12'000 && hang; ++i) std::this_thread::sleep_for(10ms);
  });
  // Leases of 4 × 30 s + 60 s: three minutes, which this test never waits out.
  webhooks::add_webhook(store, receiver.url(), {"--timeout", "30s"});
  constexpr std::size_t n = 3;
  Background victim({centrali_binary(), "--store", store, "dispatch"});
  for (std::size_t i = 0; i < n; ++i) webhooks::emit(store, "order.created", R"({"n":)" + std::to_string(i) + "}");
  REQUIRE(wait_until([&] { return receiver.requests().size() == n; }, 30s));  // all in flight at the victim
  // Not alone when it starts (the victim runs): it frees nothing then.
  Background survivor({centrali_binary(), "--store", store, "dispatch"});
  REQUIRE(wait_until([&] { return running_senders(store) == 2; }, 30s));
  std::this_thread::sleep_for(300ms);  // a few of the survivor's looks at the senders, the victim among them

  CHECK(victim.stop(SIGKILL) == 128 + SIGKILL);
  hang = false;
  bool sent = wait_until([&] { return webhooks::deliveries(store, {"--status", "succeeded"}).size() == n; }, 20s, 100ms);
  if (!sent) {
    INFO("deliveries: " << webhooks::deliveries(store).dump());
    CHECK(sent);
  }
  CHECK(receiver.requests().size() == 2 * n);
  CHECK(survivor.stop(SIGTERM) == 0);
}

TEST_CASE("a listener killed while a trigger runs: the listener beside it marks the run interrupted at once, not "
          "when its lease ends",
          "[cli][postgres]")
{
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  Database database;
  const auto& store = database.url();
  // Leased for its timeout + 10 s: ten minutes, which this test never waits out.
  cli_ok(store, {"triggers", "add", "slow", "--on", "demand", "--run", "sleep 20", "--timeout", "10m"});
  auto status = [&] {
    auto runs = cli_json(store, {"triggers", "runs", "slow"});
    return runs.empty() ? std::string() : runs[0]["status"].get<std::string>();
  };
  std::optional<Listen> victim;
  victim.emplace(store);
  cli_ok(store, {"triggers", "fire", "slow"});
  REQUIRE(wait_until([&] { return status() == "running"; }, 30s, 100ms));
  Listen survivor(store);
  REQUIRE(wait_until([&] { return running_senders(store) == 2; }, 30s));
  std::this_thread::sleep_for(300ms);  // a few of the survivor's looks, the victim among them

  CHECK(victim->process().stop(SIGKILL) == 128 + SIGKILL);
  CHECK(wait_until([&] { return status() == "failure"; }, 15s, 100ms));
  const auto run = cli_json(store, {"triggers", "runs", "slow"})[0]["id"].get<std::string>();
  auto shown = cli_json(store, {"triggers", "runs", "show", run});
  CHECK(shown["error"] == "interrupted (the runner stopped)");
  CHECK(survivor.process().stop(SIGTERM) == 0);
}

TEST_CASE("runs queued from the command line are announced: the processes on a PostgreSQL store hear of a fired "
          "trigger, an automation run and their reruns at once, not at their next look",
          "[cli][postgres]")
{
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  Database database;
  const auto& store = database.url();
  TempDir dir;
  cli_ok(store, {"triggers", "add", "later", "--on", "demand", "--run", "true"});
  const auto definition = dir.str("nap.json");
  std::ofstream(definition) << json{{"name", "nap"},
                                    {"trigger", {{"type", "demand"}}},
                                    {"steps", json::array({{{"id", "once"}, {"type", "compute"}, {"run", "true"}}})}}
                                   .dump();
  cli_ok(store, {"automations", "add", "-f", definition});
  // What a listener's or a dispatch's parts wait on between their looks.
  auto watch = centrali::store::watch_work(store);
  REQUIRE(watch);
  REQUIRE(*watch);
  auto& news = **watch;
  while (news.wait(200ms)) {
  }
  const auto fired = cli_json(store, {"triggers", "fire", "later"})["id"].get<std::string>();
  CHECK(news.wait(10s));
  cli_ok(store, {"triggers", "rerun", fired});
  CHECK(news.wait(10s));
  const auto started = cli_json(store, {"automations", "run", "nap"})["id"].get<std::string>();
  CHECK(news.wait(10s));
  cli_ok(store, {"automations", "rerun", started});
  CHECK(news.wait(10s));
  // A command that queues nothing says nothing.
  cli_ok(store, {"triggers", "runs", "later"});
  CHECK_FALSE(news.wait(300ms));
}

TEST_CASE("a schedule tick fires once across three listeners", "[cli][postgres]")
{
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  Database database;
  const auto& store = database.url();
  TempDir dir;
  const auto ran = dir.str("ran.ndjson");
  // Each run appends the document it was given (its tick) as one line.
  cli_ok(store, {"triggers", "add", "tick", "--on", "schedule", "--every", "1s", "--run",
                 "cat >> '" + ran + "'; echo >> '" + ran + "'"});
  {
    Listen first(store);
    Listen second(store);
    Listen third(store);
    bool four_ticks = wait_until([&] { return cli_json(store, {"triggers", "runs", "tick", "--limit", "0"}).size() >= 4; },
                                 30s, 100ms);
    CHECK(four_ticks);
    CHECK(first.process().stop(SIGTERM) == 0);
    CHECK(second.process().stop(SIGTERM) == 0);
    CHECK(third.process().stop(SIGTERM) == 0);
  }

  auto runs = cli_json(store, {"triggers", "runs", "tick", "--limit", "0"});
  REQUIRE(runs.size() >= 4);
  std::map<std::string, int> runs_per_tick;
  for (const auto& r : runs) {
    auto shown = cli_json(store, {"triggers", "runs", "show", r["id"].get<std::string>()});
    CHECK(shown["origin"] == "schedule");
    REQUIRE(shown["input"].contains("scheduledAt"));
    ++runs_per_tick[shown["input"]["scheduledAt"].get<std::string>()];
  }
  for (const auto& [tick, count] : runs_per_tick) {
    INFO("tick " << tick);
    CHECK(count == 1);
  }

  // And the command itself ran once per tick.
  std::ifstream in(ran);
  std::map<std::string, int> commands_per_tick;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto doc = json::parse(line, nullptr, false);
    REQUIRE_FALSE(doc.is_discarded());
    ++commands_per_tick[doc["executionParams"]["scheduledAt"].get<std::string>()];
  }
  CHECK_FALSE(commands_per_tick.empty());
  for (const auto& [tick, count] : commands_per_tick) {
    INFO("tick " << tick);
    CHECK(count == 1);
  }
}

TEST_CASE("a listener that loses the database answers 503 until it comes back", "[cli][postgres]")
{
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  Database database;
  const auto& store = database.url();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  Listen listener(store);
  int next_key = 0;
  auto send = [&] {
    return post(listener.url(), "/ingest/open", R"({"type":"order.created"})",
                {{"webhook-id", "msg_" + std::to_string(next_key++)}});
  };
  int stored = 0;
  REQUIRE(send().status == 202);
  ++stored;

  // The database goes away under the listener: its sessions are ended and
  // no new one is let in (what a restarting or unreachable server looks
  // like to a client), without touching the server other tests share.
  on_server("ALTER DATABASE " + database.name() + " ALLOW_CONNECTIONS false");
  on_server("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database.name() + "'");
  int last = 0;
  bool refused = wait_until(
      [&] {
        auto sent = send();
        last = sent.status;
        if (sent.status == 202) ++stored;  // only before the sessions ended
        return sent.status == 503;
      },
      60s, 100ms);
  INFO("last status " << last);
  REQUIRE(refused);
  for (int i = 0; i < 3; ++i) {
    auto sent = send();
    CHECK(sent.status == 503);
    CHECK(sent.body.find("store_unavailable") != std::string::npos);
  }
  CHECK_FALSE(listener.process().exited());

  on_server("ALTER DATABASE " + database.name() + " ALLOW_CONNECTIONS true");
  bool back = wait_until(
      [&] {
        auto sent = send();
        last = sent.status;
        return sent.status == 202;
      },
      60s, 100ms);
  INFO("last status " << last);
  INFO("listener's log: " << listener.process().err());
  REQUIRE(back);
  ++stored;
  // What was answered 503 was not stored; what was answered 202 was.
  CHECK(cli_json(store, {"events", "list", "--status", "accepted", "--limit", "0"}).size() ==
        static_cast<std::size_t>(stored));
  CHECK(listener.process().stop(SIGTERM) == 0);
}

TEST_CASE("a listener started while its PostgreSQL server is down waits, says so, and serves once the server is up",
          "[cli][postgres]")
{
  // Needs PostgreSQL's programs, which come with the test server.
  if (!postgres_server_given()) {
    WARN("skipped: CENTRALI_TEST_POSTGRES is not set (tests/postgres/cluster.sh start prints one)");
    return;
  }
  // A server of the test's own, on a port that refuses until it starts.
  auto down = std::make_unique<RefusingPort>();
  REQUIRE(down->port() != 0);
  const auto port = std::to_string(down->port());
  TempDir dir;
  const std::string cluster = std::string(CENTRALI_SOURCE_DIR) + "/tests/postgres/cluster.sh";
  RunOptions cluster_env;
  cluster_env.env = {{"CENTRALI_PG_STATE", dir.str("cluster")}, {"CENTRALI_PG_PORT", port}};
  cluster_env.timeout = 120s;
  struct StopCluster {
    std::string script;
    RunOptions env;
    ~StopCluster() { run({script, "stop"}, env); }
  } stop_cluster{cluster, cluster_env};
  // The database every new cluster has: cluster.sh creates `centrali` a moment after the
  // server answers, and a listener that asks in between is told, rightly, that it does not exist.
  const std::string store = "postgresql://centrali@127.0.0.1:" + port + "/postgres";

  Background listener({centrali_binary(), "--store", store, "listen", "--port", "0"});
  bool waiting = wait_until([&] { return listener.err().find("waiting for the store") != std::string::npos; }, 30s);
  INFO("listener's stderr: " << listener.err());
  REQUIRE(waiting);
  CHECK_THAT(listener.err(), Catch::Matchers::Contains("cannot reach the PostgreSQL server"));
  CHECK_FALSE(listener.exited());
  CHECK_FALSE(listener.read_line(300ms));  // not listening yet

  down.reset();  // the server takes the port
  auto started = run({cluster, "start"}, cluster_env);
  INFO("cluster.sh: " << started.err);
  REQUIRE(started.exit_code == 0);
  auto line = listener.read_line(60s);
  INFO("listener's stderr then: " << listener.err());
  REQUIRE(line);
  const auto url = url_in_line(*line);
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  auto sent = post(url, "/ingest/open", R"({"type":"order.created"})", {{"webhook-id", "msg_1"}});
  CHECK(sent.status == 202);
  CHECK(cli_json(store, {"events", "list", "--limit", "0"}).size() == 1);
  CHECK(listener.stop(SIGTERM) == 0);
}

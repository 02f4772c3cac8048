// Binary tests of outbound webhooks: real local receivers that check the
// Standard Webhooks signature independently (OpenSSL here, not our code),
// misbehave on purpose, and what the delivery log says afterwards.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <SQLiteCpp/Database.h>

#include "independent_signatures.hpp"
#include "webhook_endpoint.hpp"
#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "seed_events.hpp"
#include "wait.hpp"

using namespace testing;
using json = nlohmann::json;

using namespace testing::webhooks;

namespace {

// "2026-12-07T07:21:25.123Z" (as --json prints instants) -> Unix ms,
// parsed here rather than by the library whose output it checks.
std::int64_t instant_ms(const json& text)
{
  const auto s = text.get<std::string>();
  std::tm tm{};
  int millis = 0;
  INFO(s);
  // Whole seconds are printed without a fraction.
  REQUIRE(std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &millis) >= 6);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

} // namespace

TEST_CASE("webhooks add shows the secret once - list and show never do", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  auto hook = add_webhook(store, "http://127.0.0.1:9/x", {"--name", "erp", "--header", "X-Tenant: 42"});
  CHECK_THAT(hook.id, Catch::StartsWith("whk_"));
  CHECK_THAT(hook.secret, Catch::StartsWith("whsec_"));
  auto list = centrali({"--store", store, "--json", "webhooks", "list"});
  CHECK(list.out.find(hook.secret) == std::string::npos);
  auto show = centrali({"--store", store, "webhooks", "show", hook.id});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find(hook.secret) == std::string::npos);
  CHECK_THAT(show.out, Catch::Contains("30s,2m,10m,30m"));
  CHECK(centrali({"--store", store, "webhooks", "show", "whk_01HZZZZZZZZZZZZZZZZZZZZZZZ"}).exit_code == 3);
  CHECK(centrali({"--store", store, "webhooks", "add", "--url", "ftp://x", "--events", "*"}).exit_code == 2);
  CHECK(centrali({"--store", store, "webhooks", "add", "--url", "http://x", "--events", "*", "--secret", "nope"}).exit_code == 2);
  CHECK(centrali({"--store", store, "webhooks", "add", "--url", "http://x", "--events", "*", "--retry-schedule", "5x"}).exit_code == 2);
}

TEST_CASE("a webhook added without options gets the documented defaults: retries, timeout, disable-after",
          "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  auto hook = add_webhook(store, "http://127.0.0.1:9/x");
  auto shown = centrali({"--store", store, "--json", "webhooks", "show", hook.id});
  REQUIRE(shown.exit_code == 0);
  auto j = json::parse(shown.out);
  // README: retried after 30s, 2m, 10m and 30m; 15s per attempt; disabled
  // after failing for 5 days.
  CHECK(j["retry_schedule"] == "30s,2m,10m,30m");
  CHECK(j["timeout_ms"] == 15'000);
  CHECK(j["disable_after_ms"] == 5LL * 24 * 3600 * 1000);
}

TEST_CASE("an emitted event is delivered signed, with the envelope and every documented header", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url(), {"--header", "X-Tenant: 42"});
  REQUIRE(centrali({"--store", store, "webhooks", "add", "--url", ep.url() + "?other", "--events", "customer.*"})
              .exit_code == 0);  // must not match
  auto event = emit(store, "order.created", R"({"id":"ord_1","total":1.10})");
  auto r = centrali({"--store", store, "dispatch", "--until-idle"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto got = ep.requests();
  REQUIRE(got.size() == 1);
  const auto& req = got[0];
  CHECK(standard_webhooks_valid(hook.secret, req));
  auto body = json::parse(req.body);
  CHECK(body["type"] == "order.created");
  CHECK(body["data"]["id"] == "ord_1");
  CHECK(body.contains("timestamp"));
  auto list = deliveries(store);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["status"] == "succeeded");
  CHECK(list[0]["event_id"] == event);
  CHECK(req.get_header_value("webhook-id") == list[0]["id"]);
  CHECK(req.get_header_value("Centrali-Id") == req.get_header_value("webhook-id"));
  CHECK(req.get_header_value("Centrali-Timestamp") == req.get_header_value("webhook-timestamp"));
  CHECK(req.get_header_value("Centrali-Signature") == req.get_header_value("webhook-signature"));
  CHECK(req.get_header_value("Centrali-Event-Type") == "order.created");
  CHECK_FALSE(req.has_header("Centrali-Retry-Attempt"));
  CHECK(req.get_header_value("X-Tenant") == "42");
  CHECK_THAT(req.get_header_value("User-Agent"), Catch::StartsWith("centrali/"));
  CHECK(req.get_header_value("Content-Type") == "application/json");
}

TEST_CASE("a failing endpoint is retried on the schedule with the same webhook-id until it succeeds", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int n, const httplib::Request&, httplib::Response& res) {
    if (n <= 2) res.status = 503;
  });
  auto hook = add_webhook(store, ep.url(), {"--retry-schedule", "100ms,200ms,300ms"});
  emit(store, "order.paid", "{}");
  auto r = centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "10s"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto got = ep.requests();
  REQUIRE(got.size() == 3);
  CHECK(got[0].get_header_value("webhook-id") == got[2].get_header_value("webhook-id"));
  CHECK(got[1].get_header_value("Centrali-Retry-Attempt") == "1");
  CHECK(got[2].get_header_value("Centrali-Retry-Attempt") == "2");
  for (const auto& req : got) CHECK(standard_webhooks_valid(hook.secret, req));
  auto d = deliveries(store)[0];
  CHECK(d["status"] == "succeeded");
  auto shown = show_delivery(store, d["id"]);
  REQUIRE(shown["attempt_log"].size() == 3);
  CHECK(shown["attempt_log"][0]["response_status"] == 503);
  CHECK(shown["attempt_log"][0]["trigger"] == "scheduled");
  CHECK(shown["attempt_log"][2]["response_status"] == 200);
  // Each retry waited its turn: at least the scheduled delay less the 20 %
  // jitter after the previous attempt ended (the upper side is the next
  // test's, on the stored times: here it would be a wall-clock bound).
  const std::int64_t schedule_ms[] = {100, 200};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& before = shown["attempt_log"][i];
    auto ended = instant_ms(before["started_at"]) + before["duration_ms"].get<std::int64_t>();
    auto next = instant_ms(shown["attempt_log"][i + 1]["started_at"]);
    INFO("retry " << i + 1 << " came " << next - ended << " ms after attempt " << i + 1 << " ended");
    CHECK(next - ended >= schedule_ms[i] * 8 / 10);
  }
}

TEST_CASE("each retry is planned at its schedule entry, within the 20 % jitter", "[cli][webhooks]")
{
  // The plan is read from the store, not timed: after each failed attempt
  // a delivery's next_attempt_at is the attempt's end plus the schedule's
  // entry for that retry, jittered by at most ±20 %. With 20 deliveries a
  // wider jitter (or none) shows. The hours-long schedule never comes due on
  // its own: the test makes each retry due by moving next_attempt_ms.
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response& res) { res.status = 503; });
  add_webhook(store, ep.url(), {"--retry-schedule", "1h,2h"});
  constexpr int k_deliveries = 20;
  store_local_events(store, "order.created", k_deliveries);
  const std::int64_t schedule_ms[] = {3'600'000, 7'200'000};
  for (int retry = 0; retry < 2; ++retry) {
    auto r = centrali({"--store", store, "dispatch", "--until-idle"});  // nothing due for hours: it returns
    INFO(r.err);
    CHECK(r.exit_code == 0);
    auto pending = deliveries(store, {"--status", "pending"});
    REQUIRE(pending.size() == k_deliveries);
    std::set<std::int64_t> delays;
    for (const auto& d : pending) {
      CHECK(d["attempts"] == retry + 1);
      auto last = show_delivery(store, d["id"])["attempt_log"].back();
      auto ended = instant_ms(last["started_at"]) + last["duration_ms"].get<std::int64_t>();
      auto delay = instant_ms(d["next_attempt_at"]) - ended;
      INFO("retry " << retry + 1 << " planned " << delay << " ms after the attempt, schedule " << schedule_ms[retry]);
      CHECK(delay >= schedule_ms[retry] * 8 / 10);
      CHECK(delay <= schedule_ms[retry] * 12 / 10);
      delays.insert(delay);
    }
    CHECK(delays.size() > 1);  // jittered, not in lockstep
    exec_sql(store, "UPDATE deliveries SET next_attempt_ms = 0 WHERE status = 'pending'");
  }
  // The schedule has two entries: the third attempt was the last.
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 1);
  CHECK(deliveries(store, {"--status", "failed"}).size() == k_deliveries);
  CHECK(ep.requests().size() == 3 * k_deliveries);
}

TEST_CASE("a webhook's secrets never land in a log or an output - while they sign everything sent", "[cli][webhooks]")
{
  // Both secrets (the first from the environment, the rotated one from a
  // file) go through every path that signs and logs: create, test, a
  // failing dispatch, its retries, a resend, a replay, a live listener, all
  // with -v, and --json; then every command that shows the webhook or its
  // deliveries. Each output is checked for the secret and for its key part.
  TempDir dir;
  auto store = dir.store();
  const std::string first = "whsec_c2VjcmV0LW9uZS1mb3ItdGhlLWxvZy10ZXN0MTIz";
  const std::string second = "whsec_c2VjcmV0LXR3by1mb3ItdGhlLWxvZy10ZXN0NDU2";
  std::ofstream(dir.str("second")) << second << "\n";
  std::atomic<int> status{500};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = status; });
  std::vector<std::pair<std::string, std::string>> outputs;  // what the user and the log saw
  auto run_logged = [&](const std::string& label, std::vector<std::string> args, int expected_exit) {
    args.insert(args.begin(), {"--store", store});
    RunOptions env;
    env.env["CENTRALI_TEST_HOOK_SECRET"] = first;
    auto r = centrali(args, env);
    INFO(label << ": " << r.err);
    CHECK(r.exit_code == expected_exit);
    outputs.emplace_back(label + " stdout", r.out);
    outputs.emplace_back(label + " stderr", r.err);
    return r;
  };
  auto added = run_logged("add", {"-v", "--json", "webhooks", "add", "--url", ep.url(), "--events", "order.*", "--name",
                                  "billing", "--retry-schedule", "50ms", "--secret", "env:CENTRALI_TEST_HOOK_SECRET"},
                          0);
  const std::string id = json::parse(added.out)["id"];
  run_logged("test", {"-v", "webhooks", "test", "billing"}, 1);
  run_logged("test --json", {"-v", "--json", "webhooks", "test", "billing"}, 1);
  emit(store, "order.created", R"({"n":1})");
  auto failing = run_logged("dispatch -v", {"-vv", "dispatch", "--until-idle", "--timeout", "10s"}, 1);
  emit(store, "order.created", R"({"n":2})");
  auto failing_json = run_logged("dispatch --json", {"-v", "--json", "dispatch", "--until-idle", "--timeout", "10s"}, 1);
  // The logs are not empty, and they are about this webhook.
  CHECK_THAT(failing.err, Catch::Contains("HTTP 500"));
  CHECK_THAT(failing_json.err, Catch::Contains("\"response_status\":500"));
  CHECK_THAT(failing.err + failing_json.err, Catch::Contains(id) || Catch::Contains(ep.url()));
  REQUIRE(ep.requests().size() == 6);  // two tests, then two events tried twice
  for (const auto& req : ep.requests()) CHECK(standard_webhooks_valid(first, req));

  status = 200;
  run_logged("rotate", {"-v", "--json", "webhooks", "rotate-secret", "billing", "--secret", "file:" + dir.str("second")}, 0);
  auto failed = deliveries(store, {"--status", "failed"});
  REQUIRE(failed.size() == 4);  // the two tests and the two events
  run_logged("resend", {"-v", "webhooks", "resend", failed[0]["id"]}, 0);
  run_logged("replay", {"-v", "--json", "webhooks", "replay", "--status", "failed"}, 0);
  const auto sent_before_listen = ep.requests().size();
  {
    Listen l(store, {"-v"});
    emit(store, "order.created", R"({"n":3})");
    REQUIRE(wait_until([&] { return ep.requests().size() > sent_before_listen; }));
    REQUIRE(wait_until([&] { return deliveries(store, {"--status", "pending"}).empty(); }));
    REQUIRE(l.process().stop(SIGTERM) == 0);
    outputs.emplace_back("listen -v stderr", l.process().err());
    CHECK_THAT(l.process().err(), Catch::Contains("HTTP 200"));
  }
  for (std::size_t i = 6; i < ep.requests().size(); ++i) {
    CHECK(standard_webhooks_valid(first, ep.requests()[i]));
    CHECK(standard_webhooks_valid(second, ep.requests()[i]));
  }
  for (const auto& d : deliveries(store)) {
    run_logged("deliveries show", {"deliveries", "show", d["id"]}, 0);
    run_logged("deliveries show --json", {"--json", "deliveries", "show", d["id"]}, 0);
  }
  for (auto json_flag : {false, true}) {
    auto with = [&](std::vector<std::string> args) {
      if (json_flag) args.insert(args.begin(), "--json");
      return args;
    };
    run_logged("webhooks list", with({"webhooks", "list"}), 0);
    run_logged("webhooks show", with({"webhooks", "show", "billing"}), 0);
    run_logged("webhooks stats", with({"webhooks", "stats"}), 0);
    run_logged("deliveries list", with({"deliveries", "list", "--limit", "0"}), 0);
    run_logged("events list", with({"events", "list"}), 0);
  }
  std::size_t logged = 0;
  for (const auto& [label, text] : outputs) {
    logged += text.size();
    for (const auto& secret : {first, second}) {
      INFO(label << " holds a secret:\n" << text);
      CHECK(text.find(secret) == std::string::npos);
      CHECK(text.find(secret.substr(6)) == std::string::npos);  // the key, without its prefix
    }
  }
  CHECK(logged > 1000);
}

TEST_CASE("after the last retry the delivery is failed and dispatch exits 1 - 3xx is not followed", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "http://127.0.0.1:9/elsewhere");
  });
  add_webhook(store, ep.url(), {"--retry-schedule", "50ms"});
  emit(store, "order.paid", "{}");
  auto r = centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "5s"});
  CHECK(r.exit_code == 1);
  CHECK(ep.requests().size() == 2);
  auto d = deliveries(store, {"--status", "failed"});
  REQUIRE(d.size() == 1);
  CHECK(d[0]["last_status"] == 302);
}

TEST_CASE("dispatch --json: the summary is stdout's one document, failed attempts are NDJSON on stderr", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response& res) { res.status = 500; });
  add_webhook(store, ep.url(), {"--retry-schedule", "20ms"});
  emit(store, "order.paid", "{}");
  auto r = centrali({"--store", store, "--json", "dispatch", "--until-idle", "--timeout", "5s"});
  CHECK(r.exit_code == 1);
  auto summary = json::parse(r.out);  // throws on anything but one document
  CHECK(summary["attempts"] == 2);
  CHECK(summary["failed"] == 1);
  int attempt_lines = 0;
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("response_status")) {
      CHECK(j["response_status"] == 500);
      ++attempt_lines;
    }
  }
  CHECK(attempt_lines == 2);
}

TEST_CASE("410 Gone disables the webhook with a reason shown by webhooks show", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> ep_status{410};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = ep_status; });
  auto hook = add_webhook(store, ep.url(), {"--retry-schedule", "50ms,50ms"});
  emit(store, "order.paid", "{}");
  auto run = centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "5s"});
  CHECK(ep.requests().size() == 1);  // no retries after 410
  // The run says so, whatever the verbosity, and in its summary.
  CHECK(run.err.find("webhook " + hook.id + " disabled: endpoint answered 410") != std::string::npos);
  CHECK(run.out.find("1 webhook disabled") != std::string::npos);
  auto show = json::parse(centrali({"--store", store, "--json", "webhooks", "show", hook.id}).out);
  CHECK(show["active"] == false);
  CHECK_THAT(show["disabled_reason"].get<std::string>(), Catch::Contains("410"));
  // A disabled webhook gets no new deliveries: what matched it waits, skipped.
  emit(store, "order.paid", R"({"while":"disabled"})");
  centrali({"--store", store, "dispatch", "--until-idle"});
  CHECK(ep.requests().size() == 1);
  CHECK(deliveries(store, {"--status", "skipped"}).size() == 1);
  // Enabling it restores them: it is on, says what it missed, and sends again.
  auto enabled = centrali({"--store", store, "--json", "webhooks", "enable", hook.id});
  INFO(enabled.err);
  REQUIRE(enabled.exit_code == 0);
  auto on = json::parse(enabled.out);
  CHECK(on["active"] == true);
  CHECK(on["disabled_reason"].is_null());
  CHECK(on["skipped"] == 1);
  CHECK(json::parse(centrali({"--store", store, "--json", "webhooks", "show", hook.id}).out)["active"] == true);
  ep_status = 200;
  emit(store, "order.paid", R"({"while":"enabled"})");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  REQUIRE(ep.requests().size() == 2);
  CHECK(json::parse(ep.requests()[1].body)["data"]["while"] == "enabled");
  CHECK(standard_webhooks_valid(hook.secret, ep.requests()[1]));
  // And what it missed goes out when asked (with the one that got the 410).
  CHECK(centrali({"--store", store, "webhooks", "recover", hook.id, "--since", "1h"}).exit_code == 0);
  REQUIRE(ep.requests().size() == 4);
  std::set<std::string> recovered;
  for (std::size_t i = 2; i < 4; ++i) recovered.insert(json::parse(ep.requests()[i].body)["data"].dump());
  CHECK(recovered == std::set<std::string>{"{}", R"({"while":"disabled"})"});
  CHECK(deliveries(store, {"--status", "skipped"}).empty());
}

TEST_CASE("after a 410 nothing more is sent: what waited is skipped, and the disable is reported once",
          "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response& res) { res.status = 410; });
  add_webhook(store, ep.url(), {"--retry-schedule", "none"});
  for (int i = 0; i < 60; ++i) emit(store, "order.paid", "{}");
  auto run = centrali({"--store", store, "--json", "dispatch", "--until-idle"});
  // Only those already on the wire when the first 410 came back were sent
  // (one per connection at most); the rest never reached the endpoint.
  CHECK(ep.requests().size() <= 8);
  auto all = deliveries(store);
  REQUIRE(all.size() == 60);
  int skipped = 0;
  for (const auto& d : all) {
    auto log = show_delivery(store, d["id"])["attempt_log"];
    if (d["status"] == "skipped") {
      ++skipped;
      CHECK(log.empty());  // nothing was sent, so nothing is logged
      CHECK(d["last_error"].get<std::string>().find("410 Gone") != std::string::npos);
    } else {
      CHECK(d["status"] == "failed");
      REQUIRE(log.size() == 1);
      CHECK(log[0]["response_status"] == 410);
    }
  }
  CHECK(skipped + static_cast<int>(ep.requests().size()) == 60);
  auto summary = json::parse(run.out);
  CHECK(summary["skipped"] == skipped);
  REQUIRE(summary["webhooks_disabled"].size() == 1);  // once, however many answered 410
  CHECK(summary["webhooks_disabled"][0]["reason"].get<std::string>().find("410 Gone") != std::string::npos);
}

TEST_CASE("429 with Retry-After delays the next attempt at least that long", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int n, const httplib::Request&, httplib::Response& res) {
    if (n == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
    }
  });
  add_webhook(store, ep.url(), {"--retry-schedule", "50ms"});
  emit(store, "order.paid", "{}");
  auto r = centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "5s"});
  CHECK(r.exit_code == 0);
  REQUIRE(ep.requests().size() == 2);
  // From the stored attempts: the retry began at least the Retry-After
  // second after the 429 came back, not at the schedule's 50 ms.
  auto log = show_delivery(store, deliveries(store)[0]["id"])["attempt_log"];
  REQUIRE(log.size() == 2);
  auto ended = instant_ms(log[0]["started_at"]) + log[0]["duration_ms"].get<std::int64_t>();
  CHECK(instant_ms(log[1]["started_at"]) - ended >= 1000);
}

TEST_CASE("an endpoint that hangs past the timeout fails the attempt with a timeout error", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response&) {
    // The behaviour under test: an endpoint slower than the 300 ms timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  });
  add_webhook(store, ep.url(), {"--retry-schedule", "none", "--timeout", "300ms"});
  emit(store, "order.paid", "{}");
  auto r = centrali({"--store", store, "dispatch", "--until-idle"});
  CHECK(r.exit_code == 1);
  auto d = deliveries(store)[0];
  CHECK(d["status"] == "failed");
  auto log = show_delivery(store, d["id"])["attempt_log"];
  REQUIRE(log.size() == 1);
  CHECK(log[0]["response_status"].is_null());
  CHECK_THAT(log[0]["error"].get<std::string>(), Catch::Contains("timed out"));
}

TEST_CASE("an endpoint that closes the connection is recorded as a connection error", "[cli][webhooks]")
{
  // A raw socket that accepts and closes at once, without answering.
  int port = 0;
  int fd = testing::bind_loopback(port);
  REQUIRE(fd >= 0);
  std::atomic<bool> stop{false};
  std::thread closer([&] {
    while (!stop) {
      int c = ::accept(fd, nullptr, nullptr);
      if (c >= 0) ::close(c);
    }
  });
  TempDir dir;
  auto store = dir.store();
  add_webhook(store, "http://127.0.0.1:" + std::to_string(port) + "/x", {"--retry-schedule", "none"});
  emit(store, "order.paid", "{}");
  auto r = centrali({"--store", store, "dispatch", "--until-idle"});
  stop = true;
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  closer.join();
  CHECK(r.exit_code == 1);
  auto log = show_delivery(store, deliveries(store)[0]["id"])["attempt_log"];
  REQUIRE(log.size() == 1);
  CHECK_FALSE(log[0]["error"].is_null());
}

TEST_CASE("a running listener delivers events emitted by other commands, and resumes after kill -9", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int n, const httplib::Request&, httplib::Response& res) {
    if (n == 1) res.status = 500;
  });
  // The retry is due long after the crash below, even on a loaded machine.
  add_webhook(store, ep.url(), {"--retry-schedule", "4s"});
  std::string delivery;
  {
    Listen l(store);
    emit(store, "order.created", R"({"n":1})");
    // Wait for the first (failed) attempt to be recorded, then crash.
    for (int i = 0; i < 800 && ep.requests().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(ep.requests().size() == 1);
    for (int i = 0; i < 100; ++i) {
      auto d = deliveries(store);
      if (!d.empty() && d[0]["attempts"] == 1) {
        delivery = d[0]["id"];
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE_FALSE(delivery.empty());
    kill(l.process().pid(), SIGKILL);
  }
  CHECK(show_delivery(store, delivery)["status"] == "pending");
  Listen again(store);
  for (int i = 0; i < 800 && ep.requests().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE(ep.requests().size() == 2);
  CHECK(ep.requests()[1].get_header_value("webhook-id") == delivery);
  std::string status;
  for (int i = 0; i < 100 && status != "succeeded"; ++i) {
    status = show_delivery(store, delivery)["status"];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == "succeeded");
}

TEST_CASE("deliveries a killed listener held go out as soon as the next one starts", "[cli][webhooks]")
{
  // kill -9 with attempts in flight leaves their deliveries leased (here
  // 4 x 10s + 60s). A listener that starts with no other sender on the
  // store frees those leases at once instead of waiting them out.
  TempDir dir;
  auto store = dir.store();
  std::atomic<bool> hang{true};
  Endpoint ep([&hang](int, const httplib::Request&, httplib::Response&) {
    // Bounded, so a failing test's endpoint still stops (120 s, past any wait here).
    for (int i = 0; i < 12'000 && hang; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  add_webhook(store, ep.url(), {"--timeout", "10s"});
  constexpr int n = 3;
  {
    Listen l(store);
    for (int i = 0; i < n; ++i) emit(store, "order.created", R"({"n":)" + std::to_string(i) + "}");
    for (int i = 0; i < 400 && ep.requests().size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(ep.requests().size() == n);  // all in flight, none answered
    kill(l.process().pid(), SIGKILL);
  }
  hang = false;
  Listen again(store);
  int succeeded = 0;
  for (int i = 0; i < 400 && succeeded < n; ++i) {
    succeeded = static_cast<int>(deliveries(store, {"--status", "succeeded"}).size());
    if (succeeded < n) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(succeeded == n);  // within the 10 s waited here; the leases ran 100 s
}

TEST_CASE("resend keeps the webhook-id, signs a fresh timestamp and logs a resend attempt", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url());
  emit(store, "order.created", "{}");
  REQUIRE(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  auto id = deliveries(store)[0]["id"].get<std::string>();
  // Timestamps are in seconds: a fresh one needs the next second.
  const auto first_sent = std::stoll(ep.requests()[0].get_header_value("webhook-timestamp"));
  REQUIRE(wait_until([&] { return std::time(nullptr) > first_sent; }, std::chrono::seconds(5)));
  auto r = centrali({"--store", store, "webhooks", "resend", id});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto got = ep.requests();
  REQUIRE(got.size() == 2);
  CHECK(got[1].get_header_value("webhook-id") == id);
  CHECK(got[1].get_header_value("webhook-timestamp") != got[0].get_header_value("webhook-timestamp"));
  CHECK(standard_webhooks_valid(hook.secret, got[1]));
  auto log = show_delivery(store, id)["attempt_log"];
  REQUIRE(log.size() == 2);
  CHECK(log[1]["trigger"] == "resend");
  // --to sends elsewhere, still signed with the webhook's secret.
  Endpoint other;
  CHECK(centrali({"--store", store, "webhooks", "resend", id, "--to", other.url()}).exit_code == 0);
  REQUIRE(other.requests().size() == 1);
  CHECK(standard_webhooks_valid(hook.secret, other.requests()[0]));
}

TEST_CASE("replay resends every failed delivery - --dry-run only lists", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<bool> healthy{false};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) {
    if (!healthy) res.status = 500;
  });
  add_webhook(store, ep.url(), {"--retry-schedule", "none"});
  for (int i = 0; i < 3; ++i) emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 1);
  CHECK(deliveries(store, {"--status", "failed"}).size() == 3);
  auto dry = centrali({"--store", store, "--json", "webhooks", "replay", "--status", "failed", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(json::parse(dry.out)["matched"] == 3);
  CHECK(ep.requests().size() == 3);
  healthy = true;
  auto r = centrali({"--store", store, "--json", "webhooks", "replay", "--status", "failed"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out)["succeeded"] == 3);
  CHECK(deliveries(store, {"--status", "succeeded"}).size() == 3);
  CHECK(show_delivery(store, deliveries(store)[0]["id"])["attempt_log"][1]["trigger"] == "replay");
}

TEST_CASE("webhooks test sends a marked test event synchronously - exit 1 when not 2xx", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> status{200};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = status; });
  auto hook = add_webhook(store, ep.url());
  auto ok = centrali({"--store", store, "webhooks", "test", hook.id, "--type", "order.test", "--data", R"({"x":1})"});
  CHECK(ok.exit_code == 0);
  REQUIRE(ep.requests().size() == 1);
  CHECK(ep.requests()[0].get_header_value("Centrali-Test-Event") == "true");
  CHECK(json::parse(ep.requests()[0].body)["data"]["x"] == 1);
  status = 500;
  CHECK(centrali({"--store", store, "webhooks", "test", hook.id}).exit_code == 1);
  CHECK(centrali({"--store", store, "webhooks", "test", hook.id, "--data", "{bad"}).exit_code == 2);
}

TEST_CASE("rotate-secret signs with both secrets - receivers holding either verify", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url());
  auto rotated = centrali({"--store", store, "--json", "webhooks", "rotate-secret", hook.id});
  REQUIRE(rotated.exit_code == 0);
  auto fresh = json::parse(rotated.out)["secret"].get<std::string>();
  CHECK(fresh != hook.secret);
  emit(store, "order.created", "{}");
  REQUIRE(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  auto req = ep.requests().at(0);
  CHECK(req.get_header_value("webhook-signature").find(' ') != std::string::npos);
  CHECK(standard_webhooks_valid(hook.secret, req));
  CHECK(standard_webhooks_valid(fresh, req));
}

TEST_CASE("webhooks add --secret env:NAME stores the value - deliveries verify with it, and it is not echoed",
          "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  RunOptions env;
  env.env["CENTRALI_TEST_WEBHOOK_SECRET"] = secret;
  env.unset_env = {"CENTRALI_TEST_UNSET_SECRET"};
  auto added = centrali({"--store", store, "webhooks", "add", "--url", ep.url(), "--events", "order.*", "--secret",
                         "env:CENTRALI_TEST_WEBHOOK_SECRET"},
                        env);
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  CHECK(added.out.find(secret) == std::string::npos);
  CHECK(added.out.rfind("whk_", 0) == 0);
  CHECK(added.out.find('\n') == added.out.size() - 1);  // piped: the id alone, nothing to capture as a secret
  // The listener or dispatch that sends need not have the variable.
  emit(store, "order.created", "{}");
  REQUIRE(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  REQUIRE(ep.requests().size() == 1);
  CHECK(standard_webhooks_valid(secret, ep.requests().at(0)));

  auto unset = centrali({"--store", store, "webhooks", "add", "--url", ep.url(), "--events", "*", "--secret",
                         "env:CENTRALI_TEST_UNSET_SECRET"},
                        env);
  CHECK(unset.exit_code == 2);
  CHECK_THAT(unset.err, Catch::Contains("env:CENTRALI_TEST_UNSET_SECRET"));
  env.env["CENTRALI_TEST_NOT_WHSEC"] = "not-a-whsec-secret";
  auto malformed = centrali({"--store", store, "webhooks", "add", "--url", ep.url(), "--events", "*", "--secret",
                             "env:CENTRALI_TEST_NOT_WHSEC"},
                            env);
  CHECK(malformed.exit_code == 2);
  CHECK(malformed.err.find("not-a-whsec-secret") == std::string::npos);
  CHECK(json::parse(centrali({"--store", store, "--json", "webhooks", "list"}).out).size() == 1);
}

TEST_CASE("webhooks rotate-secret --secret file:PATH signs with the file's secret", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url());
  const std::string secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
  std::ofstream(dir.str("secret")) << secret << "\n";
  auto rotated = centrali({"--store", store, "--json", "webhooks", "rotate-secret", hook.id, "--secret",
                           "file:" + dir.str("secret")});
  INFO(rotated.err);
  REQUIRE(rotated.exit_code == 0);
  CHECK(rotated.out.find(secret) == std::string::npos);
  emit(store, "order.created", "{}");
  REQUIRE(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  REQUIRE(ep.requests().size() == 1);
  CHECK(standard_webhooks_valid(secret, ep.requests().at(0)));
  CHECK(standard_webhooks_valid(hook.secret, ep.requests().at(0)));  // the old one still signs for 24 h
}

TEST_CASE("cancel stops a pending delivery - cancelling a finished one exits 1", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  RefusingPort down;
  add_webhook(store, down.url("/down"), {"--retry-schedule", "1h"});
  emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);  // waits for nothing due later
  auto d = deliveries(store)[0];
  CHECK(d["status"] == "pending");
  CHECK(centrali({"--store", store, "deliveries", "cancel", d["id"]}).exit_code == 0);
  CHECK(deliveries(store)[0]["status"] == "cancelled");
  CHECK(centrali({"--store", store, "deliveries", "cancel", d["id"]}).exit_code == 1);
}

TEST_CASE("removing a webhook keeps its deliveries under its id - a pending one fails saying its webhook was removed", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  RefusingPort down;
  auto hook = add_webhook(store, down.url("/down"), {"--retry-schedule", "2s"});
  emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);  // the retry waits, pending
  auto pending = deliveries(store, {"--status", "pending"});
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["webhook_id"] == hook.id);
  const std::string id = pending[0]["id"];
  CHECK(centrali({"--store", store, "webhooks", "rm", hook.id}).exit_code == 0);
  // A support engineer still finds the removed webhook's log by its id.
  CHECK(deliveries(store, {"--webhook", hook.id}).size() == 1);
  CHECK(show_delivery(store, id)["webhook_removed"] == true);
  auto human = centrali({"--store", store, "deliveries", "show", id});
  CHECK(human.out.find(hook.id + " (removed)") != std::string::npos);
  // Its turn comes: it fails for good with the reason, its first attempt kept.
  CHECK(centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "10s"}).exit_code == 1);
  auto shown = show_delivery(store, id);
  CHECK(shown["status"] == "failed");
  CHECK(shown["webhook_id"] == hook.id);
  CHECK(shown["last_error"].get<std::string>().find("webhook of this delivery was removed") != std::string::npos);
  CHECK(shown["next_attempt_at"].is_null());
  CHECK(shown["attempts"] == 2);
  REQUIRE(shown["attempt_log"].size() == 2);
  CHECK(shown["attempt_log"][1]["error"].get<std::string>().find("was removed") != std::string::npos);
  CHECK(deliveries(store, {"--status", "pending"}).empty());
  CHECK(deliveries(store, {"--status", "failed"}).size() == 1);
}

TEST_CASE("a hanging endpoint does not delay deliveries to a healthy one", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  // The slow endpoint holds every request until the test lets go, so the
  // fast one can only get its deliveries if the hung ones do not take every
  // sender. No timing is asserted: only what arrived while the slow one hung.
  std::atomic<bool> release{false};
  Endpoint slow([&](int, const httplib::Request&, httplib::Response&) {
    for (int i = 0; i < 2400 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  Endpoint fast;
  add_webhook(store, slow.url(), {"--timeout", "60s", "--retry-schedule", "none"});
  add_webhook(store, fast.url());
  Listen l(store);
  for (int i = 0; i < 40; ++i) emit(store, "order.created", "{}");
  // Generous on a loaded machine: the slow endpoint holds its requests for
  // up to 120 s, so waiting 60 s here cannot let a starved sender through.
  for (int i = 0; i < 3000 && fast.requests().size() < 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(fast.requests().size() == 40);
  CHECK_FALSE(release.load());
  release = true;
}

TEST_CASE("HTTPS endpoints are verified - a self-signed server fails unless the webhook is --insecure", "[cli][webhooks]")
{
  TempDir dir;
  auto key = dir.str("key.pem"), cert = dir.str("cert.pem");
  auto made = run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                   "-days", "1", "-subj", "/CN=127.0.0.1"});
  REQUIRE(made.exit_code == 0);
  httplib::SSLServer tls(cert.c_str(), key.c_str());
  REQUIRE(tls.is_valid());
  std::atomic<int> got{0};
  tls.Post("/hook", [&](const httplib::Request&, httplib::Response& res) {
    ++got;
    res.status = 204;
  });
  int port = tls.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { tls.listen_after_bind(); });
  auto store = dir.store();
  auto url = "https://127.0.0.1:" + std::to_string(port) + "/hook";
  auto strict = add_webhook(store, url, {"--retry-schedule", "none"});
  auto r = centrali({"--store", store, "--json", "webhooks", "test", strict.id});
  CHECK(r.exit_code == 5);
  CHECK_THAT(r.out, Catch::Contains("certificate"));
  CHECK(got == 0);
  auto lax = add_webhook(store, url, {"--insecure"});
  CHECK(centrali({"--store", store, "webhooks", "test", lax.id}).exit_code == 0);
  CHECK(got == 1);
  tls.stop();
  serving.join();
}

TEST_CASE("deliveries tail follows attempts as NDJSON", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url());
  Background tail({centrali_binary(), "--store", store, "--json", "deliveries", "tail"});
  // --json says nothing when it is ready: it is once it shows a probe (a
  // `webhooks test` attempt) made after it started.
  std::optional<std::string> line;
  for (int i = 0; i < 40 && !line; ++i) {
    REQUIRE(centrali({"--store", store, "webhooks", "test", hook.id}).exit_code == 0);
    line = tail.read_line(std::chrono::milliseconds(500));
  }
  REQUIRE(line);  // else: tail showed no attempt in 20 s
  CHECK(json::parse(*line)["trigger"] == "test");
  emit(store, "order.created", "{}");
  REQUIRE(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  json j;
  for (int i = 0; i < 100; ++i) {  // the probes still on their way, then ours
    line = tail.read_line(std::chrono::seconds(10));
    REQUIRE(line);
    j = json::parse(*line);
    if (j["trigger"] != "test") break;
  }
  CHECK(j["response_status"] == 200);
  CHECK(j["trigger"] == "scheduled");
}

TEST_CASE("a webhook failing for longer than --disable-after is disabled with the reason", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([](int, const httplib::Request&, httplib::Response& res) { res.status = 500; });
  auto hook = add_webhook(store, ep.url(), {"--retry-schedule", "50ms,50ms", "--disable-after", "10ms"});
  emit(store, "order.paid", "{}");
  centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "5s"});
  auto show = json::parse(centrali({"--store", store, "--json", "webhooks", "show", hook.id}).out);
  CHECK(show["active"] == false);
  CHECK_THAT(show["disabled_reason"].get<std::string>(), Catch::Contains("failing continuously since"));
  // The failed attempts before it was disabled are all in the log.
  auto log = show_delivery(store, deliveries(store)[0]["id"])["attempt_log"];
  CHECK(log.size() >= 2);
}

TEST_CASE("dispatch delivers everything and exits while nobody reads its output", "[cli][webhooks]")
{
  // With -v each attempt is a line on stderr, here a pipe that is never
  // read: it fills after a few hundred lines. Printing must hold up neither
  // the deliveries nor the exit.
  constexpr int k_events = 1500;  // about 150 KB of lines
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  add_webhook(store, ep.url());
  store_local_events(store, "order.created", k_events);  // a process per `events emit` would be slow
  int log_pipe[2];
  REQUIRE(pipe2(log_pipe, O_CLOEXEC) == 0);
  RunOptions options;
  options.stderr_fd = log_pipe[1];
  Background dispatch({centrali_binary(), "--store", store, "-v", "dispatch", "--until-idle"}, options);
  ::close(log_pipe[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!dispatch.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(dispatch.exited());
  CHECK(dispatch.stop(SIGTERM) == 0);  // the exit status, once exited
  CHECK(ep.requests().size() == k_events);
  CHECK(deliveries(store, {"--status", "succeeded"}).size() == k_events);
  // The reader comes back: what was printed is there.
  char buf[4096];
  auto n = ::read(log_pipe[0], buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK_THAT(std::string(buf, static_cast<std::size_t>(n)), Catch::Contains("200"));
  ::close(log_pipe[0]);
}

TEST_CASE("headers centrali sets cannot be added as custom headers - every send path sends one of each", "[sqlite][cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  for (const char* header : {"Content-Length: 5", "transfer-encoding: chunked", "Host: evil.test", "Connection: close",
                             "Content-Type: text/plain", "User-Agent: other/1", "webhook-id: x", "Centrali-Signature: v1,x"}) {
    auto r = centrali({"--store", store, "webhooks", "add", "--url", ep.url(), "--events", "*", "--header", header});
    INFO(header);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cannot be overridden") != std::string::npos);
  }
  auto hook = add_webhook(store, ep.url(), {"--header", "X-Tenant: 42"});
  CHECK(centrali({"--store", store, "webhooks", "update", hook.id, "--header", "Content-Length: 5"}).exit_code == 2);
  // A store written before the check may hold one: it is never sent.
  {
    SQLite::Database db(store, SQLite::OPEN_READWRITE);
    db.exec(R"(UPDATE webhooks SET headers = '[["Content-Length","5"],["webhook-id","x"],["X-Tenant","42"]]')");
  }
  CHECK(centrali({"--store", store, "webhooks", "test", hook.id}).exit_code == 0);
  emit(store, "order.created", R"({"n":1})");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  auto id = deliveries(store, {"--type", "order.created"})[0]["id"].get<std::string>();
  CHECK(centrali({"--store", store, "webhooks", "resend", id}).exit_code == 0);
  auto got = ep.requests();
  REQUIRE(got.size() == 3);
  for (const auto& req : got) {
    CHECK(req.get_header_value_count("webhook-id") == 1);
    CHECK(req.get_header_value_count("Content-Length") == 1);
    CHECK(req.get_header_value("X-Tenant") == "42");
    CHECK(json::parse(req.body)["type"].is_string());  // the whole envelope arrived
    CHECK(standard_webhooks_valid(hook.secret, req));
  }
  // The log shows what was sent: no Content-Length: 5.
  const auto shown = show_delivery(store, id);  // named: a range-for over a temporary's member dangles
  for (const auto& attempt : shown["attempt_log"])
    for (const auto& h : attempt["request_headers"]) CHECK(h[0] != "Content-Length");
}

TEST_CASE("resend --to sends a copy that settles nothing - the delivery keeps retrying its own endpoint", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> status{500};
  Endpoint down([&](int, const httplib::Request&, httplib::Response& res) { res.status = status; });
  Endpoint elsewhere([&](int n, const httplib::Request&, httplib::Response& res) { res.status = n == 1 ? 200 : 410; });
  auto hook = add_webhook(store, down.url(), {"--retry-schedule", "1h"});
  emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  auto before = deliveries(store)[0];
  REQUIRE(before["status"] == "pending");
  const std::string id = before["id"];
  // A 2xx from elsewhere: logged, but the delivery is still pending for its endpoint.
  auto copy = centrali({"--store", store, "--json", "webhooks", "resend", id, "--to", elsewhere.url()});
  INFO(copy.err);
  CHECK(copy.exit_code == 0);
  auto after = show_delivery(store, id);
  CHECK(after["status"] == "pending");
  CHECK(after["next_attempt_at"] == before["next_attempt_at"]);
  CHECK(after["last_status"] == 500);
  CHECK(after["attempts"] == 2);
  CHECK(after["attempt_log"][1]["url"] == elsewhere.url());
  // A 410 from elsewhere disables nothing.
  CHECK(centrali({"--store", store, "webhooks", "resend", id, "--to", elsewhere.url()}).exit_code == 1);
  auto w = json::parse(centrali({"--store", store, "--json", "webhooks", "show", hook.id}).out);
  CHECK(w["active"] == true);
  CHECK(show_delivery(store, id)["status"] == "pending");
  // Resent to its own endpoint, a 2xx does settle it.
  status = 200;
  CHECK(centrali({"--store", store, "webhooks", "resend", id}).exit_code == 0);
  CHECK(show_delivery(store, id)["status"] == "succeeded");
}

TEST_CASE("a removed webhook's delivery is not resent or replayed - nothing is recorded", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto gone = add_webhook(store, ep.url());
  auto kept = add_webhook(store, ep.url());
  emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  REQUIRE(deliveries(store).size() == 2);
  std::string orphan = deliveries(store, {"--webhook", gone.id})[0]["id"];
  CHECK(centrali({"--store", store, "webhooks", "rm", gone.id}).exit_code == 0);
  for (auto extra : {std::vector<std::string>{}, std::vector<std::string>{"--to", ep.url()}}) {
    std::vector<std::string> args{"--store", store, "webhooks", "resend", orphan};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = centrali(args);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("was removed") != std::string::npos);
  }
  auto shown = show_delivery(store, orphan);
  CHECK(shown["status"] == "succeeded");
  CHECK(shown["attempts"] == 1);
  auto dry = centrali({"--store", store, "--json", "webhooks", "replay", "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(json::parse(dry.out)["matched"] == 1);
  CHECK(json::parse(dry.out)["skipped_removed_webhook"] == 1);
  auto r = centrali({"--store", store, "webhooks", "replay"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("1 delivery of removed webhooks left out") != std::string::npos);
  CHECK(ep.requests().size() == 3);  // two first sends, one replay to the kept webhook
  CHECK(show_delivery(store, orphan)["attempts"] == 1);
}

TEST_CASE("a resent or replayed test delivery is still marked as a test", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  std::atomic<int> status{500};
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = status; });
  auto hook = add_webhook(store, ep.url());
  CHECK(centrali({"--store", store, "webhooks", "test", hook.id, "--type", "order.created"}).exit_code == 1);
  status = 200;
  CHECK(centrali({"--store", store, "webhooks", "replay", "--status", "failed"}).exit_code == 0);
  std::string id = deliveries(store)[0]["id"];
  CHECK(centrali({"--store", store, "webhooks", "resend", id}).exit_code == 0);
  auto got = ep.requests();
  REQUIRE(got.size() == 3);
  for (const auto& req : got) CHECK(req.get_header_value("Centrali-Test-Event") == "true");
  // A real event's resend is not marked.
  emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  REQUIRE(ep.requests().size() == 4);
  CHECK(!ep.requests()[3].has_header("Centrali-Test-Event"));
}

TEST_CASE("a 410 answer to webhooks test says the webhook is now disabled", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) { res.status = 410; });
  auto hook = add_webhook(store, ep.url());
  auto r = centrali({"--store", store, "webhooks", "test", hook.id});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("webhook " + hook.id + " is now disabled") != std::string::npos);
  // Said by the answer that turned it off, not again by the next.
  auto again = centrali({"--store", store, "--json", "webhooks", "test", hook.id});
  CHECK(json::parse(again.out)["webhook_disabled"].is_null());
  CHECK(centrali({"--store", store, "webhooks", "enable", hook.id}).exit_code == 0);
  auto j = centrali({"--store", store, "--json", "webhooks", "test", hook.id});
  CHECK(json::parse(j.out)["webhook_disabled"].get<std::string>().find("410") != std::string::npos);
}

TEST_CASE("webhook options refuse empty values instead of reading them as defaults", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  auto hook = add_webhook(store, ep.url(), {"--header", "X-Tenant: 42"});
  auto base = std::vector<std::string>{"--store", store, "webhooks"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    return centrali(args);
  };
  CHECK(run({"update", hook.id, "--events", ""}).exit_code == 2);
  CHECK(run({"update", hook.id, "--url", ""}).exit_code == 2);
  CHECK(run({"update", hook.id, "--retry-schedule", ""}).exit_code == 2);
  CHECK(run({"add", "--url", ep.url(), "--events", "a,,b"}).exit_code == 2);
  CHECK(run({"add", "--url", ep.url(), "--events", "a,\x1b[31mb"}).exit_code == 2);
  CHECK(run({"test", hook.id, "--type", ""}).exit_code == 2);
  CHECK(run({"test", hook.id, "--data", ""}).exit_code == 2);
  CHECK(ep.requests().empty());
  auto w = json::parse(centrali({"--store", store, "--json", "webhooks", "show", hook.id}).out);
  CHECK(w["events"] == "order.*");
  CHECK(w["retry_schedule"] == "30s,2m,10m,30m");
  // Spaces around commas are fine; --clear-headers drops the custom headers.
  CHECK(run({"update", hook.id, "--events", "order.*, refund.*", "--clear-headers"}).exit_code == 0);
  w = json::parse(centrali({"--store", store, "--json", "webhooks", "show", hook.id}).out);
  CHECK(w["headers"].empty());
  CHECK(run({"update", hook.id, "--clear-headers", "--header", "X-A: 1"}).exit_code == 2);
  // update --help shows no defaults: options left out keep their value.
  auto help = run({"update", "--help"});
  CHECK(help.out.find("[default: 15s]") == std::string::npos);
}

TEST_CASE("control characters from senders reach the terminal only as escapes", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep([&](int, const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Evil", "a\x1b]52;c;AAAA\x07");
    res.set_content(std::string("line1\n\x1b[2J\x1b[Hgone\xc2\x9b" "31m"), "text/plain");
  });
  add_webhook(store, ep.url());
  CHECK(centrali({"--store", store, "events", "emit", "order.\x1b[31mred", "--data", "{}"}).exit_code == 2);
  emit(store, "order.created", "{}");
  CHECK(centrali({"--store", store, "dispatch", "--until-idle"}).exit_code == 0);
  std::string id = deliveries(store)[0]["id"];
  auto shown = centrali({"--store", store, "deliveries", "show", id});
  CHECK(shown.exit_code == 0);
  CHECK(shown.out.find('\x1b') == std::string::npos);
  CHECK(shown.out.find('\x07') == std::string::npos);
  CHECK(shown.out.find("\xc2\x9b") == std::string::npos);
  CHECK(shown.out.find("\\x1b[2J") != std::string::npos);
  CHECK(shown.out.find("line1\n") != std::string::npos);  // the body keeps its lines
  // --json keeps the exact bytes (JSON escapes them).
  auto j = show_delivery(store, id);
  CHECK(j["attempt_log"][0]["response_body"].get<std::string>().find("\x1b[2J") != std::string::npos);
}

TEST_CASE("replay refuses an empty time range and an unknown webhook instead of replaying nothing", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint ep;
  add_webhook(store, ep.url());
  auto range = centrali({"--store", store, "webhooks", "replay", "--since", "1h", "--until", "2h"});
  CHECK(range.exit_code == 2);
  CHECK(range.err.find("is not before --until") != std::string::npos);
  auto unknown = centrali({"--store", store, "webhooks", "replay", "--webhook", "whk_nope"});
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err.find("no webhook with the id or name 'whk_nope'") != std::string::npos);
  // A date alone is accepted as its midnight.
  CHECK(centrali({"--store", store, "webhooks", "replay", "--since", "2026-01-01", "--dry-run"}).exit_code == 0);
  CHECK(ep.requests().empty());
}

TEST_CASE("a new webhook URL retargets its pending retries and replays - attempts keep the URL they went to",
          "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  Endpoint typo([](int, const httplib::Request&, httplib::Response& res) { res.status = 404; });
  Endpoint fixed;
  auto hook = add_webhook(store, typo.url(), {"--retry-schedule", "200ms"});
  emit(store, "order.paid", "{}");
  centrali({"--store", store, "dispatch", "--until-idle"});  // the first attempt fails; the retry is not due yet
  REQUIRE(typo.requests().size() == 1);
  auto u = centrali({"--store", store, "webhooks", "update", hook.id, "--url", fixed.url()});
  INFO(u.err);
  REQUIRE(u.exit_code == 0);
  auto d = deliveries(store)[0];
  CHECK(d["url"] == fixed.url());
  auto r = centrali({"--store", store, "dispatch", "--until-idle", "--timeout", "10s"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(typo.requests().size() == 1);
  REQUIRE(fixed.requests().size() == 1);
  CHECK(standard_webhooks_valid(hook.secret, fixed.requests()[0]));
  auto log = show_delivery(store, d["id"])["attempt_log"];
  REQUIRE(log.size() == 2);
  CHECK(log[0]["url"] == typo.url());
  CHECK(log[1]["url"] == fixed.url());
  // A settled delivery is not rewritten, but sending it again follows the
  // webhook too: resend, replay and what replay --dry-run shows.
  Endpoint moved;
  REQUIRE(centrali({"--store", store, "webhooks", "update", hook.id, "--url", moved.url()}).exit_code == 0);
  auto dry = centrali({"--store", store, "--json", "webhooks", "replay", "--webhook", hook.id, "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(json::parse(dry.out)["deliveries"][0]["url"] == moved.url());
  auto replay = centrali({"--store", store, "webhooks", "replay", "--webhook", hook.id});
  CHECK(replay.exit_code == 0);
  CHECK(centrali({"--store", store, "webhooks", "resend", d["id"]}).exit_code == 0);
  CHECK(moved.requests().size() == 2);
  CHECK(fixed.requests().size() == 1);
  CHECK(typo.requests().size() == 1);
  auto replayed = show_delivery(store, d["id"])["attempt_log"][2];
  CHECK(replayed["trigger"] == "replay");
  CHECK(replayed["url"] == moved.url());
}

TEST_CASE("webhooks add and rotate-secret print the bare secret when piped, as a script captures it", "[cli][webhooks]")
{
  TempDir dir;
  auto store = dir.store();
  auto added = centrali({"--store", store, "webhooks", "add", "--url", "http://127.0.0.1:9/hook", "--events", "*"});
  REQUIRE(added.exit_code == 0);
  auto nl = added.out.find('\n');
  auto id = added.out.substr(0, nl);
  auto secret = added.out.substr(nl + 1, added.out.find('\n', nl + 1) - nl - 1);
  CHECK(id.starts_with("whk_"));
  CHECK(secret.starts_with("whsec_"));
  auto rotated = centrali({"--store", store, "webhooks", "rotate-secret", id});
  REQUIRE(rotated.exit_code == 0);
  CHECK(rotated.out.starts_with("whsec_"));
  CHECK(rotated.out.find("secret:") == std::string::npos);
}

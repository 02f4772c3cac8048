// Binary tests of what a stranger can do to a developer's machine through
// the listener's port or a webhook's contents: crash it, fill its disk, burn
// its CPU, write to its terminal, learn its configuration. Each case is a
// finding of the security review (issue 29), shown against the real binary.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <httplib.h>

#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

int port_of(const std::string& url)
{
  return std::stoi(url.substr(url.rfind(':') + 1));
}

// Sends `wire` on a fresh connection and reads until the server closes.
std::string send_raw(const std::string& url, const std::string& wire)
{
  int fd = connect_loopback(port_of(url));
  REQUIRE(fd >= 0);
  REQUIRE(::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(wire.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

std::string nested(std::size_t levels)
{
  return std::string(levels, '[') + std::string(levels, ']');
}

std::uintmax_t store_bytes(const std::string& store)
{
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    auto n = std::filesystem::file_size(store + suffix, ec);
    if (!ec) total += n;
  }
  return total;
}

} // namespace

TEST_CASE("a body nested 50,000 levels deep is refused with 400 and the listener stays up", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  cli_ok(store, {"triggers", "add", "echo", "--on", "endpoint", "--path", "/echo", "--run", "cat"});
  cli_ok(store, {"triggers", "add", "every", "--on", "event", "--events", "*", "--run", "cat >/dev/null"});
  Listen l(store);
  const auto deep = nested(50'000);

  auto ingested = post(l.url(), "/ingest/open", deep);
  CHECK(ingested.status == 400);
  CHECK(json::parse(ingested.body)["error"] == "json_too_deep");
  auto endpoint = post(l.url(), "/endpoints/echo", deep);
  CHECK(endpoint.status == 400);
  CHECK(json::parse(endpoint.body)["error"] == "json_too_deep");
  // Unclosed brackets are refused the same way.
  CHECK(post(l.url(), "/ingest/open", std::string(50'000, '[')).status == 400);

  // Still serving, and a normal body still reaches the trigger.
  CHECK(get(l.url(), "/healthz").status == 200);
  CHECK(post(l.url(), "/ingest/open", R"({"type":"ok","a":[[[1]]]})").status == 202);
  CHECK(post(l.url(), "/endpoints/echo", nested(200)).status == 200);
  CHECK_FALSE(l.process().exited());

  // The refusal is stored, and showing it does not recurse either.
  auto refused = cli_json(store, {"events", "list", "--status", "rejected"});
  REQUIRE(refused.size() == 2);
  for (const auto& e : refused) {
    CHECK_THAT(e["reason"].get<std::string>(), Catch::Contains("nested deeper than 256 levels"));
    auto id = e["id"].get<std::string>();
    auto shown = centrali({"--store", store, "events", "show", id});
    CHECK(shown.exit_code == 0);
    CHECK(centrali({"--store", store, "--json", "events", "show", id}).exit_code == 0);
  }
}

TEST_CASE("an imported event with a 50,000-level body is shown and replayed as text, without a crash", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  const auto deep = nested(50'000);
  json fixture = {{"id", "evt_01J0000000000000000000DEEP"}, {"source", "open"},   {"type", "deep"},
                  {"status", "accepted"},                 {"received_at", "2026-01-01T00:00:00Z"},
                  {"headers", json::array()},             {"body", deep}};
  {
    std::ofstream(dir.str("deep.ndjson")) << fixture.dump() << "\n";
  }
  cli_ok(store, {"events", "import", dir.str("deep.ndjson")});
  auto shown = centrali({"--store", store, "events", "show", "evt_01J0000000000000000000DEEP"});
  INFO(shown.err);
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::Contains("[[[["));
  auto as_json = cli_json(store, {"events", "show", "evt_01J0000000000000000000DEEP"});
  CHECK(as_json["body"] == deep);

  Receiver app;
  auto replayed = centrali({"--store", store, "events", "replay", "evt_01J0000000000000000000DEEP", "--to", app.url()});
  INFO(replayed.err);
  CHECK(replayed.exit_code == 0);
  REQUIRE(app.wait_for(1));
  CHECK(app.received()[0].body == deep);  // exact bytes, never parsed on the way
}

TEST_CASE("event types from the network are cut to 200 bytes with control characters neutralised", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  // The function echoes the type it was given in its environment (a 300 KB
  // one used to fail with "Argument list too long").
  cli_ok(store, {"triggers", "add", "seen", "--on", "event", "--events", "*", "--run", "printf '%s' \"$CENTRALI_EVENT_TYPE\""});
  Receiver erp;
  cli_ok(store, {"webhooks", "add", "--url", erp.url(), "--events", "*", "--retry-schedule", "none"});
  Listen l(store);

  const std::string raw_type = "order.paid\r\nX-Injected: yes\x1b[2J" + std::string(300'000, 'x');
  auto id = json::parse(post(l.url(), "/ingest/open", json{{"type", raw_type}}.dump()).body)["id"].get<std::string>();
  const std::string expected = "order.paid__X-Injected:_yes_[2J" + std::string(200 - 31, 'x');
  REQUIRE(expected.size() == 200);
  CHECK(cli_json(store, {"events", "show", id})["type"] == expected);

  // The outbound webhook carries it as one header, nothing injected.
  REQUIRE(erp.wait_for(1));
  auto got = erp.received()[0];
  CHECK(got.headers.find("X-Injected") == got.headers.end());
  auto header = got.headers.find("Centrali-Event-Type");
  REQUIRE(header != got.headers.end());
  CHECK(header->second == expected);

  // The trigger ran and saw the same type.
  json runs;
  for (int i = 0; i < 100; ++i) {
    runs = cli_json(store, {"triggers", "runs", "seen"});
    if (!runs.empty() && runs[0]["status"] != "queued" && runs[0]["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["status"] == "completed");
  auto run = cli_json(store, {"triggers", "runs", "show", runs[0]["id"].get<std::string>()});
  CHECK(run["output"] == expected);
}

TEST_CASE("the listen log escapes what a sender puts in a path, so it cannot forge lines or drive the terminal", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  Listen l(store);
  auto answer = send_raw(l.url(), "POST /ingest/x%0d%0a23:59:59%20202%20POST%20FORGED%1b%5b2J%1b%5d0;pwned%07%00 HTTP/1.1\r\n"
                                  "Host: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 404 "));
  CHECK(l.process().stop(SIGTERM) == 0);
  auto log = l.process().err();
  INFO(log);
  CHECK_THAT(log, Catch::Contains("x\\x0d\\n23:59:59"));
  CHECK(log.find('\x1b') == std::string::npos);
  CHECK(log.find('\x07') == std::string::npos);
  CHECK(log.find('\0') == std::string::npos);
  CHECK(log.find("\n23:59:59 202") == std::string::npos);  // no line of the sender's making
}

TEST_CASE("requests no source took keep no body, other refusals keep 64 KiB, so strangers cannot fill the disk", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  Listen l(store);
  const std::string megabyte(1 << 20, 'a');
  CHECK(post(l.url(), "/ingest/stripe", "{}").status == 401);  // the store has grown to its working size
  const auto before = store_bytes(store);
  for (int i = 0; i < 5; ++i) CHECK(post(l.url(), "/ingest/does-not-exist", megabyte).status == 404);
  CHECK(post(l.url(), "/ingest/stripe", megabyte, {{"Stripe-Signature", "t=1,v1=00"}}).status == 401);
  const auto after = store_bytes(store);
  INFO("store grew by " << (after - before) << " bytes");
  CHECK(after - before < 512 * 1024);  // five 1 MB bodies used to add 12 MB

  auto refused = cli_json(store, {"events", "list", "--status", "rejected"});
  REQUIRE(refused.size() == 7);
  for (const auto& e : refused) {
    auto full = cli_json(store, {"events", "show", e["id"].get<std::string>()});
    if (e["http_status"] == 404) {
      CHECK(full["body_bytes"] == 0);
      CHECK_THAT(full["reason"].get<std::string>(), Catch::Contains("body of 1048576 bytes not kept"));
    } else if (full["reason"].get<std::string>().find("1048576") != std::string::npos) {
      CHECK(full["body_bytes"] == 64 * 1024);
      CHECK_THAT(full["reason"].get<std::string>(), Catch::Contains("first 64 KiB kept"));
    }
  }
}

TEST_CASE("a 401 tells the sender nothing of the source's configuration - the store keeps it and events show diagnoses", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "misconfigured", "--provider", "standard", "--secret", "env:CENTRALI_TEST_BAD_SECRET"});
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  RunOptions env;
  env.env["CENTRALI_TEST_BAD_SECRET"] = "whsec_!!not-base64!!";
  Listen l(store, {}, env);

  const std::string body = R"({"type":"invoice.paid"})";
  auto signed_headers = sign("standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body);
  auto answer = post(l.url(), "/ingest/misconfigured", body, signed_headers);
  CHECK(answer.status == 401);
  CHECK(json::parse(answer.body)["reason"] == "the signature could not be verified");
  auto stored = cli_json(store, {"events", "list", "--source", "misconfigured"});
  REQUIRE(stored.size() == 1);
  CHECK_THAT(stored[0]["reason"].get<std::string>(), Catch::Contains("not valid base64"));

  // A signature over the body with a newline the request lost: the sender
  // hears only that it failed, `events show` says why.
  auto stripe_answer = post(l.url(), "/ingest/stripe", body, sign("stripe", "whsec_test_secret", body + "\n"));
  CHECK(stripe_answer.status == 401);
  CHECK(stripe_answer.body.find("hint") == std::string::npos);
  auto id = cli_json(store, {"events", "list", "--source", "stripe"})[0]["id"].get<std::string>();
  auto shown = centrali({"--store", store, "events", "show", id});
  CHECK_THAT(shown.out, Catch::Contains("hint: the signature matches the body with a trailing newline added"));
  auto hints = cli_json(store, {"events", "show", id})["hints"];
  REQUIRE(hints.size() == 1);
  CHECK_THAT(hints[0].get<std::string>(), Catch::Contains("trailing newline"));
}

TEST_CASE("events prune deletes old refusals with their deliveries and keeps events still in use", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  {
    Listen l(store);
    for (int i = 0; i < 3; ++i) CHECK(post(l.url(), "/ingest/stripe", std::string(100'000, 'a')).status == 401);
  }
  // One event whose webhook delivery failed for good, one still pending.
  Receiver down;
  down.status = 500;
  cli_ok(store, {"webhooks", "add", "--url", down.url(), "--events", "done.*", "--retry-schedule", "none"});
  cli_ok(store, {"webhooks", "add", "--url", down.url(), "--events", "waiting.*", "--retry-schedule", "1h"});
  cli_ok(store, {"events", "emit", "done.one"});
  cli_ok(store, {"events", "emit", "waiting.one"});
  centrali({"--store", store, "dispatch", "--until-idle"});

  auto dry = cli_json(store, {"events", "prune", "--before", "0s", "--status", "rejected", "--dry-run"});
  CHECK(dry["events"] == 3);
  CHECK(cli_json(store, {"events", "list", "--status", "rejected"}).size() == 3);

  auto rejected = cli_json(store, {"events", "prune", "--before", "0s", "--status", "rejected"});
  CHECK(rejected["events"] == 3);
  CHECK(cli_json(store, {"events", "list", "--status", "rejected"}).empty());

  auto rest = cli_json(store, {"events", "prune", "--before", "0s"});
  CHECK(rest["events"] == 1);  // done.one, with its failed delivery
  CHECK(rest["deliveries"] == 1);
  CHECK(rest["kept"] == 1);    // waiting.one has a pending retry
  auto left = cli_json(store, {"events", "list"});
  REQUIRE(left.size() == 1);
  CHECK(left[0]["type"] == "waiting.one");
  CHECK(cli_json(store, {"deliveries", "list"}).size() == 1);

  // Nothing newer than --before goes.
  CHECK(cli_json(store, {"events", "prune", "--before", "1h"})["events"] == 0);
  auto missing = centrali({"--store", store, "events", "prune"});
  CHECK(missing.exit_code == 2);
}

TEST_CASE("a web page cannot reach the listener - a foreign Host or Origin gets 403 and nothing runs or is stored", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  cli_ok(store, {"triggers", "add", "hook", "--on", "endpoint", "--path", "/hook", "--run", "cat"});
  Listen l(store);
  auto request = [&](const std::string& path, const std::string& headers) {
    return send_raw(l.url(), "POST " + path + " HTTP/1.1\r\n" + headers +
                                 "Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  };
  // DNS rebinding: the page's own name, now resolving to 127.0.0.1.
  auto rebound = request("/ingest/open", "Host: attacker.example:" + std::to_string(port_of(l.url())) + "\r\n");
  CHECK_THAT(rebound, Catch::StartsWith("HTTP/1.1 403 "));
  CHECK_THAT(rebound, Catch::Contains("host_not_allowed"));
  // A cross-site form post names the loopback host but carries its Origin.
  auto cross_site = request("/endpoints/hook", "Host: 127.0.0.1\r\nOrigin: https://attacker.example\r\n");
  CHECK_THAT(cross_site, Catch::StartsWith("HTTP/1.1 403 "));
  CHECK_THAT(cross_site, Catch::Contains("origin_not_allowed"));
  CHECK_THAT(request("/ingest/open", "Host: 127.0.0.1\r\nOrigin: null\r\n"), Catch::StartsWith("HTTP/1.1 403 "));
  CHECK(cli_json(store, {"events", "list"}).empty());
  CHECK(cli_json(store, {"triggers", "runs"}).empty());

  // What RFC 9112 requires of a Host header, and absolute-form targets.
  CHECK_THAT(request("/ingest/open", ""), Catch::StartsWith("HTTP/1.1 400 "));
  CHECK_THAT(request("/ingest/open", "Host: localhost\r\nHost: localhost\r\n"), Catch::StartsWith("HTTP/1.1 400 "));
  CHECK_THAT(request("/ingest/open", "Host: bad host\r\n"), Catch::StartsWith("HTTP/1.1 400 "));
  CHECK_THAT(request(l.url() + "/ingest/open", "Host: attacker.example\r\n"), Catch::StartsWith("HTTP/1.1 202 "));

  // Loopback names and the developer's own app on another port are served.
  CHECK_THAT(request("/ingest/open", "Host: localhost:" + std::to_string(port_of(l.url())) + "\r\n"),
             Catch::StartsWith("HTTP/1.1 202 "));
  CHECK_THAT(request("/endpoints/hook", "Host: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n"),
             Catch::StartsWith("HTTP/1.1 200 "));
  CHECK(cli_json(store, {"events", "list"}).size() == 2);
}

TEST_CASE("listen --allow-host serves a tunnel's public name", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  Listen l(store, {"--allow-host", "abc.tunnel.example", "--allow-host", ".trycloudflare.com"});
  for (const char* host : {"abc.tunnel.example", "x-y.trycloudflare.com"}) {
    INFO(host);
    auto answer = send_raw(l.url(), std::string("POST /ingest/open HTTP/1.1\r\nHost: ") + host +
                                        "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 202 "));
  }
  auto other = send_raw(l.url(), "POST /ingest/open HTTP/1.1\r\nHost: other.example\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  CHECK_THAT(other, Catch::StartsWith("HTTP/1.1 403 "));
  CHECK(l.process().stop(SIGTERM) == 0);
  CHECK_THAT(l.process().err(), Catch::Contains("Host 'other.example' is not allowed (see --allow-host)"));
}

TEST_CASE("an inbound webhook cannot pass for a record change or for a local event", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  auto reserved = centrali({"--store", store, "sources", "add", "local", "--provider", "none"});
  CHECK(reserved.exit_code == 2);
  CHECK_THAT(reserved.err, Catch::Contains("reserved"));
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  cli_ok(store, {"triggers", "add", "orders", "--on", "event", "--events", "record_*", "--collection", "orders", "--run", "cat"});
  Listen l(store);
  CHECK(post(l.url(), "/ingest/local", R"({"type":"record_created"})").status == 404);
  CHECK(post(l.url(), "/ingest/open", R"({"type":"record_created","collection":"orders","id":"rec_x","data":{}})").status == 202);
  cli_ok(store, {"records", "create", "orders", "--data", R"({"total":1})"});
  json runs;
  for (int i = 0; i < 100; ++i) {
    runs = cli_json(store, {"triggers", "runs", "orders"});
    if (!runs.empty() && runs[0]["status"] == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Absence has no condition to poll for: this is the window a second,
  // wrong run would have to show up in.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  runs = cli_json(store, {"triggers", "runs", "orders"});
  REQUIRE(runs.size() == 1);  // the record change only
  CHECK(cli_json(store, {"events", "show", runs[0]["event_id"].get<std::string>()})["source"] == "local");
}

TEST_CASE("functions do not inherit the variables that hold sources' secrets, and triggers show hides --env values", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "env:CENTRALI_TEST_STRIPE_SECRET"});
  cli_ok(store, {"triggers", "add", "peek", "--on", "endpoint", "--path", "/peek", "--env", "API_KEY=sk_live_123", "--run",
                 "printf '%s|%s' \"${CENTRALI_TEST_STRIPE_SECRET-unset}\" \"$API_KEY\""});
  RunOptions env;
  env.env["CENTRALI_TEST_STRIPE_SECRET"] = "whsec_test_secret";
  Listen l(store, {}, env);
  auto answer = post(l.url(), "/endpoints/peek", "{}");
  CHECK(answer.status == 200);
  CHECK(answer.body == "unset|sk_live_123");

  auto shown = centrali({"--store", store, "triggers", "show", "peek"});
  CHECK(shown.out.find("sk_live_123") == std::string::npos);
  CHECK_THAT(shown.out, Catch::Contains("API_KEY=[redacted]"));
  CHECK(cli_json(store, {"triggers", "show", "peek"})["env"]["API_KEY"] == "[redacted]");
}

TEST_CASE("tokens in URLs and response cookies are redacted where people and logs see them", "[cli][security]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  auto with_password = centrali({"--store", store, "webhooks", "add", "--url", "https://ops:hunter2@erp.example/hook", "--events", "*"});
  CHECK(with_password.exit_code == 2);
  CHECK(with_password.err.find("hunter2") == std::string::npos);

  httplib::Server receiver;
  receiver.Post("/hook", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Set-Cookie", "session=s3cr3t; HttpOnly");
    res.status = 200;
  });
  int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { receiver.listen_after_bind(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook?token=tok_abc&order=1";
  cli_ok(store, {"webhooks", "add", "--url", url, "--events", "*"});
  {
    Listen l(store);
    CHECK(post(l.url(), "/ingest/open?api_key=key_abc", R"({"type":"a"})").status == 202);
    auto deliveries = json();
    for (int i = 0; i < 100; ++i) {
      deliveries = cli_json(store, {"deliveries", "list"});
      if (!deliveries.empty() && deliveries[0]["status"] == "succeeded") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(deliveries.size() == 1);
    CHECK(l.process().stop(SIGTERM) == 0);
    auto log = l.process().err();
    INFO(log);
    CHECK(log.find("key_abc") == std::string::npos);
    CHECK(log.find("tok_abc") == std::string::npos);
    CHECK_THAT(log, Catch::Contains("api_key=[redacted]"));

    auto id = deliveries[0]["id"].get<std::string>();
    auto shown = centrali({"--store", store, "deliveries", "show", id});
    CHECK(shown.out.find("tok_abc") == std::string::npos);
    CHECK(shown.out.find("s3cr3t") == std::string::npos);
    CHECK_THAT(shown.out, Catch::Contains("token=[redacted]&order=1"));
    auto as_json = cli_json(store, {"deliveries", "show", id});
    CHECK(as_json.dump().find("s3cr3t") == std::string::npos);  // never stored
  }
  auto listed = centrali({"--store", store, "webhooks", "list"});
  CHECK(listed.out.find("tok_abc") == std::string::npos);
  receiver.stop();
  serving.join();
}

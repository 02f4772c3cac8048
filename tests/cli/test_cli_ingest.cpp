// Binary tests of ingestion: a real `centrali listen` on port 0, real HTTP
// requests signed with `centrali sign`, and what landed in the store.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <SQLiteCpp/Database.h>

#include "independent_signatures.hpp"
#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"
#include "wait.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

const std::string k_standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

void add_source(const std::string& store, std::vector<std::string> args)
{
  std::vector<std::string> full{"--store", store, "sources", "add"};
  full.insert(full.end(), args.begin(), args.end());
  auto r = centrali(full);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string queued_id(const Sent& sent)
{
  INFO(sent.body);
  REQUIRE(sent.status == 202);
  auto j = json::parse(sent.body);
  REQUIRE(j["status"] == "queued");
  return j["id"].get<std::string>();
}

} // namespace

TEST_CASE("listen prints its bound URL first and answers /healthz", "[cli][ingest]")
{
  TempDir dir;
  Listen l(dir.store());
  CHECK_THAT(l.url(), Catch::StartsWith("http://127.0.0.1:"));
  auto h = get(l.url(), "/healthz");
  CHECK(h.status == 200);
  auto j = json::parse(h.body);
  CHECK(j["status"] == "ok");
  CHECK(j.contains("version"));
  CHECK_FALSE(j.contains("store"));  // no path for whoever can reach the port
  CHECK(get(l.url(), "/nope").status == 404);
}

TEST_CASE("ingest accepts a request signed by every provider and stores its type", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"std", "--provider", "standard", "--secret", k_standard_secret});
  add_source(store, {"sv", "--provider", "svix", "--secret", k_standard_secret});
  add_source(store, {"clerk", "--provider", "clerk", "--secret", k_standard_secret});
  add_source(store, {"stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  add_source(store, {"gh", "--provider", "github", "--secret", "It's a Secret to Everybody"});
  add_source(store, {"shop", "--provider", "shopify", "--secret", "shpss_test_secret"});
  add_source(store, {"slack", "--provider", "slack", "--secret", "8f742231b10e8888abcd99yyyzzz85a5"});
  add_source(store, {"tw", "--provider", "twilio", "--secret", "12345"});
  add_source(store, {"open", "--provider", "none"});
  Listen l(store);

  struct Case {
    std::string source, scheme, secret, body, expected_type;
    std::vector<std::pair<std::string, std::string>> extra_headers;
    std::string content_type = "application/json";
  };
  std::vector<Case> cases = {
      {"std", "standard", k_standard_secret, R"({"type":"invoice.paid","data":{"n":1.10}})", "invoice.paid", {}},
      {"sv", "svix", k_standard_secret, R"({"type":"message.sent"})", "message.sent", {}},
      {"clerk", "clerk", k_standard_secret, R"({"type":"user.created","data":{}})", "user.created", {}},
      {"stripe", "stripe", "whsec_test_secret", R"({"id":"evt_1","object":"event","type":"payment_intent.succeeded"})",
       "payment_intent.succeeded", {}},
      {"gh", "github", "It's a Secret to Everybody", R"({"action":"opened","number":1})", "issues.opened",
       {{"X-GitHub-Event", "issues"}, {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}}},
      {"shop", "shopify", "shpss_test_secret", R"({"id":820982911946154508})", "orders/create",
       {{"X-Shopify-Topic", "orders/create"}, {"X-Shopify-Event-Id", "ev-1"}}},
      {"slack", "slack", "8f742231b10e8888abcd99yyyzzz85a5",
       R"({"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}})", "app_mention", {}},
      {"tw", "twilio", "12345", "CallSid=CA123&From=%2B14158675309&To=%2B18005551212", "webhook", {},
       "application/x-www-form-urlencoded"},
  };
  for (const auto& c : cases) {
    SECTION(c.source)
    {
      std::vector<std::string> extra;
      if (c.scheme == "twilio") extra = {"--url", l.url() + "/ingest/tw"};
      auto headers = sign(c.scheme, c.secret, c.body, extra);
      headers.insert(headers.end(), c.extra_headers.begin(), c.extra_headers.end());
      auto id = queued_id(post(l.url(), "/ingest/" + c.source, c.body, headers, c.content_type));
      auto ev = cli_json(store, {"events", "show", id});
      CHECK(ev["status"] == "accepted");
      CHECK(ev["source"] == c.source);
      CHECK(ev["type"] == c.expected_type);
      CHECK(ev["body"] == c.body);  // exact bytes, never re-serialised
      CHECK(ev["http_status"] == 202);
    }
  }
  SECTION("none")
  {
    auto id = queued_id(post(l.url(), "/ingest/open", "plain text", {{"X-Event-Type", "custom.thing"}}, "text/plain"));
    CHECK(cli_json(store, {"events", "show", id})["type"] == "custom.thing");
  }
}

TEST_CASE("ingest answers each failure with its status and records the request", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"std", "--provider", "standard", "--secret", k_standard_secret});
  add_source(store, {"gh", "--provider", "github", "--secret", "gh-secret"});
  Listen l(store, {"--max-body", "1000"});
  std::string body = R"({"type":"a.b"})";

  SECTION("bad signature -> 401 with a reason")
  {
    auto headers = sign("standard", "whsec_" + std::string("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="), body);
    auto r = post(l.url(), "/ingest/std", body, headers);
    CHECK(r.status == 401);
    auto j = json::parse(r.body);
    CHECK(j["error"] == "invalid_signature");
    CHECK_FALSE(j["reason"].get<std::string>().empty());
  }
  SECTION("missing signature -> 401")
  {
    auto r = post(l.url(), "/ingest/gh", body);
    CHECK(r.status == 401);
    CHECK_THAT(json::parse(r.body)["reason"].get<std::string>(), Catch::Contains("X-Hub-Signature-256"));
  }
  SECTION("stale timestamp -> 401")
  {
    auto headers = sign("standard", k_standard_secret, body, {"--timestamp", "1000000000"});
    auto r = post(l.url(), "/ingest/std", body, headers);
    CHECK(r.status == 401);
    CHECK_THAT(json::parse(r.body)["reason"].get<std::string>(), Catch::Contains("tolerance"));
  }
  SECTION("unknown source -> 404")
  {
    auto r = post(l.url(), "/ingest/nobody", body);
    CHECK(r.status == 404);
    CHECK(json::parse(r.body)["error"] == "unknown_source");
  }
  SECTION("wrong method -> 405")
  {
    auto r = get(l.url(), "/ingest/std");
    CHECK(r.status == 405);
    CHECK(json::parse(r.body)["error"] == "method_not_allowed");
  }
  SECTION("body over --max-body -> 413")
  {
    std::string big(5000, 'x');
    auto r = post(l.url(), "/ingest/std", big);
    CHECK(r.status == 413);
  }
  SECTION("headers over 64 KiB -> 431")
  {
    std::vector<std::pair<std::string, std::string>> headers;
    for (int i = 0; i < 20; ++i) headers.emplace_back("X-Filler-" + std::to_string(i), std::string(4000, 'a'));
    auto r = post(l.url(), "/ingest/std", body, headers);
    CHECK(r.status == 431);
  }
  SECTION("a JSON provider with a non-JSON body -> 400")
  {
    std::string text = "not json at all";
    auto headers = sign("standard", k_standard_secret, text);
    auto r = post(l.url(), "/ingest/std", text, headers);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"] == "invalid_json");
  }
  // Whatever the failure, it was recorded as rejected, and nothing accepted.
  auto rejected = cli_json(store, {"events", "list", "--status", "rejected"});
  CHECK(rejected.size() == 1);
  CHECK_FALSE(rejected[0]["reason"].get<std::string>().empty());
  CHECK(cli_json(store, {"events", "list", "--status", "accepted"}).empty());
}

TEST_CASE("ingest answers never leak internals, whatever fails inside", "[sqlite][cli][ingest]")
{
  // Each case makes something deep inside fail for real (SQLite refuses a
  // write, a secret file is gone, a secret is not a key, a variable is
  // unset) and checks, first, that the listener's log
  // shows the internal text (so the failure did happen and there was text
  // to leak) and then that the answer holds only the documented code.
  TempDir dir;
  auto store = dir.store();
  const std::string secret_file = dir.str("stripe-secret.txt");
  const std::string garbled_file = dir.str("garbled-secret.txt");
  std::ofstream(secret_file) << "whsec_gone\n";
  std::ofstream(garbled_file) << k_standard_secret << "\n";
  add_source(store, {"open", "--provider", "none"});
  add_source(store, {"gone", "--provider", "stripe", "--secret", "file:" + secret_file});
  add_source(store, {"garbled", "--provider", "standard", "--secret", "file:" + garbled_file});
  add_source(store, {"unset", "--provider", "github", "--secret", "env:CENTRALI_TEST_NEVER_SET_SECRET"});
  // Broken after `sources add`, which would refuse them.
  std::filesystem::remove(secret_file);
  std::ofstream(garbled_file) << "whsec_!!!not-base64!!!\n";
  RunOptions options;
  options.unset_env = {"CENTRALI_TEST_NEVER_SET_SECRET"};
  Listen l(store, {}, options);

  const std::vector<std::string> internals = {"SQLITE", "sqlite", "database", "locked", "std::", "what()",
                                              "exception", "terminate", "environment variable",
                                              "CENTRALI_TEST_NEVER_SET_SECRET", "cannot read", "base64",
                                              "whsec_", dir.str(), "stripe-secret.txt", "garbled-secret.txt"};
  auto no_internals = [&](const Sent& sent, int status, const std::string& code) {
    INFO("status " << sent.status << ", body: " << sent.body);
    CHECK(sent.status == status);
    for (const auto& text : internals) {
      INFO("internal text: " << text);
      CHECK(sent.body.find(text) == std::string::npos);
      for (const auto& [name, value] : sent.headers) CHECK(value.find(text) == std::string::npos);
    }
    auto j = json::parse(sent.body);
    CHECK(j["error"] == code);
    return j;
  };
  const std::string body = R"({"type":"a.b","id":"evt_1"})";
  // The log is written by its own thread, so a line may follow the answer.
  auto logged = [&](const std::string& text) {
    return wait_until([&] { return l.process().err().find(text) != std::string::npos; });
  };

  SECTION("a store write that fails inside SQLite: 503 store_unavailable, the sender retries")
  {
    // A trigger makes SQLite refuse the insert with a message full of the
    // kind of text that must not reach a sender (an SQLite error, a path).
    const std::string sqlite_text = "SQLITE_CORRUPT: database disk image is malformed in " + store;
    // The running listener may hold the write lock a moment (its fan-out, say): wait for it.
    {
      SQLite::Database db(store, SQLite::OPEN_READWRITE);
      db.setBusyTimeout(10'000);
      db.exec("CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, '" + sqlite_text +
              "'); END");
    }
    no_internals(post(l.url(), "/ingest/open", body), 503, "store_unavailable");
    CHECK(logged(sqlite_text));  // the log says why
    {
      SQLite::Database db(store, SQLite::OPEN_READWRITE);
      db.setBusyTimeout(10'000);
      db.exec("DROP TRIGGER refuse_events");
    }
    CHECK(post(l.url(), "/ingest/open", body).status == 202);
  }
  SECTION("an unreadable secret file: 500 source_misconfigured without the path or the cause")
  {
    auto j = no_internals(post(l.url(), "/ingest/gone", body, {{"Stripe-Signature", "t=1,v1=00"}}), 500,
                          "source_misconfigured");
    CHECK_FALSE(j.contains("reason"));
    CHECK(logged(secret_file));
  }
  SECTION("an unset env: secret: 500 source_misconfigured without the variable")
  {
    no_internals(post(l.url(), "/ingest/unset", body, {{"X-Hub-Signature-256", "sha256=00"}}), 500,
                 "source_misconfigured");
    CHECK(logged("CENTRALI_TEST_NEVER_SET_SECRET"));
  }
  SECTION("a secret that is no key: 401 saying only that the signature could not be verified")
  {
    auto headers = sign("standard", k_standard_secret, body);
    auto j = no_internals(post(l.url(), "/ingest/garbled", body, headers), 401, "invalid_signature");
    CHECK(j["reason"] == "the signature could not be verified");
    // The stored reason, for the owner, says what is wrong with the secret.
    auto rejected = cli_json(store, {"events", "list", "--status", "rejected", "--source", "garbled"});
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0]["reason"] != "the signature could not be verified");
  }
  SECTION("input that reaches the parsers: too deep, NUL bytes, bad UTF-8, not HTTP")
  {
    no_internals(post(l.url(), "/ingest/open", std::string(5000, '[') + std::string(5000, ']')), 400,
                 "json_too_deep");
    auto headers = sign("standard", k_standard_secret, "x");
    for (const auto& weird : {std::string("{\"type\":\"a\0b\"}", 13), std::string("{\"type\":\"\xff\xfe\"}"),
                              std::string("\0\0\0", 3), std::string("{\"type\":") + std::string(3000, '{')}) {
      auto sent = post(l.url(), "/ingest/open", weird);
      INFO("body: " << weird.substr(0, 40) << " -> " << sent.status << " " << sent.body);
      CHECK((sent.status == 202 || sent.status == 400));
      for (const auto& text : internals) CHECK(sent.body.find(text) == std::string::npos);
    }
    // A request line no parser accepts is refused before any source.
    int port = std::stoi(l.url().substr(l.url().rfind(':') + 1));
    int fd = connect_loopback(port);
    REQUIRE(fd >= 0);
    const std::string garbage = "P\x01ST /ingest/open HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}";
    REQUIRE(::write(fd, garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
    std::string answer;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    INFO(answer);
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 400"));
    for (const auto& text : internals) CHECK(answer.find(text) == std::string::npos);
  }
}

TEST_CASE("ingest answers a repeated delivery id with the original event and stores a duplicate", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"std", "--provider", "standard", "--secret", k_standard_secret});
  Listen l(store);
  std::string body = R"({"type":"order.created"})";
  auto headers = sign("standard", k_standard_secret, body, {"--id", "msg_same"});
  auto first = queued_id(post(l.url(), "/ingest/std", body, headers));
  auto again = post(l.url(), "/ingest/std", body, headers);
  CHECK(again.status == 200);
  auto j = json::parse(again.body);
  CHECK(j["status"] == "duplicate");
  CHECK(j["id"] == first);
  CHECK(cli_json(store, {"events", "list", "--status", "accepted"}).size() == 1);
  auto dups = cli_json(store, {"events", "list", "--status", "duplicate"});
  REQUIRE(dups.size() == 1);
  CHECK(dups[0]["duplicate_of"] == first);
}

TEST_CASE("ingest verifies a chunked upload and a pipelined one on a kept-alive connection on their exact bytes", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"std", "--provider", "standard", "--secret", k_standard_secret});
  Listen l(store);
  std::string body = R"({"type":"order.created","data":{"note":"caf\u00e9 \u2603"}})";
  std::string head;
  for (const auto& [name, value] : sign("standard", k_standard_secret, body, {"--id", "msg_chunked"}))
    head += name + ": " + value + "\r\n";
  std::string second_head;
  for (const auto& [name, value] : sign("standard", k_standard_secret, body, {"--id", "msg_plain"}))
    second_head += name + ": " + value + "\r\n";
  auto half = body.size() / 2;
  auto hex = [](std::size_t n) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
    return std::string(buf, end);
  };
  std::string wire = "POST /ingest/std HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + head +
                     "Transfer-Encoding: chunked\r\n\r\n" + hex(half) + "\r\n" + body.substr(0, half) + "\r\n" +
                     hex(body.size() - half) + "\r\n" + body.substr(half) + "\r\n0\r\n\r\n" +
                     "POST /ingest/std HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + second_head +
                     "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  auto port = std::stoi(l.url().substr(l.url().rfind(':') + 1));
  int fd = connect_loopback(port);
  REQUIRE(fd >= 0);
  REQUIRE(::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(wire.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  INFO(answer);
  // Both answered 202 in order, then the server closed as asked.
  auto first = answer.find("HTTP/1.1 202 ");
  REQUIRE(first != std::string::npos);
  CHECK(answer.find("HTTP/1.1 202 ", first + 1) != std::string::npos);
  auto events = cli_json(store, {"events", "list", "--status", "accepted"});
  REQUIRE(events.size() == 2);
  for (const auto& e : events) {
    auto raw = centrali({"--store", store, "events", "show", e["id"].get<std::string>(), "--raw"});
    CHECK(raw.out == body);
  }
}

TEST_CASE("ingest stores credentials in headers redacted", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  Listen l(store);
  auto id = queued_id(post(l.url(), "/ingest/open", "{}",
                           {{"Authorization", "Bearer sk_live_very_secret"}, {"Cookie", "session=abc"}}));
  auto show = centrali({"--store", store, "events", "show", id, "--json"});
  CHECK(show.out.find("sk_live_very_secret") == std::string::npos);
  CHECK(show.out.find("session=abc") == std::string::npos);
  CHECK(show.out.find("[redacted]") != std::string::npos);
}

TEST_CASE("events export then import into a new store keeps every byte", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.str("a.db");
  add_source(store, {"open", "--provider", "none"});
  std::string binary("\x00\xff\xfe binary \x01\x80", 14);
  std::string text = "{\"type\":\"t\",\"n\":1.10,\"big\":12345678901234567890}";
  std::vector<std::string> ids;
  {
    Listen l(store);
    ids.push_back(queued_id(post(l.url(), "/ingest/open", binary, {}, "application/octet-stream")));
    ids.push_back(queued_id(post(l.url(), "/ingest/open", text)));
  }
  auto exported = centrali({"--store", store, "events", "export"});
  REQUIRE(exported.exit_code == 0);
  std::ofstream(dir.str("events.ndjson")) << exported.out;
  auto other = dir.str("b.db");
  auto imported = centrali({"--store", other, "--json", "events", "import", dir.str("events.ndjson")});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK(json::parse(imported.out)["imported"] == 2);
  CHECK(centrali({"--store", other, "events", "show", ids[0], "--raw"}).out == binary);
  CHECK(centrali({"--store", other, "events", "show", ids[1], "--raw"}).out == text);
  // Importing again changes nothing.
  auto again = centrali({"--store", other, "--json", "events", "import", dir.str("events.ndjson")});
  CHECK(json::parse(again.out)["skipped_existing"] == 2);
  // A malformed line is reported with its number, the rest still imported.
  std::ofstream(dir.str("bad.ndjson")) << "{oops\n";
  auto bad = centrali({"--store", other, "events", "import", dir.str("bad.ndjson")});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("line 1"));
}

TEST_CASE("events replay re-sends the stored headers and exact body and logs the attempt", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"std", "--provider", "standard", "--secret", k_standard_secret});
  std::string body = R"({"type":"invoice.paid","amount":1.10})";
  std::string id;
  std::vector<std::pair<std::string, std::string>> headers;
  {
    Listen l(store);
    headers = sign("standard", k_standard_secret, body);
    id = queued_id(post(l.url(), "/ingest/std", body, headers));
  }
  Receiver app;
  auto r = centrali({"--store", store, "events", "replay", id, "--to", app.url("/webhooks")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto got = app.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == body);
  // The app can verify it: the provider's message id, signed again now.
  auto header = [&](const char* name) { return got[0].headers.find(name)->second; };
  CHECK(header("webhook-id") == headers[0].second);
  CHECK(standard_webhooks_valid(k_standard_secret, header("webhook-id"), header("webhook-timestamp"),
                                header("webhook-signature"), got[0].body, 5));
  auto ev = cli_json(store, {"events", "show", id});
  REQUIRE(ev["deliveries"].size() == 1);
  CHECK(ev["deliveries"][0]["status"] == "succeeded");

  app.status = 500;
  auto failed = centrali({"--store", store, "events", "replay", id, "--to", app.url("/webhooks")});
  CHECK(failed.exit_code == 1);
  RefusingPort nobody;
  auto down = centrali({"--store", store, "events", "replay", id, "--to", nobody.url("/x")});
  CHECK(down.exit_code == 5);
  CHECK(centrali({"--store", store, "events", "replay", "evt_01HZZZZZZZZZZZZZZZZZZZZZZZ", "--to", app.url()})
            .exit_code == 3);
}

TEST_CASE("listen forwards to an app that is down, then delivers once it comes up", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  RefusingPort app_port;  // the app's port, refusing until it comes up
  REQUIRE(app_port.port() > 0);
  Listen l(store, {"--forward-to", app_port.url()});
  std::string body = R"({"type":"x.y","exact":1.10})";
  auto id = queued_id(post(l.url(), "/ingest/open", body, {{"X-Custom", "kept"}}));
  // The first try was refused before the app starts.
  REQUIRE(wait_until([&] {
    auto ev = cli_json(store, {"events", "show", id});
    return ev["deliveries"].size() == 1 && ev["deliveries"][0]["attempts"].get<int>() >= 1;
  }));
  Receiver app(app_port.port());  // the app starts late, on the same port
  REQUIRE(app.wait_for(1, std::chrono::seconds(15)));
  auto got = app.received();
  CHECK(got[0].body == body);
  CHECK(got[0].headers.find("X-Custom")->second == "kept");
  CHECK(got[0].headers.find("Centrali-Event-Id")->second == id);
  // The failed first try and the success are both in the log (recorded just
  // after the response, so give a loaded machine a moment).
  json ev;
  wait_until([&] {
    ev = cli_json(store, {"events", "show", id});
    return ev["deliveries"].size() == 1 && ev["deliveries"][0]["status"] == "succeeded";
  });
  REQUIRE(ev["deliveries"].size() == 1);
  CHECK(ev["deliveries"][0]["status"] == "succeeded");
  CHECK(ev["deliveries"][0]["attempts"].get<int>() >= 2);
  // The forward is found by kind; it is no webhook's delivery.
  auto forwards = cli_json(store, {"deliveries", "list", "--kind", "forward"});
  REQUIRE(forwards.size() == 1);
  CHECK(forwards[0]["event_id"] == id);
  CHECK(cli_json(store, {"deliveries", "list", "--kind", "webhook"}).empty());
  CHECK(centrali({"--store", store, "deliveries", "list", "--kind", "other"}).exit_code == 2);
}

TEST_CASE("listen on SIGTERM finishes in-flight requests, commits them and exits 0", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  Listen l(store);
  std::atomic<int> acked{0};
  std::atomic<bool> go{true};
  std::vector<std::thread> senders;
  std::mutex ids_mutex;
  std::vector<std::string> ids;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&] {
      httplib::Client c(l.url());
      while (go) {
        auto res = c.Post("/ingest/open", "{\"type\":\"load\"}", "application/json");
        if (!res) break;
        if (res->status == 202) {
          std::lock_guard lock(ids_mutex);
          ids.push_back(json::parse(res->body)["id"]);
          ++acked;
        }
      }
    });
  const bool loaded = wait_until([&] { return acked >= 50; }, std::chrono::seconds(60), std::chrono::milliseconds(5));
  CHECK(l.process().stop(SIGTERM) == 0);
  go = false;
  for (auto& t : senders) t.join();
  REQUIRE(loaded);  // else: fewer than 50 requests acknowledged in a minute
  auto stored = cli_json(store, {"events", "list", "--limit", "0"});
  std::set<std::string> have;
  for (const auto& e : stored) have.insert(e["id"].get<std::string>());
  for (const auto& id : ids) CHECK(have.count(id) == 1);
}

TEST_CASE("listen killed with SIGKILL under load loses no acknowledged event", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  Listen l(store);
  std::atomic<int> acked{0};
  std::mutex ids_mutex;
  std::vector<std::string> ids;
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t)
    senders.emplace_back([&] {
      httplib::Client c(l.url());
      c.set_read_timeout(5, 0);
      while (true) {
        auto res = c.Post("/ingest/open", "{\"type\":\"load\"}", "application/json");
        if (!res) break;  // the listener is gone
        if (res->status == 202) {
          std::lock_guard lock(ids_mutex);
          ids.push_back(json::parse(res->body)["id"]);
          ++acked;
        }
      }
    });
  const bool loaded = wait_until([&] { return acked >= 300; }, std::chrono::seconds(60), std::chrono::milliseconds(2));
  kill(l.process().pid(), SIGKILL);
  for (auto& t : senders) t.join();
  REQUIRE(loaded);  // else: fewer than 300 requests acknowledged in a minute
  auto stored = cli_json(store, {"events", "list", "--limit", "0"});
  std::set<std::string> have;
  for (const auto& e : stored) have.insert(e["id"].get<std::string>());
  INFO(ids.size() << " acknowledged, " << have.size() << " stored");
  for (const auto& id : ids) REQUIRE(have.count(id) == 1);
}

TEST_CASE("sources add, list, show and rm - bad input is refused with exit 2", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"stripe", "--provider", "stripe", "--secret", "whsec_abc123", "--tolerance", "10m"});
  auto list = cli_json(store, {"sources", "list"});
  REQUIRE(list.size() == 1);
  CHECK(list[0]["name"] == "stripe");
  CHECK(list[0]["tolerance_s"] == 600);
  auto show = centrali({"--store", store, "sources", "show", "stripe"});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("whsec_abc123") == std::string::npos);  // secrets are shown only when created
  CHECK(centrali({"--store", store, "sources", "add", "stripe", "--provider", "stripe", "--secret", "x"}).exit_code == 1);
  CHECK(centrali({"--store", store, "sources", "add", "x", "--provider", "nope", "--secret", "x"}).exit_code == 2);
  CHECK(centrali({"--store", store, "sources", "add", "x", "--provider", "github"}).exit_code == 2);
  CHECK(centrali({"--store", store, "sources", "add", "bad/name", "--provider", "none"}).exit_code == 2);
  auto bad_secret = centrali({"--store", store, "sources", "add", "sv", "--provider", "svix", "--secret", "whsec_!!!"});
  CHECK(bad_secret.exit_code == 2);
  CHECK(centrali({"--store", store, "sources", "rm", "stripe"}).exit_code == 0);
  CHECK(centrali({"--store", store, "sources", "show", "stripe"}).exit_code == 3);
  CHECK(centrali({"--store", store, "sources", "rm", "stripe"}).exit_code == 3);
}

TEST_CASE("events list filters by type glob, status, source and since - show of a missing id exits 3", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  {
    Listen l(store);
    for (auto type : {"invoice.paid", "invoice.payment_failed", "customer.created"})
      queued_id(post(l.url(), "/ingest/open", std::string("{\"type\":\"") + type + "\"}"));
  }
  CHECK(cli_json(store, {"events", "list", "--type", "invoice.*"}).size() == 2);
  CHECK(cli_json(store, {"events", "list", "--type", "customer.created"}).size() == 1);
  CHECK(cli_json(store, {"events", "list", "--source", "open", "--since", "1h"}).size() == 3);
  CHECK(cli_json(store, {"events", "list", "--limit", "1"}).size() == 1);
  auto newest = cli_json(store, {"events", "list"});
  CHECK(newest[0]["type"] == "customer.created");
  CHECK(centrali({"--store", store, "events", "list", "--since", "banana"}).exit_code == 2);
  CHECK(centrali({"--store", store, "events", "show", "evt_01HZZZZZZZZZZZZZZZZZZZZZZZ"}).exit_code == 3);
}

TEST_CASE("events tail --json prints each new event as one JSON line", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  Listen l(store);
  queued_id(post(l.url(), "/ingest/open", R"({"type":"old"})"));  // before tail: not shown
  Background tail({centrali_binary(), "--store", store, "--json", "events", "tail"});
  // --json says nothing when it is ready: it is once it shows a probe
  // sent after it started (probes until one shows).
  std::optional<std::string> line;
  for (int i = 0; i < 80 && !line; ++i) {
    queued_id(post(l.url(), "/ingest/open", R"({"type":"probe"})"));
    line = tail.read_line(std::chrono::milliseconds(250));
  }
  REQUIRE(line);  // else: tail showed no new event in 20 s
  CHECK(json::parse(*line)["type"] == "probe");
  auto id = queued_id(post(l.url(), "/ingest/open", R"({"type":"new.one"})"));
  json j;
  for (int i = 0; i < 100; ++i) {  // the probes still on their way, then ours
    line = tail.read_line(std::chrono::seconds(10));
    REQUIRE(line);
    j = json::parse(*line);
    CHECK(j["type"] != "old");
    if (j["type"] != "probe") break;
  }
  CHECK(j["id"] == id);
  CHECK(j["type"] == "new.one");
  CHECK(j["body"] == R"({"type":"new.one"})");
}

TEST_CASE("listen keeps acknowledging webhooks while nobody reads its log", "[cli][ingest]")
{
  // stderr is a pipe that is never read: it fills after about a thousand
  // log lines. Logging must not stall the event loops that answer.
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  int log_pipe[2];
  REQUIRE(pipe2(log_pipe, O_CLOEXEC) == 0);
  RunOptions options;
  options.stderr_fd = log_pipe[1];
  Listen l(store, {}, options);
  ::close(log_pipe[1]);
  constexpr int k_requests = 3000;  // about 200 KB of log lines
  int acknowledged = 0;
  for (int i = 0; i < k_requests; ++i) {
    auto sent = post(l.url(), "/ingest/open", R"({"type":"order.created","n":)" + std::to_string(i) + "}");
    if (sent.status != 202) {
      INFO("request " << i << " got " << sent.status);
      FAIL_CHECK("not acknowledged");
      break;
    }
    ++acknowledged;
  }
  CHECK(acknowledged == k_requests);
  CHECK(cli_json(store, {"store", "info"})["tables"]["events"] == k_requests);
  // The reader comes back: the log resumes where it stopped.
  char buf[4096];
  auto n = ::read(log_pipe[0], buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK_THAT(std::string(buf, static_cast<std::size_t>(n)), Catch::Contains("POST /ingest/open"));
  ::close(log_pipe[0]);
}

TEST_CASE("a running listener finds a source added after a request to its name was refused", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  Listen listen(store);
  // What a CI script does: start the listener, add the source, send at once.
  CHECK(post(listen.url(), "/ingest/late", R"({"type":"a.b"})").status == 404);
  add_source(store, {"late", "--provider", "none"});
  CHECK(post(listen.url(), "/ingest/late", R"({"type":"a.b"})").status == 202);
}

TEST_CASE("a signed Slack url_verification is stored and answered with its challenge", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
  add_source(store, {"slack", "--provider", "slack", "--secret", secret});
  Listen l(store);
  const std::string body = R"({"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})";
  auto answer = post(l.url(), "/ingest/slack", body, sign("slack", secret, body));
  CHECK(answer.status == 200);
  CHECK(json::parse(answer.body) == json{{"challenge", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}});
  // Unsigned, it is refused like any other request: no challenge leaks.
  auto unsigned_answer = post(l.url(), "/ingest/slack", body);
  CHECK(unsigned_answer.status == 401);
  CHECK(unsigned_answer.body.find("3eZbrw") == std::string::npos);
  auto events = cli_json(store, {"events", "list", "--status", "accepted"});
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "url_verification");
}

TEST_CASE("a bare number too small to be a Unix time is refused as a duration missing its unit", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  auto r = centrali({"--store", store, "events", "list", "--since", "600"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("600s") != std::string::npos);
  CHECK(centrali({"--store", store, "events", "list", "--since", "600s"}).exit_code == 0);
  CHECK(centrali({"--store", store, "events", "list", "--since", "1795000000"}).exit_code == 0);
  CHECK(centrali({"--store", store, "events", "list", "--since", "0"}).exit_code == 0);  // the epoch
  CHECK(centrali({"--store", store, "events", "list", "--since", "000600"}).exit_code == 2);
  CHECK(centrali({"--store", store, "deliveries", "list", "--since", "90"}).exit_code == 2);
}

TEST_CASE("sources update changes a source while listen runs, with no request refused meanwhile", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"std", "--provider", "standard", "--secret", k_standard_secret});
  Listen l(store);
  std::atomic<bool> done{false};
  std::atomic<int> sent{0}, refused{0};
  std::thread sender([&] {
    const std::string body = R"({"type":"ping"})";
    auto headers = sign("standard", k_standard_secret, body);
    while (!done) {
      auto r = post(l.url(), "/ingest/std", body, headers);
      ++sent;
      if (r.status != 202 && r.status != 200) ++refused;  // 200: the same delivery id again
    }
  });
  const std::string other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  for (auto args : std::vector<std::vector<std::string>>{{"--add-secret", other},
                                                         {"--forward-to", "http://127.0.0.1:9/app"},
                                                         {"--tolerance", "600s"},
                                                         {"--no-forward"},
                                                         {"--remove-secret", other}}) {
    std::vector<std::string> full{"--store", store, "sources", "update", "std"};
    full.insert(full.end(), args.begin(), args.end());
    auto r = centrali(full);
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
  const bool enough = wait_until([&] { return sent >= 50; }, std::chrono::seconds(60));
  done = true;
  sender.join();
  REQUIRE(enough);  // else: fewer than 50 requests answered in a minute
  CHECK(refused == 0);
  auto shown = cli_json(store, {"sources", "show", "std"});
  CHECK(shown["secrets"].size() == 1);
  CHECK(shown["tolerance_s"] == 600);
  CHECK(shown["forward_to"].is_null());

  // The last secret cannot go: the source would refuse every request.
  auto last = centrali({"--store", store, "sources", "update", "std", "--remove-secret", k_standard_secret});
  CHECK(last.exit_code == 2);
  CHECK(centrali({"--store", store, "sources", "update", "nope", "--no-forward"}).exit_code == 3);
  CHECK(centrali({"--store", store, "sources", "update", "std"}).exit_code == 2);
}

TEST_CASE("a forward target that leads back to the listener is refused after a few rounds", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"loop", "--provider", "none"});
  // The listener picks its port; the source then forwards to that port.
  Listen l(store);
  cli_ok(store, {"sources", "update", "loop", "--forward-to", l.url() + "/ingest/loop"});
  CHECK(post(l.url(), "/ingest/loop", R"({"type":"a"})").status == 202);
  json refused;
  wait_until([&] {
    refused = cli_json(store, {"events", "list", "--status", "rejected"});
    return !refused.empty();
  });
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["http_status"] == 508);
  // The refused one ends the chain: each accepted event was stored before
  // its forward made the next, so all of them are there now, and no more.
  CHECK(cli_json(store, {"events", "list", "--status", "accepted"}).size() == 5);
}

TEST_CASE("ingest takes JSON nested 256 levels deep and refuses 257 levels with json_too_deep", "[cli][ingest]")
{
  TempDir dir;
  auto store = dir.store();
  add_source(store, {"open", "--provider", "none"});
  Listen l(store);
  auto nested = [](int depth) { return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'); };
  auto at_limit = post(l.url(), "/ingest/open", nested(256));
  INFO(at_limit.body);
  CHECK(at_limit.status == 202);
  auto past = post(l.url(), "/ingest/open", nested(257));
  INFO(past.body);
  CHECK(past.status == 400);
  CHECK(json::parse(past.body)["error"] == "json_too_deep");
}

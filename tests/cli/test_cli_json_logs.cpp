// Binary tests: the machine-readable logs and summaries of the long-running
// commands. `listen --json` logs requests, forwards and deliveries as NDJSON
// on stderr in the shapes centrali-listen(1) documents, with no other kind of
// line; `dispatch --until-idle --json` reports what it left waiting
// (`pending`, `next_due_at`) as the store has it (centrali-dispatch(1)).
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "json_schema.hpp"
#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;
namespace schema = testing::schema;

namespace {

// centrali-listen(1), JSON OUTPUT: a request line.
json request_line_schema()
{
  return json::parse(R"({"type": "object", "properties": {
      "time": {"type": "string", "format": "rfc3339"},
      "status": {"type": "integer"},
      "method": {"type": "string"},
      "path": {"type": "string"},
      "ms": {"type": "number", "minimum": 0},
      "note": {"type": "string"}}})");
}

// centrali-listen(1), JSON OUTPUT: an attempt line (forward or delivery).
// centrali(1): "an attempt's "error" is a string".
json attempt_line_schema()
{
  return json::parse(R"({"type": "object", "properties": {
      "time": {"type": "string", "format": "rfc3339"},
      "delivery": {"type": "string", "prefix": "dlv_"},
      "kind": {"enum": ["webhook", "forward"]},
      "event": {"type": "string", "prefix": "evt_"},
      "url": {"type": "string"},
      "attempt": {"type": "integer", "minimum": 1},
      "response_status": {"type": ["integer", "null"]},
      "error": {"type": "string"},
      "duration_ms": {"type": "integer", "minimum": 0},
      "status": {"enum": ["succeeded", "pending", "failed", "skipped", "cancelled"]}}})");
}

// centrali(1): free text is {"time", "message"}.
json message_line_schema()
{
  return json::parse(R"({"type": "object", "properties": {
      "time": {"type": "string", "format": "rfc3339"}, "message": {"type": "string"}}})");
}


void require_shape(const json& shape, const json& doc)
{
  auto found = schema::problems(shape, doc);
  std::string all;
  for (const auto& p : found) all += "  " + p + "\n";
  INFO("line breaks its documented shape:\n" << all << "line: " << doc.dump());
  CHECK(found.empty());
}

} // namespace

TEST_CASE("listen --json logs requests, forwards and deliveries as documented NDJSON, and nothing else", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  Receiver app;       // the forward target: up
  Receiver failing;   // a webhook's receiver: answers 500
  failing.status = 500;
  RefusingPort down;   // a webhook's receiver: refuses connections
  const std::string refused = "http://127.0.0.1:" + std::to_string(down.port()) + "/down";
  cli_ok(store, {"sources", "add", "open", "--provider", "none", "--forward-to", app.url("/app")});
  cli_ok(store, {"webhooks", "add", "--url", failing.url(), "--events", "order.*", "--retry-schedule", "1h"});
  cli_ok(store, {"webhooks", "add", "--url", refused, "--events", "order.*", "--retry-schedule", "none"});

  Background listen({centrali_binary(), "--store", store, "--json", "listen", "--port", "0"});
  auto first = listen.read_line();
  REQUIRE(first);
  const auto url = json::parse(*first)["url"].get<std::string>();
  auto accepted = post(url, "/ingest/open", R"({"type":"order.created"})");
  REQUIRE(accepted.status == 202);
  const std::string event = json::parse(accepted.body)["id"];
  CHECK(post(url, "/ingest/nope", "{}").status == 404);

  // The three attempts (the forward, the 500, the refused connection) are
  // logged once made.
  // (Counted on the text: the last line may be half written.)
  auto attempts_logged = [&] {
    const auto text = listen.err();
    std::size_t n = 0;
    for (auto at = text.find("\"delivery\""); at != std::string::npos; at = text.find("\"delivery\"", at + 1)) ++n;
    return n;
  };
  for (int i = 0; i < 400 && attempts_logged() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(listen.stop(SIGTERM) == 0);

  const auto log = listen.err();
  INFO("log:\n" << log);
  std::vector<json> requests, attempts, messages;
  for (const auto& l : json_lines(log)) {  // every line is JSON
    if (l.contains("delivery")) attempts.push_back(l);
    else if (l.contains("method")) requests.push_back(l);
    else if (l.contains("message")) messages.push_back(l);
    else FAIL("a line of no documented kind: " << l.dump());
  }
  REQUIRE(requests.size() == 2);
  for (const auto& r : requests) require_shape(request_line_schema(), r);
  CHECK(requests[0]["status"] == 202);
  CHECK(requests[0]["method"] == "POST");
  CHECK(requests[0]["path"] == "/ingest/open");
  CHECK_THAT(requests[0]["note"].get<std::string>(), Catch::StartsWith(event));
  CHECK(requests[1]["status"] == 404);
  for (const auto& m : messages) require_shape(message_line_schema(), m);

  REQUIRE(attempts.size() == 3);
  for (const auto& a : attempts) {
    require_shape(attempt_line_schema(), a);
    CHECK(a["event"] == event);
    CHECK(a["attempt"] == 1);
  }
  auto by_url = [&](const std::string& u) {
    auto it = std::find_if(attempts.begin(), attempts.end(), [&](const json& a) { return a["url"] == u; });
    REQUIRE(it != attempts.end());
    return *it;
  };
  auto forward = by_url(app.url("/app"));
  CHECK(forward["kind"] == "forward");
  CHECK(forward["response_status"] == 200);
  CHECK(forward["error"] == "");
  CHECK(forward["status"] == "succeeded");
  auto answered_500 = by_url(failing.url());
  CHECK(answered_500["kind"] == "webhook");
  CHECK(answered_500["response_status"] == 500);
  CHECK(answered_500["status"] == "pending");  // retried in an hour
  auto unreachable = by_url(refused);
  CHECK(unreachable["response_status"].is_null());
  CHECK_FALSE(unreachable["error"].get<std::string>().empty());
  CHECK(unreachable["status"] == "failed");  // --retry-schedule none
}

TEST_CASE("dispatch --until-idle --json reports the deliveries left waiting and when the next falls due", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  Receiver failing;
  failing.status = 503;
  Receiver ok;
  cli_ok(store, {"webhooks", "add", "--url", failing.url(), "--events", "order.*", "--retry-schedule", "1h,2h"});
  cli_ok(store, {"webhooks", "add", "--url", ok.url(), "--events", "order.*"});
  for (int i = 0; i < 3; ++i) cli_ok(store, {"events", "emit", "order.created", "--data", "{\"n\":" + std::to_string(i) + "}"});

  auto summary = cli_json(store, {"dispatch", "--until-idle"});  // exit 0: nothing failed for good
  INFO(summary.dump());
  CHECK(summary["attempts"] == 6);
  CHECK(summary["succeeded"] == 3);
  CHECK(summary["failed"] == 0);
  CHECK(summary["pending"] == 3);

  // next_due_at is the earliest next attempt the store holds.
  auto pending = cli_json(store, {"deliveries", "list", "--status", "pending"});
  REQUIRE(pending.size() == 3);
  std::vector<std::string> due;
  for (const auto& d : pending) {
    auto shown = cli_json(store, {"deliveries", "show", d["id"].get<std::string>()});
    CHECK(shown["attempts"] == 1);
    due.push_back(shown["next_attempt_at"].get<std::string>());
  }
  std::sort(due.begin(), due.end());  // RFC 3339 UTC sorts as time
  CHECK(summary["next_due_at"] == due.front());
  // ...an hour (±20 %) after the attempt: in the future, not now.
  auto attempted = cli_json(store, {"deliveries", "show", pending[0]["id"].get<std::string>()})["attempt_log"][0];
  CHECK(summary["next_due_at"].get<std::string>() > attempted["started_at"].get<std::string>());

  // What is left shrinks as deliveries leave the queue.
  std::string earliest;
  for (const auto& d : pending)
    if (cli_json(store, {"deliveries", "show", d["id"].get<std::string>()})["next_attempt_at"] == due.front())
      earliest = d["id"];
  REQUIRE_FALSE(earliest.empty());
  cli_ok(store, {"deliveries", "cancel", earliest});
  auto after = cli_json(store, {"dispatch", "--until-idle"});
  INFO(after.dump());
  CHECK(after["attempts"] == 0);  // nothing was due
  CHECK(after["pending"] == 2);
  CHECK(after["next_due_at"] == due[1]);

  // Human output says the same.
  auto human = cli(store, {"dispatch", "--until-idle"});
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("2 pending, next due"));
}

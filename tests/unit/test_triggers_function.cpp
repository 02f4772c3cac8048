#include <catch2/catch.hpp>

#include <cstdlib>

#include "centrali/store/events.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/function.hpp"

using namespace centrali;
using namespace centrali::triggers;
using json = nlohmann::json;

namespace {

store::Trigger trigger(std::string command)
{
  store::Trigger t;
  t.name = "fn";
  t.kind = "demand";
  t.command = std::move(command);
  t.timeout_ms = 10'000;
  return t;
}

} // namespace

TEST_CASE("triggers::run_function sets the CENTRALI_ variables and the trigger's --env", "[triggers]")
{
  auto t = trigger("printf '%s|%s|%s|%s|%s' \"$CENTRALI_RUN_ID\" \"$CENTRALI_TRIGGER\" \"$CENTRALI_EVENT_TYPE\" "
                   "\"$CENTRALI_STORE\" \"$EXTRA\"");
  t.env = {{"EXTRA", "yes"}};
  auto run = run_function(t, json::object(), {"run_1", "order.paid", "/tmp/x/../s.db", {}});
  CHECK(run.result.status == "completed");
  CHECK(run.result.stdout_data == "run_1|fn|order.paid|/tmp/s.db|yes");
  CHECK(run.result.output.empty());  // not JSON
}

TEST_CASE("triggers::run_function reports a missing command and a timeout as such", "[triggers]")
{
  auto missing = run_function(trigger("centrali-no-such-command-xyz"), json::object(), {"run_1", "", "s.db", {}});
  CHECK(missing.result.status == "failure");
  CHECK(missing.result.error == "command not found: centrali-no-such-command-xyz");
  auto t = trigger("missing-too --flag");
  t.exec = true;
  auto exec_missing = run_function(t, json::object(), {"run_2", "", "s.db", {}});
  CHECK(exec_missing.result.status == "failure");
  CHECK(exec_missing.result.error == "command not found: missing-too");
  auto slow = trigger("echo started; sleep 10; echo finished");
  slow.timeout_ms = 200;
  auto timed = run_function(slow, json::object(), {"run_3", "", "s.db", {}});
  CHECK(timed.result.status == "timeout");
  CHECK_THAT(timed.result.error, Catch::Contains("timed out after 200ms"));
  // Stopped at the timeout, not left to finish (how soon: bench/timings.sh).
  CHECK(timed.result.stdout_data == "started\n");
  CHECK(timed.result.ended_ms - timed.result.started_ms >= 200);
}

TEST_CASE("triggers::run_function keeps 1 MiB of a huge output and says it was cut", "[triggers]")
{
  auto run = run_function(trigger("head -c 5000000 /dev/zero | tr '\\0' x"), json::object(), {"run_1", "", "s.db", {}});
  CHECK(run.result.status == "completed");
  CHECK(run.result.stdout_data.size() == k_max_output);
  CHECK(run.stdout_truncated);
  CHECK(run.result.error == "stdout truncated at 1 MiB");
}

TEST_CASE("triggers executionParams: record events carry the record, bodies fall back to text or base64",
          "[triggers]")
{
  store::Event e;
  e.id = "evt_1";
  e.source = "local";
  e.type = "record_updated";
  e.received_ms = 0;
  e.body = R"({"collection":"orders","id":"rec_1","version":2,"data":{"a":2},"before":{"a":1},"after":{"a":2}})";
  auto p = event_params(e);
  CHECK(p["event"]["receivedAt"] == "1970-01-01T00:00:00Z");
  CHECK(p["record"] == json{{"collection", "orders"}, {"id", "rec_1"}, {"version", 2}, {"data", {{"a", 2}}},
                            {"before", {{"a", 1}}}, {"after", {{"a", 2}}}});
  e.source = "github";
  e.type = "push";
  e.body = "not json";
  p = event_params(e);
  CHECK(p["event"]["data"] == "not json");
  CHECK_FALSE(p.contains("record"));
  e.body = std::string("\xff\xfe", 2);
  p = event_params(e);
  CHECK(p["event"]["data"] == "//4=");
  CHECK(p["event"]["dataEncoding"] == "base64");

  auto r = request_params("POST", "/orders", "/endpoints/orders?a=1&b=x%20y&a=2", {{"X-A", "1"}, {"x-a", "2"}},
                          R"({"q":1})");
  CHECK(r["request"]["method"] == "POST");
  CHECK(r["request"]["path"] == "/orders");
  CHECK(r["request"]["query"] == json{{"a", {"1", "2"}}, {"b", "x y"}});
  CHECK(r["request"]["headers"] == json{{"x-a", "1, 2"}});
  CHECK(r["request"]["body"] == json{{"q", 1}});
  CHECK(schedule_params(0, 1500) == json{{"scheduledAt", "1970-01-01T00:00:00Z"}, {"firedAt", "1970-01-01T00:00:01.500Z"}});
  CHECK(stdin_document({{"k", 1}}, demand_params(nullptr)) ==
        "{\"triggerParams\":{\"k\":1},\"executionParams\":{\"data\":null}}\n");
}

TEST_CASE("triggers::run_function withholds the variables that hold sources' secrets", "[triggers]")
{
  ::setenv("CENTRALI_TEST_SOURCE_SECRET", "whsec_listener_only", 1);
  ::setenv("CENTRALI_TEST_HARMLESS", "kept", 1);
  auto t = trigger("printf '%s|%s' \"${CENTRALI_TEST_SOURCE_SECRET-unset}\" \"$CENTRALI_TEST_HARMLESS\"");
  auto run = run_function(t, json::object(), {"run_1", "", "s.db", {"CENTRALI_TEST_SOURCE_SECRET"}});
  CHECK(run.result.stdout_data == "unset|kept");
  // A trigger's own --env of that name is the developer's choice.
  t.env = {{"CENTRALI_TEST_SOURCE_SECRET", "given"}};
  auto given = run_function(t, json::object(), {"run_2", "", "s.db", {"CENTRALI_TEST_SOURCE_SECRET"}});
  CHECK(given.result.stdout_data == "given|kept");
  ::unsetenv("CENTRALI_TEST_SOURCE_SECRET");
  ::unsetenv("CENTRALI_TEST_HARMLESS");
}

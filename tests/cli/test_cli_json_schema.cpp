// Binary tests: whole `--json` documents against the shapes the man pages
// promise (man/src/centrali-*.1.md, JSON OUTPUT), one schema per command.
// Every documented key must be there (absent values are null, never left
// out, centrali(1)), with its documented type; exactly one JSON document on
// stdout, and nothing but JSON lines on stderr.
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
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

// --- the documented shapes ---------------------------------------------------

const json k_time = {{"type", "string"}, {"format", "rfc3339"}};
const json k_time_or_null = {{"type", {"string", "null"}}, {"format", "rfc3339"}};
const json k_string_or_null = {{"type", {"string", "null"}}};
const json k_int_or_null = {{"type", {"integer", "null"}}};
const json k_strings = schema::array_of({{"type", "string"}});
// Headers are [name, value] pairs, in order.
const json k_header_pairs = schema::array_of(
    {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 2}});

json id_of(const std::string& prefix) { return {{"type", "string"}, {"prefix", prefix}}; }

// centrali(1): the error line, exactly this shape.
json error_schema()
{
  return json::parse(R"({
    "type": "object", "additionalProperties": false,
    "properties": {"error": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "kind": {"enum": ["rejected", "usage", "not_found", "store", "network"]},
        "message": {"type": "string"},
        "exit_code": {"type": "integer", "enum": [1, 2, 3, 4, 5]}}}}})");
}

// centrali-sources(1).
json source_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"provider", {{"enum", {"stripe", "github", "shopify", "svix", "clerk", "slack", "twilio", "standard", "none"}}}},
            {"secrets", k_strings},
            {"tolerance_s", k_int_or_null},
            {"forward_to", k_string_or_null},
            {"ingest_path", {{"type", "string"}, {"prefix", "/ingest/"}}},
            {"created_at", k_time}}}};
}

// centrali-events(1): what `list` and `emit` print.
json event_summary_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"id", id_of("evt_")},
            {"source", {{"type", "string"}}},
            {"type", {{"type", "string"}}},
            {"status", {{"enum", {"accepted", "rejected", "duplicate"}}}},
            {"http_status", k_int_or_null},
            {"received_at", k_time},
            {"reason", k_string_or_null},
            {"dedupe_key", k_string_or_null},
            {"duplicate_of", k_string_or_null}}}};
}

// `events show` adds the request, its deliveries and the hints.
json event_schema()
{
  const json delivery_ref = {{"type", "object"},
                             {"properties",
                              {{"id", id_of("dlv_")},
                               {"kind", {{"enum", {"webhook", "forward"}}}},
                               {"url", {{"type", "string"}}},
                               {"status", {{"type", "string"}}},
                               {"attempts", {{"type", "integer"}}},
                               {"last_status", k_int_or_null}}}};
  return schema::extend(event_summary_schema(),
                        {{"method", {{"type", "string"}}},
                         {"path", {{"type", "string"}}},
                         {"remote_addr", {{"type", "string"}}},
                         {"headers", k_header_pairs},
                         {"body_bytes", {{"type", "integer"}, {"minimum", 0}}},
                         {"body", {{"type", "string"}}},
                         {"body_base64", {{"type", "string"}}},
                         {"deliveries", schema::array_of(delivery_ref)},
                         {"hints", k_strings}},
                        {"body", "body_base64"});  // one or the other, checked apart
}

// centrali-webhooks(1).
json webhook_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"id", id_of("whk_")},
            {"name", {{"type", "string"}}},
            {"url", {{"type", "string"}}},
            {"events", {{"type", "string"}}},
            {"filter", k_strings},
            {"active", {{"type", "boolean"}}},
            {"disabled_reason", k_string_or_null},
            {"failing_since", k_time_or_null},
            {"headers", k_header_pairs},
            {"retry_schedule", {{"type", "string"}}},
            {"timeout_ms", {{"type", "integer"}}},
            {"disable_after_ms", {{"type", "integer"}}},
            {"insecure", {{"type", "boolean"}}},
            {"previous_secret_valid_until", k_time_or_null},
            {"created_at", k_time},
            {"updated_at", k_time}}}};
}

// centrali-deliveries(1): what `list` and `cancel` print.
json delivery_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"id", id_of("dlv_")},
            {"kind", {{"enum", {"webhook", "forward"}}}},
            {"event_id", id_of("evt_")},
            {"webhook_id", k_string_or_null},
            {"event_type", {{"type", "string"}}},
            {"url", {{"type", "string"}}},
            {"status", {{"enum", {"pending", "succeeded", "failed", "cancelled", "skipped"}}}},
            {"attempts", {{"type", "integer"}, {"minimum", 0}}},
            {"next_attempt_at", k_time_or_null},
            {"last_status", k_int_or_null},
            {"last_error", k_string_or_null},
            {"created_at", k_time},
            {"updated_at", k_time}}}};
}

// An attempt, as `deliveries tail` prints it and `show` lists them.
json attempt_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"id", id_of("att_")},
            {"delivery_id", id_of("dlv_")},
            {"number", {{"type", "integer"}, {"minimum", 1}}},
            {"trigger", {{"type", "string"}}},
            {"url", {{"type", "string"}}},
            {"started_at", k_time},
            {"duration_ms", {{"type", "integer"}, {"minimum", 0}}},
            {"request_headers", k_header_pairs},
            {"response_status", k_int_or_null},
            {"response_headers", k_header_pairs},
            {"error", k_string_or_null},
            {"response_body", k_string_or_null},
            {"response_body_base64", {{"type", "string"}}},
            {"request_body", k_string_or_null},
            {"request_body_base64", {{"type", "string"}}},
            {"signature", k_string_or_null},
            {"clock_offset_ms", {{"type", "integer"}, {"minimum", 0}}}}},
          {"optional", {"response_body", "response_body_base64", "request_body_base64"}}};
}

// centrali-triggers(1): every trigger, plus an event trigger's keys.
json event_trigger_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"kind", {{"enum", {"event", "schedule", "demand", "endpoint"}}}},
            {"command", {{"type", "string"}}},
            {"exec", {{"type", "boolean"}}},
            {"params", {{"type", "object"}}},
            {"timeout", {{"type", "string"}}},
            {"timeout_ms", {{"type", "integer"}}},
            {"concurrency", {{"type", "integer"}, {"minimum", 1}}},
            {"cwd", k_string_or_null},
            {"env", {{"type", "object"}}},
            {"paused", {{"type", "boolean"}}},
            {"created_at", k_time},
            {"updated_at", k_time},
            {"events", k_strings},
            {"source", k_string_or_null},
            {"collection", k_string_or_null},
            {"where", k_strings}}}};
}

// centrali-triggers(1): a run.
json run_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"id", id_of("run_")},
            {"trigger", {{"type", "string"}}},
            {"status", {{"enum", {"queued", "running", "completed", "failure", "timeout", "cancelled"}}}},
            {"origin", {{"enum", {"event", "schedule", "demand", "endpoint", "rerun"}}}},
            {"event_id", k_string_or_null},
            {"rerun_of", k_string_or_null},
            {"queued_at", k_time},
            {"started_at", k_time_or_null},
            {"ended_at", k_time_or_null},
            {"duration_ms", k_int_or_null},
            {"exit_code", k_int_or_null},
            {"error", k_string_or_null},
            {"output", json::object()}}}};  // any JSON
}

// centrali-automations(1): an automation.
json automation_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"description", k_string_or_null},
            {"trigger", {{"type", "object"}, {"properties", {{"type", {{"enum", {"event", "schedule", "demand", "http"}}}}}}}},
            {"paused", {{"type", "boolean"}}},
            {"steps", schema::array_of({{"type", "object"},
                                        {"properties",
                                         {{"id", {{"type", "string"}}},
                                          {"type", {{"enum", {"compute", "decision", "delay"}}}}}}},
                                       1)},
            {"next_fire_at", k_time_or_null},
            {"created_at", k_time},
            {"updated_at", k_time}}}};
}

// centrali-automations(1): a run in `runs`, `rerun` and `cancel`.
json automation_run_summary_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"id", id_of("arun_")},
            {"automation", {{"type", "string"}}},
            {"status", {{"enum", {"running", "waiting", "completed", "failed", "cancelled"}}}},
            {"origin", {{"enum", {"event", "schedule", "demand", "http", "rerun"}}}},
            {"event_id", k_string_or_null},
            {"rerun_of", k_string_or_null},
            {"next_step", k_string_or_null},
            {"due_at", k_time_or_null},
            {"started_at", k_time},
            {"ended_at", k_time_or_null},
            {"error", k_string_or_null}}}};
}

// centrali-automations(1): `runs show` and `run --wait`, exactly these keys.
json automation_run_schema()
{
  const json step = {{"type", "object"},
                     {"additionalProperties", false},
                     {"properties",
                      {{"id", {{"type", "string"}}},
                       {"type", {{"enum", {"compute", "decision", "delay"}}}},
                       {"status", {{"enum", {"running", "waiting", "succeeded", "failed", "cancelled", "interrupted"}}}},
                       {"attempt", {{"type", "integer"}, {"minimum", 1}}},
                       {"started_at", k_time},
                       {"ended_at", k_time_or_null},
                       {"output", json::object()},  // any JSON
                       {"next", k_string_or_null},
                       {"error", k_string_or_null},
                       {"detail", json::object()},
                       {"clock_offset_ms", {{"type", "integer"}}}}},
                     {"optional", {"clock_offset_ms"}}};
  return {{"type", "object"},
          {"additionalProperties", false},
          {"properties",
           {{"id", id_of("arun_")},
            {"automation", {{"type", "string"}}},
            {"status", {{"enum", {"running", "waiting", "completed", "failed", "cancelled"}}}},
            {"origin", {{"enum", {"event", "schedule", "demand", "http", "rerun"}}}},
            {"input", {{"type", {"object", "array", "string", "number", "boolean", "null"}}}},
            {"context", {{"type", "object"}}},
            {"error", k_string_or_null},
            {"steps", schema::array_of(step)}}}};
}

// centrali-dispatch(1): the summary.
json dispatch_schema()
{
  return {{"type", "object"},
          {"properties",
           {{"attempts", {{"type", "integer"}, {"minimum", 0}}},
            {"automation_steps", {{"type", "integer"}, {"minimum", 0}}},
            {"automation_runs_open", {{"type", "integer"}, {"minimum", 0}}},
            {"succeeded", {{"type", "integer"}, {"minimum", 0}}},
            {"failed", {{"type", "integer"}, {"minimum", 0}}},
            {"pending", {{"type", "integer"}, {"minimum", 0}}},
            {"next_due_at", k_time_or_null},
            {"fast_forwarded_ms", {{"type", "integer"}, {"minimum", 0}}},
            {"webhooks_disabled",
             schema::array_of({{"type", "object"},
                               {"properties", {{"id", id_of("whk_")}, {"reason", {{"type", "string"}}}}}})}}}};
}

// --- running commands under the --json contract ------------------------------

std::string joined(const std::vector<std::string>& args)
{
  std::string all;
  for (const auto& a : args) all += a + " ";
  return all;
}


// `centrali --json --store STORE ARGS...`, required to exit `code`, to print
// exactly one JSON document on stdout (json::parse refuses trailing text)
// and only JSON lines on stderr. Returns stdout's document.
json run_json(const std::string& store, const std::vector<std::string>& args, int code = 0, const RunOptions& options = {})
{
  std::vector<std::string> full{"--json"};
  full.insert(full.end(), args.begin(), args.end());
  auto r = cli(store, full, options);
  INFO("centrali " << joined(args) << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == code);
  json_lines(r.err);
  auto doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

// Fails the test, naming each problem, when `doc` breaks `shape`.
void require_shape(const json& shape, const json& doc, const std::string& what)
{
  auto found = schema::problems(shape, doc);
  std::string all;
  for (const auto& p : found) all += "  " + p + "\n";
  INFO(what << " breaks its documented shape:\n" << all << "document: " << doc.dump());
  CHECK(found.empty());
}

// An error under --json: one error line on stderr, and on stdout nothing,
// or (for a command that ran and said no) its one document.
json run_json_error(const std::vector<std::string>& args, int code)
{
  std::vector<std::string> full{"--json"};
  full.insert(full.end(), args.begin(), args.end());
  auto r = centrali(full);
  INFO("centrali " << joined(args) << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK(r.exit_code == code);
  if (code == 1) CHECK_FALSE(json::parse(r.out, nullptr, false).is_discarded());
  else CHECK(r.out.empty());
  auto lines = json_lines(r.err);
  REQUIRE(lines.size() == 1);
  return lines[0];
}

} // namespace

TEST_CASE("the schema checker refuses documents that break a schema", "[cli][json]")
{
  // The checker guards every test below: it must be able to say no.
  const auto shape = schema::extend(event_summary_schema(), {}, {});
  json good = {{"id", "evt_1"}, {"source", "s"}, {"type", "t"}, {"status", "accepted"}, {"http_status", 202},
               {"received_at", "2026-11-27T10:00:00.123Z"}, {"reason", nullptr}, {"dedupe_key", nullptr},
               {"duplicate_of", nullptr}};
  CHECK(schema::problems(shape, good).empty());
  auto missing = good;
  missing.erase("reason");
  CHECK(schema::problems(shape, missing).size() == 1);
  auto wrong_type = good;
  wrong_type["http_status"] = "202";
  CHECK(schema::problems(shape, wrong_type).size() == 1);
  auto bad_enum = good;
  bad_enum["status"] = "queued";
  CHECK(schema::problems(shape, bad_enum).size() == 1);
  auto bad_time = good;
  bad_time["received_at"] = "1764237600";
  CHECK(schema::problems(shape, bad_time).size() == 1);
  auto bad_id = good;
  bad_id["id"] = "dlv_1";
  CHECK(schema::problems(shape, bad_id).size() == 1);
  CHECK(schema::problems(schema::array_of(shape, 1), json::array()).size() == 1);
  CHECK(schema::problems(schema::array_of(shape), json::array({good, missing})).size() == 1);
  auto extra = json{{"error", {{"kind", "usage"}, {"message", "m"}, {"exit_code", 2}, {"detail", 1}}}};
  CHECK(schema::problems(error_schema(), extra).size() == 1);
}

TEST_CASE("sources add, list and show --json print the documented source, absent values null", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  auto added = run_json(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  require_shape(source_schema(), added, "sources add");
  auto shown = run_json(store, {"sources", "show", "stripe"});
  require_shape(source_schema(), shown, "sources show");
  CHECK(shown["tolerance_s"].is_null());  // not set: null, not 0 or missing
  CHECK(shown["forward_to"].is_null());
  CHECK(shown["secrets"][0] != "whsec_test_secret");  // redacted

  run_json(store, {"sources", "add", "gh", "--provider", "github", "--secret", "env:CENTRALI_TEST_GH", "--tolerance",
                   "2m", "--forward-to", "http://127.0.0.1:9/app"});
  auto listed = run_json(store, {"sources", "list"});
  require_shape(schema::array_of(source_schema(), 2), listed, "sources list");
  REQUIRE(listed.size() == 2);
  auto gh = listed[0]["name"] == "gh" ? listed[0] : listed[1];
  CHECK(gh["tolerance_s"] == 120);
  CHECK(gh["forward_to"] == "http://127.0.0.1:9/app");

  auto removed = run_json(store, {"sources", "rm", "gh"});
  CHECK(removed == json{{"removed", "gh"}});
}

TEST_CASE("events list, emit and show --json print the documented event, absent values null", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  auto emitted = run_json(store, {"events", "emit", "order.created", "--data", R"({"id":"ord_1"})"});
  require_shape(event_summary_schema(), emitted, "events emit");
  CHECK(emitted["reason"].is_null());
  CHECK(emitted["duplicate_of"].is_null());

  auto listed = run_json(store, {"events", "list"});
  require_shape(schema::array_of(event_summary_schema(), 1), listed, "events list");

  auto shown = run_json(store, {"events", "show", emitted["id"].get<std::string>()});
  require_shape(event_schema(), shown, "events show");
  CHECK(shown.contains("body") != shown.contains("body_base64"));  // exactly one of them
  CHECK(shown["body"] == R"({"id":"ord_1"})");
  CHECK(shown["hints"] == json::array());

  // A refused request: reason is text, and the hints of a 401 are listed.
  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  {
    Listen l(store);
    CHECK(post(l.url(), "/ingest/stripe", R"({"id":"evt_1","type":"invoice.paid"})",
               {{"Stripe-Signature", "t=1,v1=00"}})
              .status == 401);
  }
  auto rejected = run_json(store, {"events", "list", "--status", "rejected"});
  require_shape(schema::array_of(event_summary_schema(), 1), rejected, "events list --status rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0]["reason"].is_string());
  auto refused = run_json(store, {"events", "show", rejected[0]["id"].get<std::string>()});
  require_shape(event_schema(), refused, "events show (refused)");
}

TEST_CASE("webhooks add, list and show and deliveries list and show --json print the documented shapes",
          "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  Receiver receiver;
  receiver.status = 503;
  auto added = run_json(store, {"webhooks", "add", "--url", receiver.url(), "--events", "order.*", "--retry-schedule",
                                "1h", "--header", "X-Tenant: 42"});
  require_shape(schema::extend(webhook_schema(), {{"secret", {{"type", "string"}, {"prefix", "whsec_"}}}}), added,
                "webhooks add");
  CHECK(added["disabled_reason"].is_null());
  CHECK(added["failing_since"].is_null());
  CHECK(added["previous_secret_valid_until"].is_null());
  const std::string id = added["id"];

  // A second, disabled webhook: its delivery is kept as skipped, never
  // attempted, so it has no answer, error or next attempt.
  run_json(store, {"webhooks", "add", "--name", "off", "--url", receiver.url("/off"), "--events", "order.*"});
  run_json(store, {"webhooks", "disable", "off"});

  cli_ok(store, {"events", "emit", "order.created", "--data", R"({"id":"ord_1"})"});
  run_json(store, {"dispatch", "--until-idle"});  // one 503, retry in an hour
  auto listed = run_json(store, {"webhooks", "list"});
  require_shape(schema::array_of(webhook_schema(), 2), listed, "webhooks list");
  CHECK_FALSE(listed[0].contains("secret"));
  auto shown = run_json(store, {"webhooks", "show", id});
  require_shape(schema::extend(webhook_schema(), {{"recent_deliveries", schema::array_of(delivery_schema(), 1)}}), shown,
                "webhooks show");
  auto disabled = run_json(store, {"webhooks", "show", "off"});
  CHECK(disabled["disabled_reason"].is_string());

  const auto listed_delivery = schema::extend(delivery_schema(), {{"webhook_name", k_string_or_null}});
  auto skipped = run_json(store, {"deliveries", "list", "--webhook", "off"});
  require_shape(schema::array_of(listed_delivery, 1), skipped, "deliveries list (skipped)");
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0]["status"] == "skipped");
  CHECK(skipped[0]["attempts"] == 0);
  CHECK(skipped[0]["last_status"].is_null());
  CHECK(skipped[0]["next_attempt_at"].is_null());
  CHECK(skipped[0]["webhook_name"] == "off");

  auto deliveries = run_json(store, {"deliveries", "list", "--webhook", id});
  require_shape(schema::array_of(listed_delivery, 1), deliveries, "deliveries list");
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0]["last_status"] == 503);
  CHECK(deliveries[0]["webhook_name"].is_null());  // an unnamed webhook
  const std::string dlv = deliveries[0]["id"];
  auto delivery = run_json(store, {"deliveries", "show", dlv});
  require_shape(schema::extend(delivery_schema(), {{"attempt_log", schema::array_of(attempt_schema(), 1)},
                                                   {"webhook_removed", {{"type", "boolean"}}}}),
                delivery, "deliveries show");
  CHECK(delivery["attempt_log"][0]["signature"].is_null());        // webhook deliveries: null

  auto cancelled = run_json(store, {"deliveries", "cancel", dlv});
  require_shape(delivery_schema(), cancelled, "deliveries cancel");
  CHECK(cancelled["status"] == "cancelled");
}

TEST_CASE("triggers add, list, show, fire --wait and runs --json print the documented shapes", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  auto added = run_json(store, {"triggers", "add", "on-order", "--on", "event", "--events", "order.*", "--run",
                                "echo '{\"seen\":true}'"});
  require_shape(event_trigger_schema(), added, "triggers add");
  CHECK(added["cwd"].is_null());
  CHECK(added["source"].is_null());
  CHECK(added["collection"].is_null());
  require_shape(schema::array_of(event_trigger_schema(), 1), run_json(store, {"triggers", "list"}), "triggers list");
  require_shape(event_trigger_schema(), run_json(store, {"triggers", "show", "on-order"}), "triggers show");

  cli_ok(store, {"triggers", "add", "manual", "--on", "demand", "--run", "cat >/dev/null; echo done"});
  auto fired = run_json(store, {"triggers", "fire", "manual", "--wait"});
  const json with_io = {{"input", json::object()}, {"stdout", {{"type", "string"}}}, {"stderr", {{"type", "string"}}}};
  require_shape(schema::extend(run_schema(), with_io), fired, "triggers fire --wait");
  CHECK(fired["event_id"].is_null());  // fired on demand: no event
  CHECK(fired["rerun_of"].is_null());
  CHECK(fired["error"].is_null());
  CHECK(fired["output"] == "done\n");

  cli_ok(store, {"events", "emit", "order.created"});
  run_json(store, {"dispatch", "--until-idle"});
  auto runs = run_json(store, {"triggers", "runs"});
  require_shape(schema::array_of(run_schema(), 2), runs, "triggers runs");
  auto of_event = run_json(store, {"triggers", "runs", "on-order"});
  REQUIRE(of_event.size() == 1);
  CHECK(of_event[0]["output"] == json{{"seen", true}});
  CHECK(of_event[0]["event_id"].is_string());
  // In lists, output is the parsed JSON; text output is null, not left out.
  auto manual_runs = run_json(store, {"triggers", "runs", "manual"});
  REQUIRE(manual_runs.size() == 1);
  CHECK(manual_runs[0].contains("output"));
  CHECK(manual_runs[0]["output"].is_null());
  auto run_shown = run_json(store, {"triggers", "runs", "show", of_event[0]["id"].get<std::string>()});
  require_shape(schema::extend(run_schema(), with_io), run_shown, "triggers runs show");
}

TEST_CASE("automations add, list, show, validate, run, runs, runs show, rerun and cancel --json print the documented shapes",
          "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  const auto file = dir.str("flow.json");
  std::ofstream(file) << R"({"name": "flow", "trigger": {"type": "demand"}, "steps": [
      {"id": "start", "type": "compute", "run": "echo '{\"risk\": 1}'", "next": "route"},
      {"id": "route", "type": "decision",
       "cases": [{"when": [{"path": "steps.start.output.risk", "op": "gte", "value": 1}], "next": "hold"}]},
      {"id": "hold", "type": "delay", "duration": "1h"}]})";
  const json validated_shape = {{"type", "object"},
                                {"properties",
                                 {{"valid", {{"const", true}}},
                                  {"name", {{"type", "string"}}},
                                  {"trigger", {{"type", "object"}}},
                                  {"step_count", {{"type", "integer"}, {"minimum", 1}}},
                                  {"first_step", {{"type", "string"}}},
                                  {"next_fire_at", k_time_or_null}}}};
  require_shape(validated_shape, run_json(store, {"automations", "validate", "-f", file}), "automations validate");
  require_shape(automation_schema(), run_json(store, {"automations", "add", "-f", file}), "automations add");
  require_shape(automation_schema(), run_json(store, {"automations", "show", "flow"}), "automations show");
  auto listed = run_json(store, {"automations", "list"});
  require_shape(schema::array_of(schema::extend(automation_schema(), {{"last_run", {{"type", {"object", "null"}}}}}), 1),
                listed, "automations list");

  auto queued = run_json(store, {"automations", "run", "flow"});
  const json queued_shape = {{"type", "object"},
                             {"additionalProperties", false},
                             {"properties",
                              {{"id", id_of("arun_")},
                               {"automation", {{"const", "flow"}}},
                               {"status", {{"const", "running"}}}}}};
  require_shape(queued_shape, queued, "automations run");
  auto queued_run = run_json(store, {"automations", "runs", "show", queued["id"]});
  require_shape(automation_run_schema(), queued_run, "automations runs show (not started)");

  auto runs = run_json(store, {"automations", "runs"});
  require_shape(schema::array_of(automation_run_summary_schema(), 1), runs, "automations runs");
  auto cancelled = run_json(store, {"automations", "cancel", queued["id"]});
  require_shape(automation_run_summary_schema(), cancelled, "automations cancel");
  auto rerun = run_json(store, {"automations", "rerun", queued["id"]});
  require_shape(schema::extend(automation_run_summary_schema(), {{"copied_steps", {{"type", "integer"}}}}), rerun,
                "automations rerun");
  // A run taken through every step kind, as `runs show` prints it.
  cli_ok(store, {"automations", "cancel", rerun["id"]});
  const auto done_file = dir.str("done.json");
  std::ofstream(done_file) << R"({"name": "done", "trigger": {"type": "demand"}, "steps": [
      {"id": "start", "type": "compute", "run": "echo '{\"risk\": 1}'", "next": "route"},
      {"id": "route", "type": "decision",
       "cases": [{"when": [{"path": "steps.start.output.risk", "op": "gte", "value": 1}], "next": "hold"}]},
      {"id": "hold", "type": "delay", "duration": "0s"}]})";
  cli_ok(store, {"automations", "add", "-f", done_file});
  auto done = run_json(store, {"automations", "run", "done", "--wait"});
  require_shape(automation_run_schema(), done, "automations run --wait");
  REQUIRE(done["steps"].size() == 3);
  const json decision_detail = {{"type", "object"},
                                {"properties",
                                 {{"case", k_int_or_null},
                                  {"conditions",
                                   schema::array_of({{"type", "object"},
                                                     {"properties",
                                                      {{"path", {{"type", "string"}}},
                                                       {"op", {{"type", "string"}}},
                                                       {"value", json::object()},
                                                       {"actual", json::object()},
                                                       {"absent", {{"type", "boolean"}}},
                                                       {"held", {{"type", "boolean"}}}}}},
                                                    1)}}}};
  require_shape(decision_detail, done["steps"][1]["detail"], "a decision's detail");
  require_shape(automation_run_schema(), run_json(store, {"automations", "runs", "show", done["id"]}),
                "automations runs show");
}

TEST_CASE("dispatch, send, sign, verify, version and apply --dry-run --json print the documented shapes", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();

  auto idle = run_json(store, {"dispatch", "--until-idle"});
  require_shape(dispatch_schema(), idle, "dispatch");
  CHECK(idle["pending"] == 0);
  CHECK(idle["next_due_at"].is_null());

  cli_ok(store, {"sources", "add", "stripe", "--provider", "stripe", "--secret", "whsec_test_secret"});
  auto sent = run_json(store, {"send", "--source", "stripe", "--fixture", "invoice.paid"});
  const json send_item = {{"type", "object"},
                          {"properties",
                           {{"fixture", k_string_or_null},
                            {"provider", {{"type", "string"}}},
                            {"event_type", {{"type", "string"}}},
                            {"delivery_id", {{"type", "string"}}},
                            {"to", {{"type", "string"}}},
                            {"status", k_int_or_null},
                            {"response", json::object()},
                            {"error", k_string_or_null},
                            {"ok", {{"type", "boolean"}}}}}};
  require_shape(schema::array_of(send_item, 1), sent, "send");
  CHECK(sent[0]["to"] == "store");  // no listener runs on this store
  CHECK(sent[0]["error"].is_null());

  auto signed_doc = run_json(store, {"sign", "--scheme", "standard", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                     "--id", "msg_1", "--timestamp", "1764237600", "--data", "{}"});
  require_shape(json::parse(R"({"type": "object", "additionalProperties": false,
                                "properties": {"headers": {"type": "object", "properties": {
                                  "webhook-id": {"const": "msg_1"}, "webhook-timestamp": {"const": "1764237600"},
                                  "webhook-signature": {"type": "string", "prefix": "v1,"}}}}})"),
                signed_doc, "sign");
  std::vector<std::string> verify_args{"verify", "--scheme", "standard", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                       "--now", "1764237600"};
  for (const auto& [name, value] : signed_doc["headers"].items()) {
    verify_args.push_back("--header");
    verify_args.push_back(name + ": " + value.get<std::string>());
  }
  verify_args.push_back("--data");
  verify_args.push_back("{}");
  const json verdict = json::parse(R"({"type": "object", "properties": {
      "valid": {"type": "boolean"}, "scheme": {"type": "string"}, "reason": {"type": ["string", "null"]},
      "failure": {"type": ["string", "null"]}, "hints": {"type": "array", "items": {"type": "string"}},
      "matched_secret": {"type": "integer", "minimum": 1}}, "optional": ["matched_secret"]})");
  auto valid = run_json(store, verify_args);
  require_shape(verdict, valid, "verify (valid)");
  CHECK(valid["reason"].is_null());
  CHECK(valid["failure"].is_null());
  CHECK(valid["matched_secret"] == 1);
  verify_args.back() = "{ }";  // the body changed
  auto invalid = run_json(store, verify_args, 1);
  require_shape(verdict, invalid, "verify (invalid)");
  CHECK(invalid["valid"] == false);
  CHECK(invalid["reason"].is_string());
  CHECK(invalid["failure"].is_string());

  require_shape(json::parse(R"({"type": "object", "additionalProperties": false,
                                "properties": {"version": {"type": "string"}}})"),
                run_json(store, {"version"}), "version");

  std::ofstream(dir.str("project.json")) << R"({"sources": [{"name": "gh", "provider": "github", "secrets": ["s"]}]})";
  auto plan = run_json(store, {"apply", "-f", dir.str("project.json"), "--dry-run"});
  require_shape(json::parse(R"({"type": "object", "properties": {
      "changes": {"type": "integer", "minimum": 0}, "dry_run": {"const": true},
      "plan": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
        "action": {"enum": ["create", "update", "unchanged", "remove"]},
        "kind": {"enum": ["source", "webhook", "trigger"]},
        "name": {"type": "string"}, "fields": {"type": "array", "items": {"type": "string"}}}}}}})"),
                plan, "apply --dry-run");
  CHECK(plan["changes"] == 1);
  // A dry run changed nothing.
  CHECK(cli_json(store, {"sources", "list"}).size() == 1);
}

TEST_CASE("with --json an error of every kind is exactly the documented error line", "[cli][json]")
{
  TempDir dir;
  const auto store = dir.store();
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string kind;
  };
  std::ofstream(dir.str("not.db")) << "definitely not sqlite";
  const std::vector<Case> cases = {
      {{"verify", "--scheme", "github", "--secret", "s", "--header", "X-Hub-Signature-256: sha256=00", "--data", "x"}, 1,
       "rejected"},
      {{"--store", store, "events", "list", "--limit", "abc"}, 2, "usage"},
      {{"--store", store, "events", "show", "evt_nope"}, 3, "not_found"},
      {{"--store", dir.str("not.db"), "store", "info"}, 4, "store"},
      {{"--store", store, "webhooks", "test", "nope"}, 3, "not_found"},
  };
  for (const auto& c : cases) {
    auto line = run_json_error(c.args, c.code);
    require_shape(error_schema(), line, "error of " + joined(c.args));
    CHECK(line["error"]["kind"] == c.kind);
    CHECK(line["error"]["exit_code"] == c.code);
  }
  // network (5): a send to a port nothing listens on.
  RefusingPort refusing;
  const std::string down = "http://127.0.0.1:" + std::to_string(refusing.port()) + "/hook";
  std::vector<std::string> send{"--json", "send", "--as", "github", "--secret", "s", "--to", down, "--fixture", "push"};
  auto r = cli(store, send);
  INFO(r.err);
  CHECK(r.exit_code == 5);
  json error_line;
  for (const auto& line : json_lines(r.err))
    if (line.contains("error") && line["error"].is_object()) error_line = line;
  require_shape(error_schema(), error_line, "error of send");
  CHECK(error_line["error"]["kind"] == "network");
  // stdout still holds its one document: the array of requests.
  auto doc = json::parse(r.out, nullptr, false);
  CHECK(doc.is_array());
}

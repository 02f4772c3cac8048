// Binary tests of the `centrali automations` commands: definitions in and
// out (add, validate, update, list, show, rm, pause, resume), invalid files,
// demand runs, the run log's shapes, cancel and rerun --from. Execution
// through listen and dispatch is tested end to end elsewhere.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "store_cli.hpp"
#include "wait.hpp"

using namespace testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Writes `definition` to DIR/NAME.json and returns the path.
std::string definition_file(const TempDir& dir, const std::string& name, const json& definition)
{
  auto path = dir.str(name + ".json");
  std::ofstream(path) << definition.dump(2);
  return path;
}

json order_follow_up()
{
  return json::parse(R"({"name": "order-follow-up",
    "trigger": {"type": "event", "events": ["record_created"], "collection": "orders"},
    "steps": [
      {"id": "score", "type": "compute", "run": "./score.sh", "timeout": "30s", "next": "route"},
      {"id": "route", "type": "decision",
       "cases": [{"when": [{"path": "steps.score.output.risk", "op": "gt", "value": 0.8}], "next": "hold"}],
       "default": "notify"},
      {"id": "hold", "type": "delay", "duration": "48h", "next": "notify"},
      {"id": "notify", "type": "compute", "run": "./notify.sh"}]})");
}

json demand(const std::string& name, const json& steps)
{
  return {{"name", name}, {"trigger", {{"type", "demand"}}}, {"steps", steps}};
}

json step_ids(const json& steps)
{
  auto ids = json::array();
  for (const auto& s : steps) ids.push_back(s["id"]);
  return ids;
}

bool ended(const json& run)
{
  return run["status"] == "completed" || run["status"] == "failed" || run["status"] == "cancelled";
}

} // namespace

TEST_CASE("automations validate stores nothing, and add, show and list keep the definition", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  const auto file = definition_file(dir, "follow", order_follow_up());

  auto checked = cli(store, {"automations", "validate", "-f", file});
  INFO(checked.err);
  REQUIRE(checked.exit_code == 0);
  CHECK_THAT(checked.out, Catch::Contains("order-follow-up is valid"));
  CHECK_THAT(checked.out, Catch::Contains("4 steps starting at score"));
  CHECK(cli_json(store, {"automations", "list"}).empty());

  auto added = cli_json(store, {"automations", "add", "-f", file});
  CHECK(added["name"] == "order-follow-up");
  CHECK(added["paused"] == false);
  CHECK(added["trigger"]["type"] == "event");
  CHECK(added["trigger"]["collection"] == "orders");
  CHECK(step_ids(added["steps"]) == json{"score", "route", "hold", "notify"});

  auto shown = cli_json(store, {"automations", "show", "order-follow-up"});
  CHECK(shown["steps"] == added["steps"]);
  CHECK(shown["trigger"] == added["trigger"]);
  auto text = cli(store, {"automations", "show", "order-follow-up"});
  CHECK_THAT(text.out, Catch::Contains("event record_created in orders"));
  CHECK_THAT(text.out, Catch::Contains("steps.score.output.risk"));

  auto listed = cli_json(store, {"automations", "list"});
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "order-follow-up");
  CHECK(listed[0]["last_run"].is_null());
  auto table = cli(store, {"automations", "list"});
  CHECK_THAT(table.out, Catch::Contains("order-follow-up"));
  CHECK_THAT(table.out, Catch::Contains("active"));

  // Added twice: refused, the first kept.
  auto again = cli(store, {"automations", "add", "-f", file});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains("already exists"));
}

TEST_CASE("automations add -f - reads the definition from standard input", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  RunOptions piped;
  piped.stdin_data = demand("piped", json::array({{{"id", "only"}, {"type", "delay"}, {"duration", "1s"}}})).dump();
  auto r = cli(store, {"automations", "add", "-f", "-"}, piped);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(cli_json(store, {"automations", "show", "piped"})["steps"][0]["id"] == "only");
}

TEST_CASE("an invalid definition exits 2, names the JSON path at fault and stores nothing", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  struct Case {
    std::string what;
    json definition;
    std::string path;
  };
  auto with = [](const std::function<void(json&)>& change) {
    auto d = order_follow_up();
    change(d);
    return d;
  };
  const std::vector<Case> cases = {
      {"an unknown operator", with([](json& d) { d["steps"][1]["cases"][0]["when"][0]["op"] = "greater"; }),
       "steps[1].cases[0].when[0].op"},
      {"a next naming no step", with([](json& d) { d["steps"][0]["next"] = "nowhere"; }), "steps[0].next"},
      {"a bad duration", with([](json& d) { d["steps"][2]["duration"] = "48 hours"; }), "steps[2].duration"},
      {"a compute step without a command", with([](json& d) { d["steps"][3].erase("run"); }), "steps[3]"},
      {"an unknown trigger type", with([](json& d) { d["trigger"]["type"] = "sometimes"; }), "trigger.type"},
      {"a missing name", with([](json& d) { d.erase("name"); }), "name"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto file = definition_file(dir, "bad", c.definition);
    for (const char* verb : {"validate", "add"}) {
      auto r = cli(store, {"automations", verb, "-f", file});
      INFO(verb << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::Contains(c.path));
    }
  }
  // A cycle of steps with no delay in it would run until the cap: refused.
  auto cycle = demand("loop", json::parse(R"([
      {"id": "a", "type": "compute", "run": "true", "next": "b"},
      {"id": "b", "type": "compute", "run": "true", "next": "a"}])"));
  auto r = cli(store, {"automations", "add", "-f", definition_file(dir, "loop", cycle)});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("steps: a cycle with no delay: a -> b -> a"));
  // Not JSON at all: line and column.
  auto junk = dir.str("junk.json");
  std::ofstream(junk) << "{\"name\": \"x\",\n  \"steps\": [}";
  r = cli(store, {"automations", "add", "-f", junk});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("junk.json"));

  CHECK(cli_json(store, {"automations", "list"}).empty());
  // Under --json the error is the one JSON line, its message naming the path.
  auto bad = cli(store, {"--json", "automations", "add", "-f", definition_file(dir, "bad", cases[0].definition)});
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
  auto lines = json_lines(bad.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["error"]["kind"] == "usage");
  CHECK_THAT(lines[0]["error"]["message"].get<std::string>(), Catch::Contains("steps[1].cases[0].when[0].op"));
}

TEST_CASE("automations update replaces a definition, and an invalid one leaves it as it was", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  auto d = demand("flow", json::parse(R"([{"id": "first", "type": "delay", "duration": "1s"}])"));
  cli_ok(store, {"automations", "add", "-f", definition_file(dir, "flow", d)});
  cli_ok(store, {"automations", "pause", "flow"});

  d["steps"] = json::parse(R"([{"id": "wait", "type": "delay", "duration": "2m", "next": "then"},
                               {"id": "then", "type": "delay", "duration": "1s"}])");
  auto updated = cli_json(store, {"automations", "update", "-f", definition_file(dir, "flow", d)});
  CHECK(step_ids(updated["steps"]) == json{"wait", "then"});
  CHECK(updated["paused"] == true);  // update keeps the state

  auto broken = d;
  broken["steps"][0]["next"] = "gone";
  auto r = cli(store, {"automations", "update", "-f", definition_file(dir, "flow", broken)});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("steps[0].next"));
  CHECK(step_ids(cli_json(store, {"automations", "show", "flow"})["steps"]) == json{"wait", "then"});

  d["name"] = "other";
  CHECK(cli(store, {"automations", "update", "-f", definition_file(dir, "other", d)}).exit_code == 3);
}

TEST_CASE("a paused automation starts no demand run, and resume restarts a schedule from now", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  json hourly = {{"name", "hourly"},
                 {"trigger", {{"type", "schedule"}, {"every", "1h"}}},
                 {"steps", json::parse(R"([{"id": "tick", "type": "delay", "duration": "1s"}])")}};
  auto added = cli_json(store, {"automations", "add", "-f", definition_file(dir, "hourly", hourly)});
  REQUIRE(added["next_fire_at"].is_string());

  auto paused = cli_json(store, {"automations", "pause", "hourly"});
  CHECK(paused["paused"] == true);
  CHECK(cli(store, {"automations", "list"}).out.find("paused") != std::string::npos);
  auto refused = cli(store, {"automations", "run", "hourly"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("paused"));
  CHECK(cli_json(store, {"automations", "runs", "hourly"}).empty());

  auto resumed = cli_json(store, {"automations", "resume", "hourly"});
  CHECK(resumed["paused"] == false);
  REQUIRE(resumed["next_fire_at"].is_string());
  // From now: an hour after the resume, not after the add.
  CHECK(resumed["next_fire_at"].get<std::string>() >= added["next_fire_at"].get<std::string>());
  CHECK(cli_json(store, {"automations", "show", "hourly"})["next_fire_at"] == resumed["next_fire_at"]);
  cli_ok(store, {"automations", "run", "hourly"});

  CHECK(cli(store, {"automations", "pause", "nope"}).exit_code == 3);
}

TEST_CASE("automations run queues a demand run with its input, and runs show prints it step by step", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "d", demand("d", json::parse(R"([{"id": "start", "type": "delay", "duration": "1h"}])")))});
  auto queued = cli_json(store, {"automations", "run", "d", "--data", R"({"order": {"total": 250}})"});
  REQUIRE(queued["id"].get<std::string>().starts_with("arun_"));
  CHECK(queued["automation"] == "d");
  CHECK(queued["status"] == "running");

  auto shown = cli_json(store, {"automations", "runs", "show", queued["id"]});
  CHECK(shown["id"] == queued["id"]);
  CHECK(shown["origin"] == "demand");
  CHECK(shown["input"] == json{{"order", {{"total", 250}}}});
  CHECK(shown["context"] == json::object());
  CHECK(shown["error"].is_null());
  CHECK(shown["steps"] == json::array());

  // Without --data the input is {}.
  auto plain = cli_json(store, {"automations", "run", "d"});
  CHECK(cli_json(store, {"automations", "runs", "show", plain["id"]})["input"] == json::object());

  auto runs = cli_json(store, {"automations", "runs", "d"});
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["id"] == plain["id"]);  // newest first
  CHECK(runs[0]["next_step"] == "start");
  CHECK(cli_json(store, {"automations", "runs", "--status", "completed"}).empty());
  CHECK(cli_json(store, {"automations", "runs", "--status", "running"}).size() == 2);

  CHECK(cli(store, {"automations", "run", "d", "--data", "{nope"}).exit_code == 2);
  CHECK(cli(store, {"automations", "run", "nope"}).exit_code == 3);
  CHECK(cli(store, {"automations", "runs", "nope"}).exit_code == 3);
  CHECK(cli(store, {"automations", "runs", "show", "arun_nope"}).exit_code == 3);
  CHECK(cli(store, {"automations", "runs", "--status", "queued"}).exit_code == 2);
}

TEST_CASE("automations rm cancels open runs, says how many, and keeps their history", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "d", demand("d", json::parse(R"([{"id": "w", "type": "delay", "duration": "1h"}])")))});
  cli_ok(store, {"automations", "run", "d"});
  cli_ok(store, {"automations", "run", "d"});

  auto removed = cli(store, {"automations", "rm", "d"});
  INFO(removed.err);
  REQUIRE(removed.exit_code == 0);
  CHECK_THAT(removed.out, Catch::Contains("cancelled 2 open runs"));
  CHECK(cli(store, {"automations", "show", "d"}).exit_code == 3);
  auto runs = cli_json(store, {"automations", "runs", "d"});
  REQUIRE(runs.size() == 2);
  for (const auto& r : runs) CHECK(r["status"] == "cancelled");
  CHECK(cli(store, {"automations", "rm", "d"}).exit_code == 3);
}

TEST_CASE("automations cancel ends an open run and refuses one that has ended", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "d", demand("d", json::parse(R"([{"id": "w", "type": "delay", "duration": "1h"}])")))});
  const std::string id = cli_json(store, {"automations", "run", "d"})["id"];
  auto cancelled = cli_json(store, {"automations", "cancel", id});
  CHECK(cancelled["status"] == "cancelled");
  CHECK(cancelled["ended_at"].is_string());
  auto again = cli(store, {"automations", "cancel", id});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains("already ended (cancelled)"));
  CHECK(cli(store, {"automations", "cancel", "arun_nope"}).exit_code == 3);
}

TEST_CASE("run --wait waits in a delay, Ctrl-C leaves it waiting and cancel ends it", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "d", demand("d", json::parse(R"([
                     {"id": "first", "type": "compute", "run": "echo '{\"context\": {\"seen\": 1}}'", "next": "hold"},
                     {"id": "hold", "type": "delay", "duration": "1h", "next": "last"},
                     {"id": "last", "type": "compute", "run": "echo '{}'"}])")))});
  Background waiting({centrali_binary(), "--store", store, "automations", "run", "d", "--wait"});
  json run;
  REQUIRE(wait_until([&] {
    auto runs = cli_json(store, {"automations", "runs", "d"});
    if (runs.empty() || runs[0]["status"] != "waiting") return false;
    run = runs[0];
    return true;
  }));
  CHECK(run["next_step"] == "hold");
  CHECK(waiting.stop(SIGINT) == 1);
  CHECK_THAT(waiting.err(), Catch::Contains("stopped waiting"));

  auto shown = cli_json(store, {"automations", "runs", "show", run["id"]});
  CHECK(shown["status"] == "waiting");
  CHECK(shown["context"] == json{{"seen", 1}});
  REQUIRE(shown["steps"].size() == 2);
  CHECK(shown["steps"][0]["status"] == "succeeded");
  CHECK(shown["steps"][1]["status"] == "waiting");

  auto cancelled = cli_json(store, {"automations", "cancel", run["id"]});
  CHECK(cancelled["status"] == "cancelled");
  shown = cli_json(store, {"automations", "runs", "show", run["id"]});
  CHECK(shown["steps"][1]["status"] == "cancelled");
}

TEST_CASE("run --wait prints the finished run and exits 1 when it failed", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "ok", demand("ok", json::parse(R"([
                     {"id": "score", "type": "compute", "run": "echo '{\"risk\": 0.9}'", "next": "route"},
                     {"id": "route", "type": "decision",
                      "cases": [{"when": [{"path": "steps.score.output.risk", "op": "gt", "value": 0.8}], "next": "high"}],
                      "default": "low"},
                     {"id": "high", "type": "delay", "duration": "0s"},
                     {"id": "low", "type": "delay", "duration": "0s"}])")))});
  auto done = cli_json(store, {"automations", "run", "ok", "--wait"});
  CHECK(done["status"] == "completed");
  CHECK(step_ids(done["steps"]) == json{"score", "route", "high"});
  CHECK(done["steps"][1]["detail"]["case"] == 0);
  auto text = cli(store, {"automations", "runs", "show", done["id"]});
  CHECK_THAT(text.out, Catch::Contains("cases[0] held"));
  CHECK_THAT(text.out, Catch::Contains("steps.score.output.risk gt 0.8: was 0.9, held"));

  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "bad", demand("bad", json::parse(R"([{"id": "boom", "type": "compute", "run": "exit 3"}])")))});
  auto failed = cli(store, {"--json", "automations", "run", "bad", "--wait"});
  CHECK(failed.exit_code == 1);
  CHECK(json::parse(failed.out)["status"] == "failed");
}

TEST_CASE("rerun --from keeps the steps before STEP and the context they made", "[cli][automations]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"automations", "add", "-f",
                 definition_file(dir, "d", demand("d", json::parse(R"([
                     {"id": "a", "type": "compute", "run": "echo '{\"v\": 1, \"context\": {\"a\": 1, \"keep\": true}}'", "next": "b"},
                     {"id": "b", "type": "compute", "run": "echo '{\"context\": {\"a\": 2, \"keep\": null}}'", "next": "c"},
                     {"id": "c", "type": "decision",
                      "cases": [{"when": [{"path": "steps.a.output.v", "op": "eq", "value": 1}], "next": "d"}]},
                     {"id": "d", "type": "delay", "duration": "0s"}])")))});
  auto old = cli_json(store, {"automations", "run", "d", "--data", R"({"x": 7})", "--wait"});
  REQUIRE(old["status"] == "completed");
  CHECK(old["context"] == json{{"a", 2}});

  // From b: a is kept (and its context); b, c and d run again.
  auto rerun = cli_json(store, {"automations", "rerun", old["id"], "--from", "b"});
  CHECK(rerun["origin"] == "rerun");
  CHECK(rerun["rerun_of"] == old["id"]);
  CHECK(rerun["next_step"] == "b");
  CHECK(rerun["copied_steps"] == 1);
  auto fresh = cli_json(store, {"automations", "runs", "show", rerun["id"]});
  CHECK(fresh["input"] == json{{"x", 7}});
  CHECK(fresh["context"] == json{{"a", 1}, {"keep", true}});
  REQUIRE(fresh["steps"].size() == 1);
  CHECK(fresh["steps"][0]["id"] == "a");
  CHECK(fresh["steps"][0]["status"] == "succeeded");
  CHECK(fresh["steps"][0]["output"] == old["steps"][0]["output"]);

  // From c: a and b are kept, and their context merged in order.
  auto from_c = cli_json(store, {"automations", "rerun", old["id"], "--from", "c"});
  CHECK(from_c["copied_steps"] == 2);
  CHECK(cli_json(store, {"automations", "runs", "show", from_c["id"]})["context"] == json{{"a", 2}});

  // Without --from: from the first step, nothing kept.
  auto whole = cli_json(store, {"automations", "rerun", old["id"]});
  CHECK(whole["next_step"] == "a");
  CHECK(cli_json(store, {"automations", "runs", "show", whole["id"]})["steps"].empty());

  auto unknown = cli(store, {"automations", "rerun", old["id"], "--from", "nope"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("nope"));
  CHECK(cli(store, {"automations", "rerun", "arun_nope"}).exit_code == 3);

  // The rerun executes: a run --wait drains every due run, this one too.
  cli_ok(store, {"automations", "run", "d", "--wait"});
  REQUIRE(wait_until([&] { return ended(cli_json(store, {"automations", "runs", "show", rerun["id"]})); }));
  auto executed = cli_json(store, {"automations", "runs", "show", rerun["id"]});
  CHECK(executed["status"] == "completed");
  CHECK(step_ids(executed["steps"]) == json{"a", "b", "c", "d"});
}

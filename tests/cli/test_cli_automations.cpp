// Binary tests of automations running: every step kind through a real
// `centrali listen` or `dispatch`, with real commands (shell scripts
// written here), across kill -9, and under a fast-forwarded clock.
// (The commands' own contract is in test_cli_automations_commands.cpp.)
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"
#include "wait.hpp"

using namespace testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string script(const TempDir& dir, const std::string& name, const std::string& body)
{
  auto path = dir.str(name);
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string slurp(const std::string& path)
{
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An automation definition (steps as a list, so one step stays a list).
json automation(const std::string& name, json trigger, std::vector<json> steps)
{
  return {{"name", name}, {"trigger", std::move(trigger)}, {"steps", json(std::move(steps))}};
}

json compute(const std::string& id, const std::string& run, json extra = json::object())
{
  json step = {{"id", id}, {"type", "compute"}, {"run", run}};
  step.update(extra);
  return step;
}

json delay(const std::string& id, const std::string& duration, const std::string& next)
{
  return {{"id", id}, {"type", "delay"}, {"duration", duration}, {"next", next}};
}

json demand()
{
  return {{"type", "demand"}};
}

// Writes `definition` to a file and adds it.
void add_automation(const TempDir& dir, const std::string& store, const json& definition)
{
  auto path = dir.str(definition["name"].get<std::string>() + ".json");
  std::ofstream(path) << definition.dump(2);
  cli_ok(store, {"automations", "add", "-f", path});
}

json runs_of(const std::string& store, const std::string& automation)
{
  return cli_json(store, {"automations", "runs", automation, "--limit", "0"});
}

json show(const std::string& store, const std::string& run)
{
  return cli_json(store, {"automations", "runs", "show", run});
}

bool ended(const json& run)
{
  return run["status"] == "completed" || run["status"] == "failed" || run["status"] == "cancelled";
}

// Waits until `automation` has `n` runs in `status` (any ended status when
// empty); returns every run, oldest first.
json wait_for_runs(const std::string& store, const std::string& automation, std::size_t n,
                   const std::string& status = "")
{
  json runs;
  auto enough = [&] {
    runs = runs_of(store, automation);
    std::size_t count = 0;
    for (const auto& r : runs) count += status.empty() ? ended(r) : r["status"] == status;
    return count >= n;
  };
  bool ok = wait_until(enough, 20s);
  INFO("runs of " << automation << ": " << runs.dump());
  REQUIRE(ok);
  std::reverse(runs.begin(), runs.end());
  return runs;
}

// The ids of a run's steps, in execution order.
std::vector<std::string> step_ids(const json& run)
{
  std::vector<std::string> ids;
  for (const auto& s : run["steps"]) ids.push_back(s["id"]);
  return ids;
}

json condition(const std::string& path, const std::string& op, json value = nullptr)
{
  json c = {{"path", path}, {"op", op}};
  if (!value.is_null()) c["value"] = std::move(value);
  return c;
}

} // namespace

TEST_CASE("a record change starts an automation that branches both ways on the record's data", "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  auto big = script(dir, "big.sh", "cat > \"" + dir.str() + "/big-$CENTRALI_RUN_ID.json\"; echo '{\"kind\":\"big\"}'");
  auto small = script(dir, "small.sh", "echo '{\"kind\":\"small\"}'");
  json route = {{"id", "route"},
                {"type", "decision"},
                {"cases", json::array({{{"when", json::array({condition("input.record.data.total", "gte", 100)})},
                                        {"next", "big"}}})},
                {"default", "small"}};
  json on_orders = {{"type", "event"}, {"events", json::array({"record_created"})}, {"collection", "orders"}};
  add_automation(dir, store, automation("order-size", on_orders, {route, compute("big", big), compute("small", small)}));
  Listen listen(store);
  cli_json(store, {"records", "create", "orders", "--data", R"({"total":5})"});
  std::string id = cli_json(store, {"records", "create", "orders", "--data", R"({"total":500})"})["id"];
  cli_json(store, {"records", "create", "users", "--data", R"({"total":900})"});  // another collection

  auto runs = wait_for_runs(store, "order-size", 2);
  REQUIRE(runs.size() == 2);
  auto first = show(store, runs[0]["id"]);
  auto second = show(store, runs[1]["id"]);
  CHECK(first["status"] == "completed");
  CHECK(first["origin"] == "event");
  CHECK(step_ids(first) == std::vector<std::string>{"route", "small"});
  CHECK(first["steps"][0]["detail"]["case"].is_null());  // the default
  CHECK(first["steps"][1]["output"] == json{{"kind", "small"}});
  CHECK(second["status"] == "completed");
  CHECK(step_ids(second) == std::vector<std::string>{"route", "big"});
  CHECK(second["steps"][0]["detail"]["case"] == 0);
  CHECK(second["steps"][0]["next"] == "big");
  // The compute step got {"input", "context", "steps"} on stdin.
  auto stdin_doc = json::parse(slurp(dir.str("big-" + second["id"].get<std::string>() + ".json")));
  CHECK(stdin_doc["input"]["record"]["id"] == id);
  CHECK(stdin_doc["input"]["type"] == "record_created");
  CHECK(stdin_doc["steps"]["route"]["status"] == "succeeded");
  CHECK(stdin_doc.contains("context"));
}

TEST_CASE("every decision operator routes a run through a real listener's http trigger", "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  auto done = script(dir, "done.sh", "echo '\"reached the end\"'");
  auto wrong = script(dir, "wrong.sh", "echo \"$CENTRALI_STEP\" >&2; exit 1");
  // A chain of decisions, each holding one operator: held, it goes on;
  // not held, the run ends at `wrong` (failing the run).
  std::vector<json> checks = {
      condition("input.body.n", "eq", 3),          condition("input.body.n", "neq", 4),
      condition("input.body.n", "gt", 2),          condition("input.body.n", "gte", 3),
      condition("input.body.n", "lt", 4),          condition("input.body.n", "lte", 3),
      condition("input.body.tag", "exists"),       condition("input.body.none", "notExists"),
      condition("input.body.tag", "in", json::array({"a", "b"})), condition("input.body.tag", "notIn", json::array({"c"})),
      condition("input.body.list", "contains", "x"), condition("context.seeded", "eq", true)};
  json steps = json::array();
  steps.push_back({{"id", "seed"}, {"type", "compute"}, {"run", "echo '{\"context\":{\"seeded\":true}}'"},
                   {"next", "check0"}});
  for (std::size_t i = 0; i < checks.size(); ++i) {
    std::string next = i + 1 < checks.size() ? "check" + std::to_string(i + 1) : "wait";
    steps.push_back({{"id", "check" + std::to_string(i)},
                     {"type", "decision"},
                     {"cases", json::array({{{"when", json::array({checks[i]})}, {"next", next}}})},
                     {"default", "wrong"}});
  }
  steps.push_back({{"id", "wait"}, {"type", "delay"}, {"duration", "0s"}, {"next", "done"}});
  steps.push_back({{"id", "done"}, {"type", "compute"}, {"run", done}});
  steps.push_back({{"id", "wrong"}, {"type", "compute"}, {"run", wrong}});
  add_automation(dir, store, {{"name", "ops"}, {"trigger", {{"type", "http"}, {"path", "ops"}}}, {"steps", steps}});
  Listen listen(store);

  auto sent = post(listen.url(), "/automations/ops", R"({"n":3,"tag":"a","list":["x","y"]})");
  REQUIRE(sent.status == 202);
  auto answer = json::parse(sent.body);
  CHECK(answer["status"] == "queued");
  std::string run_id = answer["run"];
  CHECK(run_id.rfind("arun_", 0) == 0);
  wait_for_runs(store, "ops", 1);
  auto run = show(store, run_id);
  INFO(run.dump(2));
  CHECK(run["status"] == "completed");
  CHECK(run["origin"] == "http");
  CHECK(run["steps"].size() == checks.size() + 3);
  CHECK(run["steps"].back()["id"] == "done");
  CHECK(run["steps"].back()["output"] == "reached the end");
  CHECK(run["context"]["seeded"] == true);
  CHECK(run["input"]["body"]["n"] == 3);
  // A value that fails one operator takes the default.
  auto other = json::parse(post(listen.url(), "/automations/ops", R"({"n":3,"tag":"c","list":[]})").body);
  wait_for_runs(store, "ops", 2);
  auto failed = show(store, other["run"]);
  CHECK(failed["status"] == "failed");
  CHECK(failed["steps"].back()["id"] == "wrong");
  CHECK(failed["steps"][failed["steps"].size() - 2]["id"] == "check8");  // tag in [a, b]
}

TEST_CASE("the http trigger answers 404, 405 and 503 without storing a run", "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  add_automation(dir, store, automation("hooked", {{"type", "http"}, {"path", "in"}}, {compute("c", "true")}));
  Listen listen(store);
  CHECK(post(listen.url(), "/automations/nope", "{}").status == 404);
  auto got = get(listen.url(), "/automations/in");
  CHECK(got.status == 405);
  CHECK(runs_of(store, "hooked").empty());
  cli_ok(store, {"automations", "pause", "hooked"});
  // A running listener sees the pause within its one-second cache (the
  // requests it still took meanwhile start runs).
  bool paused = wait_until([&] { return post(listen.url(), "/automations/in", "{}").status == 503; }, 10s);
  CHECK(paused);
  auto before = runs_of(store, "hooked").size();
  auto refused = post(listen.url(), "/automations/in", "{}");
  CHECK(refused.status == 503);
  CHECK(json::parse(refused.body)["error"] == "automation_paused");
  CHECK(runs_of(store, "hooked").size() == before);
}

TEST_CASE("an http trigger's 202 means the run is stored: it survives kill -9 of the listener", "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  auto marker = dir.str("ran");
  add_automation(dir, store, automation("durable", {{"type", "http"}, {"path", "in"}},
                                        {delay("later", "1h", "c"), compute("c", "cat > " + marker)}));
  std::vector<std::string> ids;
  {
    Listen listen(store);
    for (int i = 0; i < 20; ++i) {
      auto sent = post(listen.url(), "/automations/in", R"({"i":)" + std::to_string(i) + "}");
      REQUIRE(sent.status == 202);
      ids.push_back(json::parse(sent.body)["run"]);
    }
    ::kill(listen.process().pid(), SIGKILL);
  }
  auto runs = runs_of(store, "durable");
  CHECK(runs.size() == ids.size());
  for (const auto& id : ids) CHECK(cli_json(store, {"automations", "runs", "show", id})["id"] == id);
  // And they go on from there: the 1h delay passes at once under a fast-forwarded clock.
  cli_ok(store, {"dispatch", "--until-idle", "--fast-forward"});
  for (const auto& r : runs_of(store, "durable")) CHECK(r["status"] == "completed");
  CHECK(json::parse(slurp(marker))["input"]["body"].contains("i"));
}

TEST_CASE("kill -9 during a delay: the run resumes at its stored due time", "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  add_automation(dir, store, automation("remind", demand(), {delay("wait", "2s", "c"), compute("c", "echo '\"after\"'")}));
  std::string due_at;
  {
    Listen listen(store);
    auto started = cli_json(store, {"automations", "run", "remind"});
    auto runs = wait_for_runs(store, "remind", 1, "waiting");
    due_at = show(store, runs[0]["id"])["steps"][0]["detail"]["due_at"];
    ::kill(listen.process().pid(), SIGKILL);
  }
  auto run_id = runs_of(store, "remind")[0]["id"].get<std::string>();
  CHECK(show(store, run_id)["status"] == "waiting");
  // A new listener keeps the due time: the run completes once it passes.
  Listen again(store);
  wait_for_runs(store, "remind", 1);
  auto run = show(store, run_id);
  CHECK(run["status"] == "completed");
  CHECK(run["steps"][0]["detail"]["due_at"] == due_at);
  CHECK(run["steps"][0]["ended_at"].get<std::string>() >= due_at);
  CHECK(run["steps"][1]["output"] == "after");
}

TEST_CASE("kill -9 during a compute step: it runs again with CENTRALI_STEP_ATTEMPT=2, or fails if it says retry false",
          "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  auto started = dir.str("started");
  // The first attempt hangs (until killed with its listener); the second finishes.
  auto step = script(dir, "step.sh",
                     "echo $CENTRALI_STEP_ATTEMPT >> " + started + "\n"
                     "if [ \"$CENTRALI_STEP_ATTEMPT\" = 1 ]; then sleep 30; fi\n"
                     "echo \"{\\\"attempt\\\": $CENTRALI_STEP_ATTEMPT}\"");
  add_automation(dir, store, automation("again", demand(), {compute("work", step, {{"timeout", "1m"}})}));
  add_automation(dir, store, automation("once", demand(), {compute("charge", step, {{"retry", false}})}));
  {
    Listen listen(store);
    cli_json(store, {"automations", "run", "again"});
    cli_json(store, {"automations", "run", "once"});
    REQUIRE(wait_until([&] { return slurp(started) == "1\n1\n"; }, 20s));
    ::kill(listen.process().pid(), SIGKILL);
  }
  // Restarted (alone on the store, so the dead listener's leases are freed at once).
  cli_ok(store, {"dispatch", "--until-idle"});
  auto again = show(store, runs_of(store, "again")[0]["id"]);
  INFO(again.dump(2));
  CHECK(again["status"] == "completed");
  REQUIRE(again["steps"].size() == 2);
  CHECK(again["steps"][0]["status"] == "interrupted");
  CHECK(again["steps"][1]["attempt"] == 2);
  CHECK(again["steps"][1]["output"] == json{{"attempt", 2}});
  auto once = show(store, runs_of(store, "once")[0]["id"]);
  CHECK(once["status"] == "failed");
  CHECK(once["steps"].size() == 1);
  CHECK(once["steps"][0]["status"] == "interrupted");
  CHECK_THAT(once["error"].get<std::string>(), Catch::Contains("retry"));
}

TEST_CASE("dispatch --fast-forward completes a 48h delay at once and the steps say the clock jumped",
          "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  add_automation(dir, store, automation("follow-up", demand(),
                                        {delay("hold", "48h", "notify"), compute("notify", "echo '\"sent\"'")}));
  std::string run_id = cli_json(store, {"automations", "run", "follow-up"})["id"];
  auto out = cli_json(store, {"dispatch", "--until-idle", "--fast-forward"});
  CHECK(out["fast_forwarded_ms"].get<std::int64_t>() > 47LL * 3600 * 1000);  // 48h less the real time that passed
  auto run = show(store, run_id);
  INFO(run.dump(2));
  CHECK(run["status"] == "completed");
  REQUIRE(run["steps"].size() == 2);
  CHECK(run["steps"][1]["output"] == "sent");
  CHECK(run["steps"][1]["clock_offset_ms"].get<std::int64_t>() > 47LL * 3600 * 1000);
  CHECK(run["steps"][1]["started_at"].get<std::string>() >= run["steps"][0]["detail"]["due_at"].get<std::string>());
}

TEST_CASE("an --every schedule starts automation runs while listen runs", "[cli][automations]")
{
  TempDir dir;
  auto store = dir.store();
  add_automation(dir, store, automation("tick", {{"type", "schedule"}, {"every", "1s"}}, {compute("c", "cat")}));
  Listen listen(store);
  auto runs = wait_for_runs(store, "tick", 2);
  auto run = show(store, runs[0]["id"]);
  CHECK(run["origin"] == "schedule");
  CHECK(run["steps"][0]["output"]["input"].contains("scheduledAt"));
}

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <SQLiteCpp/Database.h>

#include "centrali/automations/definition.hpp"
#include "centrali/automations/executor.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"
#include "temp_store.hpp"

using namespace centrali;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A store with one automation, runs started on demand, and an executor
// that drains them on the test's thread, as `dispatch --until-idle` does.
struct Harness {
  unit::TempDir dir;
  store::Store reader = unit::open_store(dir);
  std::unique_ptr<store::GroupCommitter> writer;
  std::string definition;
  std::vector<std::string> log;

  explicit Harness(const json& doc)
  {
    auto parsed = automations::parse_definition(doc);
    if (!parsed) FAIL(parsed.error().message);
    definition = automations::to_json(*parsed).dump();
    auto w = store::Store::open(dir.path() / "s.db");
    REQUIRE(w);
    writer = std::make_unique<store::GroupCommitter>(std::move(*w));
  }
  ~Harness() { writer->stop(); }

  std::string start(const json& input, std::int64_t due_ms = 0)
  {
    store::AutomationRun run;
    run.id = ids::make(ids::k_automation_run);
    run.automation = "a";
    run.definition = definition;
    run.status = "running";
    run.origin = "demand";
    run.input = input.dump();
    run.created_ms = run.updated_ms = timeutil::now_ms();
    run.due_ms = due_ms ? due_ms : run.created_ms;
    REQUIRE(store::insert_automation_run(reader, run));
    return run.id;
  }

  int drain()
  {
    automations::Executor executor(*writer, dir.path() / "s.db", {}, [this](const std::string& l) { log.push_back(l); });
    auto n = executor.drain();
    REQUIRE(n);
    return *n;
  }

  store::AutomationRun run(const std::string& id)
  {
    auto r = store::get_automation_run(reader, id);
    REQUIRE(r);
    return *r;
  }

  std::vector<store::AutomationStep> steps(const std::string& id)
  {
    auto s = store::automation_run_steps(reader, id);
    REQUIRE(s);
    return *s;
  }

  fs::path script(const std::string& name, const std::string& text)
  {
    auto p = dir.path() / name;
    std::ofstream(p) << "#!/bin/sh\n" << text;
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }
};

// A demand automation of `steps` (an array of step objects).
json with_steps(json steps)
{
  return {{"name", "a"}, {"trigger", {{"type", "demand"}}}, {"steps", std::move(steps)}};
}

json order_flow(const std::string& score_command)
{
  return {{"name", "a"},
          {"trigger", {{"type", "demand"}}},
          {"steps",
           {{{"id", "score"}, {"type", "compute"}, {"run", score_command}, {"next", "route"}},
            {{"id", "route"},
             {"type", "decision"},
             {"cases", {{{"when", {{{"path", "steps.score.output.risk"}, {"op", "gt"}, {"value", 0.8}}}}, {"next", "hold"}}}},
             {"default", "notify"}},
            {{"id", "hold"}, {"type", "delay"}, {"duration", "48h"}, {"next", "notify"}},
            {{"id", "notify"}, {"type", "compute"}, {"run", "cat"}}}}};
}

} // namespace

TEST_CASE("automations::Executor runs compute and decision steps, and the decision branches on a step's output",
          "[automations]")
{
  // The scorer reads the amount from its stdin document and calls it the risk.
  Harness h(order_flow(R"(sed -n 's/.*"amount":\([0-9.]*\).*/{"risk": \1, "context": {"scored": true}}/p')"));
  auto low = h.start({{"amount", 0.2}});
  auto high = h.start({{"amount", 0.9}});
  h.drain();

  auto low_run = h.run(low);
  CHECK(low_run.status == "completed");
  auto low_steps = h.steps(low);
  REQUIRE(low_steps.size() == 3);
  CHECK(low_steps[0].step == "score");
  CHECK(low_steps[1].step == "route");
  CHECK(low_steps[1].next == "notify");
  CHECK(low_steps[2].step == "notify");
  // notify's stdin was the run's document: the context holds the merge.
  auto notified = json::parse(low_steps[2].output);
  CHECK(notified["context"]["scored"] == true);
  CHECK(notified["steps"]["score"]["output"]["risk"] == 0.2);
  CHECK(json::parse(low_run.context)["scored"] == true);

  auto high_run = h.run(high);
  CHECK(high_run.status == "waiting");  // in the 48h delay
  auto high_steps = h.steps(high);
  REQUIRE(high_steps.size() == 3);
  CHECK(high_steps[1].next == "hold");
  CHECK(high_steps[2].status == "waiting");
  CHECK(high_run.due_ms >= timeutil::now_ms() + 47 * 3600 * 1000);
  auto detail = json::parse(high_steps[1].detail);
  CHECK(detail["case"] == 0);
}

TEST_CASE("automations::Executor: a waiting run resumes at its stored due time, not before", "[automations]")
{
  json wait = {{"id", "wait"}, {"type", "delay"}, {"duration", "1h"}, {"next", "after"}};
  json after = {{"id", "after"}, {"type", "compute"}, {"run", "echo '\"done\"'"}};
  json doc = with_steps(json::array({wait, after}));
  Harness h(doc);
  auto id = h.start(json::object());
  h.drain();
  REQUIRE(h.run(id).status == "waiting");
  h.drain();  // a second look (a restart) changes nothing before the due time
  CHECK(h.run(id).status == "waiting");
  CHECK(h.steps(id).size() == 1);
  // Made due (as time passing would), it completes.
  h.reader.exec("UPDATE automation_runs SET due_ms = 1 WHERE id = '" + id + "'");
  h.drain();
  auto run = h.run(id);
  CHECK(run.status == "completed");
  auto steps = h.steps(id);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].status == "succeeded");
  CHECK(steps[1].output == "\"done\"");
}

TEST_CASE("automations::Executor: a compute step interrupted in flight runs again with the next attempt number",
          "[automations]")
{
  json step = {{"id", "c"}, {"type", "compute"}, {"run", R"(echo "{\"attempt\": $CENTRALI_STEP_ATTEMPT}")"}};
  Harness h(with_steps(json::array({step})));
  auto id = h.start(json::object());
  // What a killed executor leaves: the step started, the lease expired.
  h.reader.exec("INSERT INTO automation_steps (run_id, step, type, status, attempt, started_ms) VALUES ('" + id +
                     "', 'c', 'compute', 'running', 1, 1)");
  h.reader.exec("UPDATE automation_runs SET next_step = 'c', steps_run = 1, lease_until_ms = 2 WHERE id = '" + id + "'");
  h.drain();
  CHECK(h.run(id).status == "completed");
  auto steps = h.steps(id);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].status == "interrupted");
  CHECK(steps[1].attempt == 2);
  CHECK(json::parse(steps[1].output)["attempt"] == 2);
}

TEST_CASE("automations::Executor: an interrupted step that says \"retry\": false fails its run", "[automations]")
{
  json step = {{"id", "charge"}, {"type", "compute"}, {"run", "true"}, {"retry", false}};
  Harness h(with_steps(json::array({step})));
  auto id = h.start(json::object());
  h.reader.exec("INSERT INTO automation_steps (run_id, step, type, status, attempt, started_ms) VALUES ('" + id +
                     "', 'charge', 'compute', 'running', 1, 1)");
  h.reader.exec("UPDATE automation_runs SET next_step = 'charge', steps_run = 1, lease_until_ms = 2 WHERE id = '" +
                     id + "'");
  h.drain();
  auto run = h.run(id);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error, Catch::Contains("interrupted"));
  CHECK(h.steps(id).size() == 1);  // not run again
}

TEST_CASE("automations::Executor: a failing step is retried, then fails the run with its error", "[automations]")
{
  json step = {{"id", "flaky"}, {"type", "compute"}, {"run", "echo $CENTRALI_STEP_ATTEMPT >&2; exit 3"},
               {"retries", 2}, {"backoff", "1ms"}};
  Harness h(with_steps(json::array({step})));
  auto id = h.start(json::object());
  // Each retry falls due a moment after the failure before it.
  for (int i = 0; i < 1000 && h.run(id).status == "running"; ++i) {
    h.drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto steps = h.steps(id);
  REQUIRE(steps.size() == 3);
  CHECK(steps[2].attempt == 3);
  auto run = h.run(id);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error, Catch::Contains("after 3 attempts") && Catch::Contains("exit code 3"));
  CHECK(json::parse(steps[2].detail)["stderr"] == "3\n");
}

TEST_CASE("automations::Executor: a run stops after 1,000 steps", "[automations]")
{
  // A loop through a delay is allowed (a poll); the cap ends it.
  json again = {{"id", "again"}, {"type", "delay"}, {"duration", "0s"}, {"next", "check"}};
  json check = {{"id", "check"},
                {"type", "decision"},
                {"cases", json::array({{{"when", json::array({{{"path", "input.stop"}, {"op", "exists"}}})}, {"next", "again"}}})},
                {"default", "again"}};
  Harness h(with_steps(json::array({again, check})));
  auto id = h.start(json::object());
  CHECK(h.drain() == automations::k_max_steps_per_run);
  auto run = h.run(id);
  CHECK(run.status == "failed");
  CHECK(run.steps_run == automations::k_max_steps_per_run);
  CHECK_THAT(run.error, Catch::Contains("1000 steps"));
}

TEST_CASE("automations::Executor: a cancelled run takes no further step", "[automations]")
{
  json wait = {{"id", "wait"}, {"type", "delay"}, {"duration", "1h"}, {"next", "after"}};
  json after = {{"id", "after"}, {"type", "compute"}, {"run", "true"}};
  Harness h(with_steps(json::array({wait, after})));
  auto id = h.start(json::object());
  h.drain();
  auto cancelled = store::cancel_automation_run(h.reader, id, timeutil::now_ms());
  REQUIRE(cancelled);
  CHECK(*cancelled);
  h.reader.exec("UPDATE automation_runs SET due_ms = 1 WHERE id = '" + id + "'");
  h.drain();
  CHECK(h.run(id).status == "cancelled");
  auto steps = h.steps(id);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].status == "cancelled");
}

TEST_CASE("automations::Executor: a run cancelled while its compute step runs stays cancelled and goes no further",
          "[automations]")
{
  unit::TempDir scratch;
  const auto go = (scratch.path() / "go").string();
  const auto after_ran = (scratch.path() / "after-ran").string();
  json slow = {{"id", "slow"}, {"type", "compute"}, {"run", "while [ ! -f " + go + " ]; do sleep 0.02; done"},
               {"next", "after"}};
  json after = {{"id", "after"}, {"type", "compute"}, {"run", "touch " + after_ran}};
  Harness h(with_steps(json::array({slow, after})));
  auto id = h.start(json::object());
  automations::Executor executor(*h.writer, h.dir.path() / "s.db", {}, {});
  executor.start();
  bool running = false;
  for (int i = 0; i < 1000 && !running; ++i) {
    auto steps = h.steps(id);
    running = !steps.empty() && steps[0].status == "running";
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(running);
  auto cancelled = store::cancel_automation_run(h.reader, id, timeutil::now_ms());
  REQUIRE(cancelled);
  CHECK(*cancelled);
  std::ofstream(go) << "";
  executor.stop();  // lets the step finish and records what it may
  CHECK(h.run(id).status == "cancelled");
  auto steps = h.steps(id);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].status == "cancelled");
  CHECK_FALSE(fs::exists(after_ran));
}

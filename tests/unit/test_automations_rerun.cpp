// automations::plan_rerun: what a rerun starts with, and the store's insert
// of a run together with its copied steps.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "centrali/automations/rerun.hpp"
#include "centrali/store/automations.hpp"
#include "temp_store.hpp"

using namespace centrali;
using json = nlohmann::json;

namespace {

const char* k_definition = R"({"name": "flow", "trigger": {"type": "demand"}, "steps": [
    {"id": "a", "type": "compute", "run": "true", "next": "b"},
    {"id": "b", "type": "compute", "run": "true", "next": "c"},
    {"id": "c", "type": "compute", "run": "true", "next": "d"},
    {"id": "d", "type": "delay", "duration": "1h"}]})";

store::AutomationRun old_run()
{
  store::AutomationRun r;
  r.id = "arun_old";
  r.automation = "flow";
  r.definition = k_definition;
  r.status = "failed";
  r.origin = "demand";
  r.input = R"({"x":1})";
  r.context = R"({"a":1,"b":2})";
  r.created_ms = 1000;
  r.updated_ms = 5000;
  r.ended_ms = 5000;
  return r;
}

store::AutomationStep step(const std::string& id, const std::string& status, const json& output, int attempt = 1)
{
  store::AutomationStep s;
  s.seq = 10 + attempt;
  s.run_id = "arun_old";
  s.step = id;
  s.type = id == "d" ? "delay" : "compute";
  s.status = status;
  s.attempt = attempt;
  s.started_ms = 2000;
  s.ended_ms = 3000;
  s.output = output.is_null() ? "" : output.dump();
  return s;
}

} // namespace

TEST_CASE("plan_rerun without --from starts at the first step with the old input and nothing kept", "[automations]")
{
  std::vector<store::AutomationStep> steps = {step("a", "succeeded", {{"context", {{"a", 1}}}})};
  auto plan = automations::plan_rerun(old_run(), steps, "", 9000);
  REQUIRE(plan);
  CHECK(plan->run.id.starts_with("arun_"));
  CHECK(plan->run.id != "arun_old");
  CHECK(plan->run.origin == "rerun");
  CHECK(plan->run.rerun_of == "arun_old");
  CHECK(plan->run.status == "running");
  CHECK(plan->run.input == R"({"x":1})");
  CHECK(plan->run.definition == k_definition);
  CHECK(plan->run.next_step == "a");
  CHECK(json::parse(plan->run.context) == json::object());
  CHECK(plan->run.due_ms == 9000);
  CHECK(plan->copied.empty());
}

TEST_CASE("plan_rerun --from copies the steps before STEP first ran and merges their context in order", "[automations]")
{
  std::vector<store::AutomationStep> steps = {
      step("a", "succeeded", {{"v", 1}, {"context", {{"a", 1}, {"gone", true}}}}),
      step("b", "failed", {{"context", {{"never", 1}}}}, 1),  // a failed attempt's context is not merged
      step("b", "succeeded", {{"context", {{"b", 2}, {"gone", nullptr}}}}, 2),
      step("c", "failed", {{"context", {{"c", 3}}}}),
  };
  auto plan = automations::plan_rerun(old_run(), steps, "c", 9000);
  REQUIRE(plan);
  CHECK(plan->run.next_step == "c");
  REQUIRE(plan->copied.size() == 3);
  CHECK(plan->copied[0].step == "a");
  CHECK(plan->copied[2].attempt == 2);
  for (const auto& s : plan->copied) {
    CHECK(s.seq == 0);
    CHECK(s.run_id == plan->run.id);
  }
  CHECK(json::parse(plan->run.context) == json{{"a", 1}, {"b", 2}});
  CHECK(plan->run.steps_run == 3);

  // From the first step: nothing precedes it.
  auto from_a = automations::plan_rerun(old_run(), steps, "a", 9000);
  REQUIRE(from_a);
  CHECK(from_a->copied.empty());

  // A step the old run never reached: every finished step is kept.
  auto from_d = automations::plan_rerun(old_run(), steps, "d", 9000);
  REQUIRE(from_d);
  CHECK(from_d->copied.size() == 4);
}

TEST_CASE("plan_rerun refuses a --from step the definition does not have", "[automations]")
{
  auto plan = automations::plan_rerun(old_run(), {}, "nope", 9000);
  REQUIRE_FALSE(plan);
  CHECK(plan.error().kind == ErrorKind::usage);
  CHECK_THAT(plan.error().message, Catch::Contains("nope"));
  CHECK_THAT(plan.error().message, Catch::Contains("a, b, c, d"));
}

TEST_CASE("insert_automation_run_with_steps stores the run and its steps in order, or neither", "[automations][store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  std::vector<store::AutomationStep> steps = {step("a", "succeeded", {{"v", 1}}), step("b", "succeeded", {{"v", 2}})};
  auto plan = automations::plan_rerun(old_run(), steps, "c", 9000);
  REQUIRE(plan);
  REQUIRE(store::insert_automation_run_with_steps(s, plan->run, plan->copied));
  CHECK(plan->copied[0].seq > 0);
  auto stored = store::get_automation_run(s, plan->run.id);
  REQUIRE(stored);
  CHECK(stored->rerun_of == "arun_old");
  CHECK(stored->next_step == "c");
  auto rows = store::automation_run_steps(s, plan->run.id);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].step == "a");
  CHECK((*rows)[1].output == R"({"v":2})");

  // The same id again: the run is refused, and no step is left behind.
  auto again = automations::plan_rerun(old_run(), steps, "c", 9000);
  REQUIRE(again);
  again->run.id = plan->run.id;
  again->copied[0].run_id = again->copied[1].run_id = plan->run.id;
  CHECK_FALSE(store::insert_automation_run_with_steps(s, again->run, again->copied));
  CHECK(store::automation_run_steps(s, plan->run.id)->size() == 2);
}

TEST_CASE("count_open_automation_runs counts running and waiting runs only", "[automations][store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  for (const char* status : {"running", "waiting", "completed", "failed", "cancelled"}) {
    auto r = old_run();
    r.id = std::string("arun_") + status;
    r.status = status;
    REQUIRE(store::insert_automation_run(s, r));
  }
  auto other = old_run();
  other.id = "arun_other";
  other.automation = "other";
  other.status = "running";
  REQUIRE(store::insert_automation_run(s, other));
  CHECK(*store::count_open_automation_runs(s, "flow") == 2);
  CHECK(*store::count_open_automation_runs(s, "nope") == 0);
}

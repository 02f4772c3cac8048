#include "centrali/automations/rerun.hpp"

#include "centrali/automations/definition.hpp"
#include "centrali/records/merge_patch.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::automations {
namespace {

// A step still running or waiting when the old run was looked at has no
// outcome to copy, and a cancelled one never had one.
bool finished(const store::AutomationStep& s)
{
  return s.status != "running" && s.status != "waiting" && s.status != "cancelled";
}

std::string step_list(const Definition& d)
{
  std::string all;
  for (const auto& s : d.steps) all += (all.empty() ? "" : ", ") + s.id;
  return all;
}

// What the executor merged into the context as these steps ended: the
// "context" member of each succeeded compute step's output, in order, by
// the executor's rule (progress.cpp: a context that stops being an object
// starts again empty).
nlohmann::json rebuilt_context(const std::vector<store::AutomationStep>& steps)
{
  auto context = nlohmann::json::object();
  for (const auto& s : steps) {
    if (s.type != "compute" || s.status != "succeeded" || s.output.empty()) continue;
    auto output = parse_json(s.output);
    if (!output.is_object() || !output.contains("context")) continue;
    context = records::merge_patch(std::move(context), output["context"]);
    if (!context.is_object()) context = nlohmann::json::object();
  }
  return context;
}

} // namespace

Result<Rerun> plan_rerun(const store::AutomationRun& old, const std::vector<store::AutomationStep>& old_steps,
                         std::string_view from, std::int64_t now_ms)
{
  auto definition = parse_definition_text(old.definition);
  if (!definition)
    return fail(ErrorKind::store, "run " + old.id + " follows a definition that no longer reads: " +
                                      definition.error().message);
  if (definition->steps.empty()) return fail(ErrorKind::store, "run " + old.id + " follows a definition without steps");

  Rerun rerun;
  auto& run = rerun.run;
  run.id = ids::make(ids::k_automation_run);
  run.automation = old.automation;
  run.definition = old.definition;
  run.status = "running";
  run.origin = "rerun";
  run.event_id = old.event_id;
  run.rerun_of = old.id;
  run.input = old.input;
  run.context = "{}";
  run.next_step = definition->steps.front().id;
  run.due_ms = now_ms;
  run.created_ms = now_ms;
  run.updated_ms = now_ms;
  if (from.empty()) return rerun;

  if (!definition->step(from))
    return fail(ErrorKind::usage, "--from " + std::string(from) + ": no such step in the definition run " + old.id +
                                      " followed (its steps: " + step_list(*definition) + ")");
  run.next_step = std::string(from);
  std::size_t cut = old_steps.size();
  for (std::size_t i = 0; i < old_steps.size(); ++i)
    if (old_steps[i].step == from) {
      cut = i;
      break;
    }
  for (std::size_t i = 0; i < cut; ++i) {
    if (!finished(old_steps[i])) continue;
    auto copy = old_steps[i];
    copy.seq = 0;
    copy.run_id = run.id;
    rerun.copied.push_back(std::move(copy));
  }
  run.context = rebuilt_context(rerun.copied).dump();
  run.steps_run = static_cast<int>(rerun.copied.size());
  return rerun;
}

} // namespace centrali::automations

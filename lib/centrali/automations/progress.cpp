#include "centrali/automations/progress.hpp"

#include "centrali/automations/conditions.hpp"
#include "centrali/records/merge_patch.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::automations {
namespace {

using json = nlohmann::json;

json parsed_or(const std::string& text, json fallback)
{
  if (text.empty()) return fallback;
  auto parsed = parse_json(text);
  return parsed.is_discarded() ? fallback : parsed;
}

store::AutomationStep& touch(LiveRun& run, store::AutomationStep& row)
{
  for (auto* r : run.to_write)
    if (r == &row) return row;
  run.to_write.push_back(&row);
  return row;
}

store::AutomationStep& new_row(LiveRun& run, const Step& step, std::string status, std::int64_t now_ms)
{
  auto& row = run.history.emplace_back();
  row.run_id = run.row.id;
  row.step = step.id;
  row.type = std::string(to_string(step.type));
  row.status = std::move(status);
  row.started_ms = now_ms;
  row.clock_offset_ms = run.clock_offset_ms;
  ++run.row.steps_run;
  ++run.steps_this_claim;
  return touch(run, row);
}

void end_run(LiveRun& run, std::string status, std::string error, std::int64_t now_ms)
{
  run.row.status = std::move(status);
  run.row.error = std::move(error);
  run.row.next_step.clear();
  run.row.lease_until_ms.reset();
  run.row.ended_ms = now_ms;
  run.row.due_ms = now_ms;
}

// When a delay step falls due: `duration` after now, or the time at `until`
// (RFC 3339 text or Unix seconds).
Result<std::int64_t> delay_due(const Step& step, const json& document, std::int64_t now_ms)
{
  if (step.duration_ms) return now_ms + *step.duration_ms;
  const json* value = lookup(document, step.until_path);
  if (!value) return fail(ErrorKind::usage, "until: " + step.until_path + " is absent");
  if (value->is_number()) return static_cast<std::int64_t>(value->get<double>() * 1000);
  if (value->is_string()) {
    auto at = timeutil::parse_instant(value->get<std::string>());
    if (at) return *at;
    return fail(ErrorKind::usage, "until: " + step.until_path + " is not a time: " + at.error().message);
  }
  return fail(ErrorKind::usage, "until: " + step.until_path + " is not a time (give RFC 3339 text or Unix seconds)");
}

} // namespace

json LiveRun::document() const
{
  return {{"input", input}, {"context", context}, {"steps", steps}};
}

LiveRun resume(store::ClaimedAutomationRun claimed, json input, std::int64_t now_ms, std::int64_t clock_offset_ms)
{
  LiveRun run;
  run.row = std::move(claimed.run);
  run.input = std::move(input);
  run.clock_offset_ms = clock_offset_ms;
  run.context = parsed_or(run.row.context, json::object());
  auto definition = parse_definition_text(run.row.definition);
  if (!definition) {
    end_run(run, "failed", "its definition cannot be read: " + definition.error().message, now_ms);
    return run;
  }
  run.definition = std::move(*definition);
  for (const auto& s : claimed.steps) run.steps[s.step] = {{"status", s.status}, {"output", parsed_or(s.output, nullptr)}};
  if (claimed.steps.empty() && run.row.next_step.empty()) {
    run.row.next_step = run.definition.steps.front().id;  // a new run
    return run;
  }
  if (claimed.steps.empty()) return run;
  auto& last = run.history.emplace_back(std::move(claimed.steps.back()));
  const Step* step = run.definition.step(last.step);
  if (last.status == "running") {
    // Its process died with the executor that ran it (the lease expired).
    touch(run, last);
    last.status = "interrupted";
    last.error = "interrupted (the process executing it stopped)";
    last.ended_ms = now_ms;
    run.steps[last.step]["status"] = "interrupted";
    if (step && !step->retry_interrupted) {
      end_run(run, "failed", "step " + last.step + " was interrupted and says \"retry\": false", now_ms);
      return run;
    }
    run.row.next_step = last.step;
    run.next_attempt = last.attempt + 1;  // CENTRALI_STEP_ATTEMPT tells the step it runs again
  } else if (last.status == "waiting") {
    touch(run, last);
    last.status = "succeeded";
    last.ended_ms = now_ms;
    run.steps[last.step]["status"] = "succeeded";
    run.row.next_step = last.next;
    run.row.status = "running";
  } else if (last.status == "failed" && last.step == run.row.next_step) {
    run.next_attempt = last.attempt + 1;  // a compute step's retry, due now
  }
  return run;
}

Halt advance(LiveRun& run, std::int64_t now_ms, bool may_start_compute)
{
  while (!run.ended()) {
    if (run.row.next_step.empty()) {
      end_run(run, "completed", "", now_ms);
      break;
    }
    if (run.row.steps_run >= k_max_steps_per_run) {
      end_run(run, "failed",
              "stopped after " + std::to_string(k_max_steps_per_run) + " steps (the most a run may take)", now_ms);
      break;
    }
    const Step* step = run.definition.step(run.row.next_step);
    if (!step) {
      end_run(run, "failed", "no step " + run.row.next_step + " in its definition", now_ms);
      break;
    }
    switch (step->type) {
    case StepType::decision: {
      auto decision = decide(*step, run.document());
      auto& row = new_row(run, *step, "succeeded", now_ms);
      row.ended_ms = now_ms;
      row.next = decision.next;
      row.detail = triggers::dump_json(decision.detail);
      run.steps[step->id] = {{"status", "succeeded"}, {"output", nullptr}};
      run.row.next_step = decision.next;
      break;
    }
    case StepType::delay: {
      auto due = delay_due(*step, run.document(), now_ms);
      auto& row = new_row(run, *step, "succeeded", now_ms);
      row.next = step->next;
      if (!due) {
        row.status = "failed";
        row.ended_ms = now_ms;
        row.error = due.error().message;
        run.steps[step->id] = {{"status", "failed"}, {"output", nullptr}};
        end_run(run, "failed", "step " + step->id + ": " + due.error().message, now_ms);
        break;
      }
      row.detail = triggers::dump_json(json{{"due_at", timeutil::format_rfc3339(*due)}});
      if (*due <= now_ms) {
        row.ended_ms = now_ms;
        run.steps[step->id] = {{"status", "succeeded"}, {"output", nullptr}};
        run.row.next_step = step->next;
        break;
      }
      // Due later: the stored due time is absolute, so a restart keeps it.
      row.status = "waiting";
      run.steps[step->id] = {{"status", "waiting"}, {"output", nullptr}};
      run.row.status = "waiting";
      run.row.due_ms = *due;
      run.row.lease_until_ms.reset();
      return Halt::waiting;
    }
    case StepType::compute: {
      if (!may_start_compute) {
        run.row.due_ms = now_ms;
        return Halt::held;
      }
      auto& row = new_row(run, *step, "running", now_ms);
      row.attempt = run.next_attempt;
      run.next_attempt = 1;
      run.steps[step->id] = {{"status", "running"}, {"output", nullptr}};
      run.row.lease_until_ms = now_ms + step->timeout_ms + k_compute_lease_margin_ms;
      run.open_compute = &row;
      return Halt::compute;
    }
    }
  }
  return Halt::ended;
}

void release(LiveRun& run, std::int64_t now_ms)
{
  run.row.due_ms = now_ms;
  run.row.lease_until_ms.reset();
}

Halt finish_compute(LiveRun& run, const ComputeOutcome& outcome, std::int64_t now_ms)
{
  auto& row = touch(run, *run.open_compute);
  run.open_compute = nullptr;
  const Step* step = run.definition.step(row.step);
  row.ended_ms = now_ms;
  if (!outcome.output.is_null()) row.output = triggers::dump_json(outcome.output);
  json detail = {{"duration_ms", outcome.duration_ms}};
  if (outcome.exit_code) detail["exit_code"] = *outcome.exit_code;
  if (!outcome.stderr_tail.empty()) detail["stderr"] = outcome.stderr_tail;
  row.detail = triggers::dump_json(detail);
  run.row.lease_until_ms.reset();
  if (outcome.succeeded) {
    row.status = "succeeded";
    row.next = step ? step->next : "";
    run.steps[row.step] = {{"status", "succeeded"}, {"output", outcome.output}};
    if (outcome.output.is_object() && outcome.output.contains("context"))
      run.context = records::merge_patch(std::move(run.context), outcome.output["context"]);
    if (!run.context.is_object()) run.context = json::object();
    run.row.next_step = row.next;
    run.row.due_ms = now_ms;
    return Halt::compute;  // continues: the caller advances it
  }
  row.status = "failed";
  row.error = outcome.error;
  run.steps[row.step] = {{"status", "failed"}, {"output", outcome.output}};
  if (step && row.attempt <= step->retries) {
    // Retries wait backoff × 2^(n-1) before attempt n+1.
    const int shift = std::min(row.attempt - 1, 20);
    run.row.due_ms = now_ms + (step->backoff_ms << shift);
    run.next_attempt = row.attempt + 1;
    return Halt::waiting;
  }
  end_run(run, "failed",
          "step " + row.step + " failed" + (row.attempt > 1 ? " after " + std::to_string(row.attempt) + " attempts" : "") +
              ": " + outcome.error,
          now_ms);
  return Halt::ended;
}

store::RunProgress progress_of(LiveRun& run, std::int64_t now_ms)
{
  store::RunProgress p;
  p.run_id = run.row.id;
  p.status = run.row.status;
  p.input = std::move(run.new_input);
  run.new_input.clear();
  p.context = triggers::dump_json(run.context);
  p.next_step = run.row.next_step;
  p.due_ms = run.row.due_ms;
  p.lease_until_ms = run.row.lease_until_ms;
  p.steps_run = run.row.steps_run;
  p.error = run.row.error;
  p.ended_ms = run.row.ended_ms;
  p.now_ms = now_ms;
  p.steps = std::move(run.to_write);
  run.to_write.clear();
  return p;
}

json event_input(const store::Event& event)
{
  json params = triggers::event_params(event);
  json input = params["event"];
  if (params.contains("record")) input["record"] = params["record"];
  return input;
}

} // namespace centrali::automations

#include "centrali/triggers/function.hpp"
#include "centrali/store/store.hpp"

#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/process.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::triggers {
namespace {

using json = nlohmann::json;

std::string trimmed(const std::string& s)
{
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

void add_note(std::string& error, const std::string& note)
{
  error += (error.empty() ? "" : "; ") + note;
}

} // namespace

FunctionRun run_function(const store::Trigger& trigger, const json& execution_params, const RunIdentity& identity)
{
  ProcessSpec spec;
  spec.command = trigger.command;
  spec.mode = trigger.exec ? CommandMode::exec : CommandMode::shell;
  spec.stdin_data = stdin_document(trigger.params, execution_params);
  spec.env = trigger.env;
  spec.withheld_env = identity.withheld_env;
  // Last, so a trigger's own --env can never pretend to be another run.
  spec.env.emplace_back("CENTRALI_RUN_ID", identity.run_id);
  spec.env.emplace_back("CENTRALI_TRIGGER", trigger.name);
  spec.env.emplace_back("CENTRALI_EVENT_TYPE", identity.event_type);
  spec.env.emplace_back("CENTRALI_STORE", store::absolute_location(identity.store_path));
  spec.cwd = trigger.cwd;
  spec.timeout = std::chrono::milliseconds(trigger.timeout_ms);
  spec.max_output = k_max_output;

  FunctionRun run;
  auto& r = run.result;
  r.id = identity.run_id;
  r.started_ms = timeutil::now_ms();
  auto p = run_process(spec);
  r.ended_ms = timeutil::now_ms();
  r.stdout_data = std::move(p.out);
  r.stderr_data = std::move(p.err);
  run.stdout_truncated = p.out_truncated;
  switch (p.outcome) {
  case ProcessOutcome::failed_to_start:
    r.status = "failure";
    r.error = p.error;
    break;
  case ProcessOutcome::timed_out:
    r.status = "timeout";
    r.error = "timed out after " + timeutil::format_duration(spec.timeout) + "; its process group was killed";
    break;
  case ProcessOutcome::exited:
    r.exit_code = p.exit_code;
    if (p.exit_code == 0) {
      r.status = "completed";
    } else {
      r.status = "failure";
      r.error = p.error.empty() ? "exit code " + std::to_string(p.exit_code) : p.error;
    }
    break;
  }
  if (p.out_truncated) add_note(r.error, "stdout truncated at 1 MiB");
  if (p.err_truncated) add_note(r.error, "stderr truncated at 1 MiB");
  if (!p.out_truncated) {
    auto text = trimmed(r.stdout_data);
    if (!text.empty()) {
      auto parsed = parse_json(text);
      if (!parsed.is_discarded()) r.output = dump_json(parsed);
    }
  }
  return run;
}

json output_value(const std::string& output_json, const std::string& stdout_data)
{
  if (!output_json.empty()) {
    auto parsed = parse_json(output_json);
    if (!parsed.is_discarded()) return parsed;
  }
  if (stdout_data.empty()) return nullptr;
  return stdout_data;
}

} // namespace centrali::triggers

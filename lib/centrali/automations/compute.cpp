#include "centrali/automations/compute.hpp"
#include "centrali/store/store.hpp"

#include "centrali/triggers/function.hpp"
#include "centrali/triggers/process.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::automations {
namespace {

// How much of a step's stderr is kept with it: the end, where errors are.
constexpr std::size_t k_stderr_kept = 4096;

std::string trimmed(const std::string& s)
{
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

} // namespace

ComputeOutcome run_compute(const Step& step, const ComputeIdentity& identity, const std::string& stdin_document)
{
  triggers::ProcessSpec spec;
  spec.command = step.run;
  spec.mode = step.exec ? triggers::CommandMode::exec : triggers::CommandMode::shell;
  spec.stdin_data = stdin_document;
  spec.env = step.env;
  spec.withheld_env = identity.withheld_env;
  // Last, so a step's own env can never pretend to be another run.
  spec.env.emplace_back("CENTRALI_AUTOMATION", identity.automation);
  spec.env.emplace_back("CENTRALI_RUN_ID", identity.run_id);
  spec.env.emplace_back("CENTRALI_STEP", step.id);
  spec.env.emplace_back("CENTRALI_STEP_ATTEMPT", std::to_string(identity.attempt));
  spec.env.emplace_back("CENTRALI_STORE", store::absolute_location(identity.store_path));
  spec.cwd = step.cwd;
  spec.timeout = std::chrono::milliseconds(step.timeout_ms);
  spec.max_output = triggers::k_max_output;

  auto p = triggers::run_process(spec);
  ComputeOutcome out;
  out.duration_ms = p.duration_ms;
  out.stderr_tail = p.err.size() > k_stderr_kept ? p.err.substr(p.err.size() - k_stderr_kept) : p.err;
  switch (p.outcome) {
  case triggers::ProcessOutcome::failed_to_start:
    out.error = p.error;
    break;
  case triggers::ProcessOutcome::timed_out:
    out.error = "timed out after " + timeutil::format_duration(spec.timeout) + "; its process group was killed";
    break;
  case triggers::ProcessOutcome::exited:
    out.exit_code = p.exit_code;
    out.succeeded = p.exit_code == 0;
    if (!out.succeeded) out.error = p.error.empty() ? "exit code " + std::to_string(p.exit_code) : p.error;
    break;
  }
  if (p.out_truncated) {
    // A cut document is not the step's output: say so rather than guess.
    out.succeeded = false;
    out.error += (out.error.empty() ? "" : "; ") + std::string("stdout passed 1 MiB");
    return out;
  }
  auto text = trimmed(p.out);
  if (!text.empty()) {
    auto parsed = parse_json(text);
    out.output = parsed.is_discarded() ? nlohmann::json(text) : parsed;
  }
  return out;
}

} // namespace centrali::automations

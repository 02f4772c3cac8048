#pragma once
// Running one function: the trigger's command, fed the stdin document,
// with CENTRALI_* in its environment, its outcome turned into run fields.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/store/runs.hpp"
#include "centrali/store/triggers.hpp"

namespace centrali::triggers {

// Per-stream limit on kept output; the rest is read and discarded.
inline constexpr std::size_t k_max_output = 1 << 20;

// What the environment of a run says about it.
struct RunIdentity {
  std::string run_id;
  std::string event_type;            // CENTRALI_EVENT_TYPE; empty unless an event started it
  std::filesystem::path store_path;  // CENTRALI_STORE (made absolute)
  // Variables the listener holds secrets in (store::secret_env_names): a
  // function is any command, and it gets none of them.
  std::vector<std::string> withheld_env;
};

struct FunctionRun {
  store::RunResult result;           // status completed | failure | timeout, outputs, timings
  bool stdout_truncated = false;
};

// Runs `trigger`'s command to completion or timeout (the whole process
// group is killed then). Never throws; a command that cannot start is a
// failure whose error says why ("command not found: foo").
FunctionRun run_function(const store::Trigger& trigger, const nlohmann::json& execution_params,
                         const RunIdentity& identity);

// The run's output value: stdout parsed as JSON when `output_json` is set,
// else stdout as text, or null when there was none.
nlohmann::json output_value(const std::string& output_json, const std::string& stdout_data);

} // namespace centrali::triggers

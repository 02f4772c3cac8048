#pragma once
// A compute step's process: the step's command with the triggers' contract
// (one JSON document on stdin, never the command line; CENTRALI_* in the
// environment; a timeout that kills its process group; bounded output).
//   stdin  {"input", "context", "steps"}
//   env    CENTRALI_AUTOMATION, CENTRALI_RUN_ID, CENTRALI_STEP,
//          CENTRALI_STEP_ATTEMPT (2 and up: run again after a failure or an
//          interruption), CENTRALI_STORE
//   stdout JSON becomes steps.<id>.output (else its text); exit 0 succeeds.
#include <filesystem>
#include <string>
#include <vector>

#include "centrali/automations/definition.hpp"
#include "centrali/automations/progress.hpp"

namespace centrali::automations {

struct ComputeIdentity {
  std::string automation, run_id;
  int attempt = 1;
  std::filesystem::path store_path;
  std::vector<std::string> withheld_env;  // the sources' secret variables: a step gets none of them
};

ComputeOutcome run_compute(const Step& step, const ComputeIdentity& identity, const std::string& stdin_document);

} // namespace centrali::automations

#pragma once
// `automations rerun`: a new run of an old run's definition with the same
// input, from the start or from one of its steps. Rerunning from STEP keeps
// what the old run did before it first reached STEP, so decisions after
// STEP see the same outputs and the same context.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/store/automations.hpp"
#include "centrali/util/error.hpp"

namespace centrali::automations {

struct Rerun {
  store::AutomationRun run;                  // the new run, ready to insert (origin rerun, due now)
  std::vector<store::AutomationStep> copied;  // the old run's steps it starts with, in order (seq 0)
};

// Plans a rerun of `old` (its steps `old_steps` in execution order). With
// `from` empty the new run starts at the definition's first step, with an
// empty context. Else it starts at `from`: the old run's steps executed
// before `from` first ran (all of its finished steps when `from` never
// ran) are copied with their status and output, and the context is the
// merge (JSON Merge Patch), in order, of the "context" members of the
// copied compute steps that succeeded. ErrorKind::usage when `from` is not
// a step of the definition the old run followed.
Result<Rerun> plan_rerun(const store::AutomationRun& old, const std::vector<store::AutomationStep>& old_steps,
                         std::string_view from, std::int64_t now_ms);

} // namespace centrali::automations

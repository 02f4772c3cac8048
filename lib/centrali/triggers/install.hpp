#pragma once
// Plugs triggers into a running listener: the run worker, the scheduler and
// the /endpoints/ route.
#include "centrali/listen/wiring.hpp"

namespace centrali::triggers {

// Adds the runner and the scheduler to `wiring.services`, points
// `wiring.runs_queued` at the runner, and serves /endpoints/ on the server.
void install(listen::Wiring& wiring);

} // namespace centrali::triggers

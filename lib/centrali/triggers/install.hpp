#pragma once
// Plugs triggers into a running listener: the run worker, the scheduler and
// the /endpoints/ route.
#include "centrali/listen/wiring.hpp"

namespace centrali::triggers {

void install(listen::Wiring& wiring);

} // namespace centrali::triggers

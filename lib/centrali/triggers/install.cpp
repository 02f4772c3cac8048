#include "centrali/triggers/install.hpp"

namespace centrali::triggers {

void install(listen::Wiring&)
{
  // Triggers arrive with their own issue: the run worker, the scheduler
  // and the /endpoints/ route are registered here.
}

} // namespace centrali::triggers

#pragma once
// Why an event did or did not go to each webhook and event trigger
// (`events show ID --explain`): the routing rule of fan-out
// (dispatch/routing.hpp) applied to the stored event and today's
// definitions, beside what fan-out actually made for it.
#include <string>
#include <vector>

#include "centrali/query/where.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/store.hpp"

namespace centrali::dispatch {

struct RouteReport {
  std::string kind;                                 // webhook | trigger
  std::string id;                                   // webhook id, or trigger name
  std::string name;                                 // webhook name (may be empty); trigger name
  bool takes = false;                               // it would take the event now
  std::string reason;                               // why not (empty when it does)
  std::vector<query::ConditionOutcome> conditions;  // each content condition on this body
  std::vector<std::string> made;                    // deliveries or runs made for the event
};

struct Explanation {
  bool fanned_out = true;   // only accepted events fan out
  bool body_is_json = false;
  std::vector<RouteReport> routes;  // webhooks by creation, then triggers by name
};

Result<Explanation> explain_event(store::Store& store, const store::Event& event);

} // namespace centrali::dispatch

#include "centrali/dispatch/explain.hpp"

#include "centrali/dispatch/routing.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::dispatch {
namespace {

void judge(RouteReport& report, const Route& route, const EventFacts& facts, bool is_trigger)
{
  const auto verdict = route_event(route, facts);
  report.takes = verdict.taken();
  if (!report.takes) report.reason = describe(verdict, route, facts, is_trigger);
  report.conditions = route.where.explain(facts.body());
}

} // namespace

Result<Explanation> explain_event(store::Store& store, const store::Event& event)
{
  Explanation out;
  out.fanned_out = event.status == "accepted";
  out.body_is_json = !parse_json(event.body).is_discarded();
  const EventFacts facts(event.type, event.source, event.body);
  auto webhooks = store::list_webhooks(store);
  if (!webhooks) return std::unexpected(webhooks.error());
  auto deliveries = store::deliveries_for_event(store, event.id);
  if (!deliveries) return std::unexpected(deliveries.error());
  for (const auto& w : *webhooks) {
    RouteReport r{"webhook", w.id, w.name, false, {}, {}, {}};
    judge(r, webhook_route(w.active, w.events, w.filter), facts, false);
    for (const auto& d : *deliveries)
      if (d.kind == "webhook" && d.webhook_id == w.id) r.made.push_back(d.id);
    out.routes.push_back(std::move(r));
  }
  auto triggers = store::list_triggers(store, "event");
  if (!triggers) return std::unexpected(triggers.error());
  auto runs = store::runs_for_event(store, event.id);
  if (!runs) return std::unexpected(runs.error());
  for (const auto& t : *triggers) {
    RouteReport r{"trigger", t.name, t.name, false, {}, {}, {}};
    judge(r, trigger_route(t.paused, t.events.empty() ? "*" : t.events, t.source, t.collection, t.where), facts, true);
    for (const auto& run : *runs)
      if (run.trigger == t.name && run.origin == "event") r.made.push_back(run.id);
    out.routes.push_back(std::move(r));
  }
  return out;
}

} // namespace centrali::dispatch

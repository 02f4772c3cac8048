#include "centrali/dispatch/routing.hpp"

#include "centrali/query/json_find.hpp"
#include "centrali/util/glob.hpp"

namespace centrali::dispatch {
namespace {

Route with_conditions(Route r, const std::vector<std::string>& conditions, const char* label)
{
  if (conditions.empty()) return r;
  auto where = query::Where::parse(conditions, label);
  if (where) r.where = std::move(*where);
  else r.unreadable = where.error().message;
  return r;
}

} // namespace

Route webhook_route(bool active, std::string globs, const std::vector<std::string>& filter)
{
  Route r;
  r.enabled = active;
  r.globs = std::move(globs);
  return with_conditions(std::move(r), filter, "filter");
}

Route trigger_route(bool paused, std::string globs, std::string source, std::string collection,
                    const std::vector<std::string>& where)
{
  Route r;
  r.enabled = !paused;
  r.globs = std::move(globs);
  r.source = std::move(source);
  r.collection = std::move(collection);
  return with_conditions(std::move(r), where, "where");
}

const std::string& EventFacts::collection() const
{
  if (!m_collection) {
    static const std::vector<query::JsonPath> k_collection{query::JsonPath({"collection"})};
    const auto found = query::find_json(m_body, k_collection);
    const auto value = found.at(0);
    m_collection = value && query::json_kind(*value) == query::JsonKind::string ? query::json_string_content(*value)
                                                                                 : std::string();
  }
  return *m_collection;
}

bool types_match(std::string_view globs, std::string_view type)
{
  constexpr std::string_view k_operational = "centrali.";
  return glob_match_any(globs, type, type.starts_with(k_operational) ? k_operational : std::string_view());
}

Verdict route_event(const Route& route, const EventFacts& event)
{
  // Cheapest first; the body is read last, and only when a route has
  // conditions.
  if (!route.enabled) return {Miss::disabled};
  if (!types_match(route.globs, event.type())) return {Miss::type};
  if (!route.source.empty() && route.source != event.source()) return {Miss::source};
  if (!route.collection.empty()) {
    // A collection names records of this store: an inbound webhook whose
    // body says {"type":"record_created","collection":…} is not a record
    // change.
    if (event.source() != "local") return {Miss::not_local};
    if (event.collection() != route.collection) return {Miss::collection};
  }
  if (!route.unreadable.empty()) return {Miss::unreadable};
  if (auto failed = route.where.first_failure(event.body())) return {Miss::condition, *failed};
  return {};
}

std::string describe(const Verdict& v, const Route& route, const EventFacts& event, bool is_trigger)
{
  switch (v.miss) {
  case Miss::none: return "matches";
  case Miss::disabled: return is_trigger ? "the trigger is paused" : "the webhook is disabled";
  case Miss::type: return "type " + std::string(event.type()) + " does not match '" + route.globs + "'";
  case Miss::source: return "source " + std::string(event.source()) + " is not " + route.source;
  case Miss::not_local: return "only record events of this store (source local) have a collection";
  case Miss::collection:
    return event.collection().empty() ? "the event has no collection, not " + route.collection
                                      : "collection " + event.collection() + " is not " + route.collection;
  case Miss::unreadable: return "its conditions cannot be read, so it takes nothing: " + route.unreadable;
  case Miss::condition: {
    bool json = false;
    const auto outcomes = route.where.explain(event.body(), &json);
    const auto& o = outcomes.at(v.condition);
    const auto& c = route.where.conditions().at(v.condition);
    std::string why = !json ? "the body is not JSON" : !o.found ? c.path + " is missing" : c.path + " is " + *o.found;
    return o.text + " does not hold (" + why + ")";
  }
  }
  return {};
}

} // namespace centrali::dispatch

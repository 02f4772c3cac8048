#pragma once
// Which webhooks and event triggers take an event: the one rule, used by
// fan-out (dispatch/fanout.hpp) as events arrive, and by `events show
// --explain` to say why an event did or did not go somewhere.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/query/where.hpp"

namespace centrali::dispatch {

// What a webhook or an event trigger asks of events.
struct Route {
  bool enabled = true;       // an active webhook, an unpaused trigger
  std::string globs;         // event types, comma-separated globs
  std::string source;        // triggers: only events from this source (empty: any)
  std::string collection;    // triggers: only record events of this collection (empty: any)
  query::Where where;        // content conditions, all must hold
  std::string unreadable;    // why stored conditions could not be read (then nothing matches)
};

// A route from stored definitions. Conditions this binary cannot read
// (written by hand, or by a newer version) make a route that takes
// nothing, rather than one that ignores them: a filter exists to keep
// events away from somewhere.
Route webhook_route(bool active, std::string globs, const std::vector<std::string>& filter);
Route trigger_route(bool paused, std::string globs, std::string source, std::string collection,
                    const std::vector<std::string>& where);

// The event being routed. The record collection is read from the body at
// most once, and only when a route asks.
class EventFacts {
public:
  EventFacts(std::string_view type, std::string_view source, std::string_view body)
      : m_type(type), m_source(source), m_body(body)
  {
  }
  std::string_view type() const { return m_type; }
  std::string_view source() const { return m_source; }
  std::string_view body() const { return m_body; }
  const std::string& collection() const;  // "" when the body has none

private:
  std::string_view m_type, m_source, m_body;
  mutable std::optional<std::string> m_collection;
};

// Why a route does not take an event (none: it does).
enum class Miss { none, disabled, type, source, not_local, collection, unreadable, condition };

struct Verdict {
  Miss miss = Miss::none;
  std::size_t condition = 0;  // Miss::condition: which one failed
  bool taken() const { return miss == Miss::none; }
};

Verdict route_event(const Route& route, const EventFacts& event);

// Whether comma-separated `globs` take events of `type`. centrali's own
// operational events (centrali.*, delivery/operational_events.hpp) are
// taken only by a glob that names them, starting `centrali.`: a webhook on
// '*' keeps receiving its application's events and nothing else.
bool types_match(std::string_view globs, std::string_view type);

// The verdict in words, for people: "type order.created does not match
// 'invoice.*'", "data.amount>=100 does not hold (data.amount is 50)".
std::string describe(const Verdict& verdict, const Route& route, const EventFacts& event, bool is_trigger);

} // namespace centrali::dispatch

#include "centrali/delivery/operational_events.hpp"

#include <nlohmann/json.hpp>

#include "centrali/dispatch/routing.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::delivery {
namespace {

using json = nlohmann::json;

// Someone takes events of `type`: a webhook or an event trigger whose
// globs name it (operational events need a `centrali.` glob: see
// dispatch::types_match).
Result<bool> subscribed(store::Store& store, std::string_view type)
{
  auto webhooks = store::fan_out_webhooks(store);
  if (!webhooks) return std::unexpected(webhooks.error());
  for (const auto& w : *webhooks)
    if (dispatch::types_match(w.events, type)) return true;
  auto triggers = store::fan_out_triggers(store);
  if (!triggers) return std::unexpected(triggers.error());
  for (const auto& t : *triggers)
    if (!t.paused && dispatch::types_match(t.events, type)) return true;
  return false;
}

// Stored only when someone subscribes: a store nobody asked to watch gets
// no events of its own in `events list`.
Result<void> emit(store::Store& store, std::string_view type, const json& data, std::int64_t now_ms)
{
  auto wanted = subscribed(store, type);
  if (!wanted || !*wanted) return wanted ? Result<void>{} : std::unexpected(wanted.error());
  store::Event e;
  e.id = ids::make(ids::k_event);
  e.source = "local";
  e.type = std::string(type);
  e.status = "accepted";
  e.method = "";
  e.received_ms = now_ms;
  e.body = data.dump(-1, ' ', false, json::error_handler_t::replace);
  return store::insert_event(store, e, true);
}

json or_null(const std::string& s)
{
  return s.empty() ? json(nullptr) : json(s);
}

// The webhook's name and URL as they are now (null once it is removed).
void describe_webhook(store::Store& store, const std::string& id, json& data)
{
  auto w = store::get_webhook(store, id);
  data["webhook_id"] = id;
  data["name"] = w ? or_null(w->name) : json(nullptr);
  data["url"] = w ? json(w->url) : json(nullptr);
}

} // namespace

bool is_operational(std::string_view event_type)
{
  return event_type.starts_with("centrali.");
}

Result<void> emit_webhook_disabled(store::Store& store, const std::string& webhook_id, const std::string& reason,
                                   std::int64_t now_ms)
{
  json data;
  describe_webhook(store, webhook_id, data);
  data["reason"] = reason;
  data["disabled_at"] = timeutil::format_rfc3339(now_ms);
  return emit(store, k_webhook_disabled, data, now_ms);
}

Result<void> emit_delivery_exhausted(store::Store& store, const store::Delivery& d, const store::DeliveryUpdate& u,
                                     int attempts, std::int64_t now_ms)
{
  json data = {{"delivery_id", d.id},
               {"kind", d.kind},
               {"webhook_id", or_null(d.webhook_id)},
               {"event_id", d.event_id},
               {"event_type", d.event_type},
               {"url", d.url},
               {"attempts", attempts},
               {"last_status", u.last_status ? json(*u.last_status) : json(nullptr)},
               {"last_error", or_null(u.last_error)},
               {"exhausted_at", timeutil::format_rfc3339(now_ms)}};
  return emit(store, k_delivery_exhausted, data, now_ms);
}

Result<void> emit_webhook_recovered(store::Store& store, const std::string& webhook_id, std::int64_t failing_since_ms,
                                    std::int64_t now_ms)
{
  json data;
  describe_webhook(store, webhook_id, data);
  data["failing_since"] = timeutil::format_rfc3339(failing_since_ms);
  data["recovered_at"] = timeutil::format_rfc3339(now_ms);
  return emit(store, k_webhook_recovered, data, now_ms);
}

} // namespace centrali::delivery

#include "centrali/dispatch/fanout.hpp"

#include <memory>

#include "centrali/dispatch/routing.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/ids.hpp"

namespace centrali::dispatch {
namespace {

struct WebhookTarget {
  std::string id, url;
  Route route;
  std::string skip_reason;  // disabled: what it would take is kept as skipped, for `webhooks recover`
};
struct TriggerTarget {
  std::string name;
  Route route;
};
struct AutomationTarget {
  std::string name, definition;
  Route route;
};

// "a,b": the comma-separated form routes read.
std::string joined(const std::vector<std::string>& globs)
{
  std::string out;
  for (const auto& g : globs) out += (out.empty() ? "" : ",") + g;
  return out;
}

} // namespace

Result<store::FanOutResult> fan_out_pending(store::Store& store, int limit, std::int64_t now_ms,
                                            const store::FanOutLease* lease, bool may_route)
{
  store::FanOutResult result;
  auto stored_webhooks = store::fan_out_webhooks(store);
  if (!stored_webhooks) return std::unexpected(stored_webhooks.error());
  auto stored_triggers = store::fan_out_triggers(store);
  if (!stored_triggers) return std::unexpected(stored_triggers.error());
  auto stored_automations = store::fan_out_automations(store);
  if (!stored_automations) return std::unexpected(stored_automations.error());
  std::vector<WebhookTarget> webhooks;
  bool conditions = false;
  bool any_active = false;
  for (auto& w : *stored_webhooks) {
    // A disabled webhook is routed as if it were on: what it would take is
    // recorded as a skipped delivery (with the reason), so `webhooks
    // recover` can send it once the endpoint is back.
    conditions = conditions || !w.filter.empty();
    any_active = any_active || w.active;
    webhooks.push_back({std::move(w.id), std::move(w.url), webhook_route(true, std::move(w.events), w.filter),
                        w.active ? std::string() : store::skipped_because(w.disabled_reason)});
  }
  std::vector<TriggerTarget> triggers;
  for (auto& t : *stored_triggers) {
    if (t.paused) continue;
    conditions = conditions || !t.where.empty();
    triggers.push_back(
        {std::move(t.name), trigger_route(false, std::move(t.events), std::move(t.source), std::move(t.collection), t.where)});
  }
  std::vector<AutomationTarget> automations;
  for (auto& a : *stored_automations) {
    automations.push_back({std::move(a.name), std::move(a.definition),
                           trigger_route(false, joined(a.events), std::move(a.source), std::move(a.collection), {})});
  }
  // Nothing to route to (a listener that only stores, and forwards at
  // ingestion): every event is passed at once, none read. An event still
  // being inserted beside a shared lock may be passed too: it has nowhere
  // to go either.
  result.nothing_to_route = webhooks.empty() && triggers.empty() && automations.empty();
  if (result.nothing_to_route) {
    if (auto r = store::advance_fan_out_cursor(store, {}, limit); !r) return std::unexpected(r.error());
    return result;
  }
  // Routing reads past the cursor, which only the whole write lock keeps
  // from passing an event another process has not yet committed.
  if (!may_route) {
    result.must_route = true;
    return result;
  }
  // Every body is read when a route has content conditions and, when
  // deliveries go to a worker with the payload they send, because the row
  // is being read here anyway (not when no webhook could take one: a
  // listener that only stores and triggers). Otherwise only record events'
  // bodies, for triggers on a collection.
  std::size_t payload_budget = lease && any_active ? lease->payload_budget : 0;
  auto rows = store::pending_events(store, limit,
                                    payload_budget > 0 || conditions ? store::PendingBodies::all : store::PendingBodies::records);
  if (!rows) return std::unexpected(rows.error());

  std::vector<const WebhookTarget*> to_webhooks;
  std::vector<const TriggerTarget*> to_triggers;
  std::vector<const AutomationTarget*> to_automations;
  for (auto& row : *rows) {
    // Decided before anything is made, so the body can go with the first
    // leased delivery once no route needs it.
    const EventFacts event(row.type, row.source, row.body);
    to_webhooks.clear();
    to_triggers.clear();
    for (const auto& w : webhooks)
      if (route_event(w.route, event).taken()) to_webhooks.push_back(&w);
    for (const auto& t : triggers)
      if (route_event(t.route, event).taken()) to_triggers.push_back(&t);
    to_automations.clear();
    for (const auto& a : automations)
      if (route_event(a.route, event).taken()) to_automations.push_back(&a);

    // What get_event_payload would read, shared by the event's leased
    // deliveries; made for the first of them while the budget lasts.
    std::shared_ptr<store::Event> payload;
    bool payload_made = false;
    for (const auto* w : to_webhooks) {
      store::Delivery d;
      d.id = ids::make(ids::k_delivery);
      d.kind = "webhook";
      d.event_id = row.id;
      d.webhook_id = w->id;
      d.event_type = row.type;
      d.url = w->url;
      d.created_ms = d.updated_ms = now_ms;
      if (!w->skip_reason.empty()) {
        d.status = "skipped";
        d.last_error = w->skip_reason;
        if (auto r = store::insert_delivery(store, d, nullptr); !r) return std::unexpected(r.error());
        ++result.skipped;
        continue;
      }
      d.status = "pending";
      d.next_attempt_ms = now_ms;
      const bool leased = lease && lease->accept(w->url);
      if (leased) {
        d.lease_until_ms = lease->lease_until_ms;
        d.lease_owner = lease->owner;
      }
      if (auto r = store::insert_delivery(store, d, leased ? &d.seq : nullptr); !r) return std::unexpected(r.error());
      ++result.deliveries;
      if (!leased) continue;
      if (!payload_made) {
        payload_made = true;
        if (row.body.size() <= payload_budget) {
          payload_budget -= row.body.size();
          payload = std::make_shared<store::Event>();
          payload->id = row.id;
          payload->type = row.type;
          payload->received_ms = row.received_ms;
          payload->body = std::move(row.body);  // routed already: nothing reads it below
        }
      }
      result.leased.push_back({std::move(d), payload});
    }
    for (const auto* t : to_triggers) {
      if (auto r = store::queue_event_run(store, t->name, row.id, now_ms); !r) return std::unexpected(r.error());
      ++result.runs;
    }
    for (const auto* a : to_automations) {
      if (auto r = store::queue_automation_event_run(store, a->name, a->definition, row.id, now_ms); !r)
        return std::unexpected(r.error());
      ++result.automation_runs;
    }
    ++result.events;
  }
  if (auto r = store::advance_fan_out_cursor(store, *rows, limit); !r) return std::unexpected(r.error());
  return result;
}

} // namespace centrali::dispatch

#pragma once
// The fan-out queue: events waiting to be turned into work, and what that
// work is made for. Every event from any origin (ingested, `events emit`,
// record changes) is read once from here by dispatch/fanout.hpp, which
// decides (dispatch/routing.hpp) which webhooks, triggers and automations take it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/store.hpp"

namespace centrali::store {

struct LeasedDelivery {
  Delivery delivery;
  // Its event as get_event_payload reads it (id, type, received_ms, body),
  // shared by the event's deliveries; null when the budget ran out.
  std::shared_ptr<Event> payload;
};

struct FanOutResult {
  int events = 0;      // events fanned out (the cursor moved past them)
  int deliveries = 0;  // webhook deliveries created
  int skipped = 0;     // deliveries recorded as skipped (their webhook is disabled)
  int runs = 0;        // trigger runs queued
  int automation_runs = 0;  // automation runs started
  // Nothing to route to (no webhook, trigger or automation): every event
  // was passed, none read.
  bool nothing_to_route = false;
  // Something to route to, under a transaction that may not route (see
  // dispatch::fan_out_pending): nothing was done.
  bool must_route = false;
  // The deliveries made already leased (see FanOutLease), as claimed ones
  // are returned: seq filled in, due time the one they would have had.
  std::vector<LeasedDelivery> leased;
};

// Fresh deliveries for an in-process delivery worker: those `accept` takes
// are inserted already leased to it until `lease_until_ms`, exactly as a
// claim would leave them, so they need no claim (a write of every row, and
// a read of it, on the store's one writer). The rest are made due now, for
// any worker to claim.
struct FanOutLease {
  std::int64_t lease_until_ms = 0;
  std::function<bool(const std::string& url)> accept;
  // Up to this many bytes of event bodies come with the leased deliveries
  // (read with the event here, instead of again by the worker).
  std::size_t payload_budget = 0;
  std::int64_t owner = 0;  // the sender the leases name (Delivery::lease_owner)
};

// How fan-out reaches an in-process delivery worker (see FanOutLease).
// Both or neither.
struct DeliveryHandOff {
  // On the writer thread, in the fan-out's transaction (perhaps more than
  // once, should the transaction be redone): which deliveries the worker
  // takes, and their lease. Begins a hand-over that `take` ends.
  std::function<FanOutLease(Store&, std::int64_t now_ms)> lease;
  // After the transaction, always: what was leased to it (nothing if the
  // transaction failed).
  std::function<void(std::vector<LeasedDelivery>)> take;
};

// A webhook as fan-out reads it (every webhook, enabled or not).
struct FanOutWebhook {
  std::string id, url, events;
  std::vector<std::string> filter;
  bool active = true;
  std::string disabled_reason;
};
Result<std::vector<FanOutWebhook>> fan_out_webhooks(Store& store);

// An event trigger as fan-out reads it (paused ones too).
struct FanOutTrigger {
  std::string name, events, source, collection;
  std::vector<std::string> where;
  bool paused = false;
};
Result<std::vector<FanOutTrigger>> fan_out_triggers(Store& store);

// An event automation as fan-out reads it (unpaused ones only).
struct FanOutAutomation {
  std::string name, definition, source, collection;
  std::vector<std::string> events;
};
Result<std::vector<FanOutAutomation>> fan_out_automations(Store& store);

// An event waiting for fan-out.
struct PendingEvent {
  std::int64_t seq = 0;
  std::string id, source, type;
  std::string body;  // empty when not read (see PendingBodies)
  std::int64_t received_ms = 0;
};

// Which bodies pending_events reads: those of record events (a trigger may
// filter on their collection), or every one (content filters, payloads for
// a delivery worker).
enum class PendingBodies { records, all };

// Up to `limit` events waiting for fan-out, oldest first.
Result<std::vector<PendingEvent>> pending_events(Store& store, int limit, PendingBodies bodies);

// Queues a run of trigger `trigger` for event `event_id`.
Result<void> queue_event_run(Store& store, const std::string& trigger, const std::string& event_id, std::int64_t now_ms);

// Moves the cursor past `read`, what pending_events returned for `limit`,
// once it is handled (in the same transaction).
Result<void> advance_fan_out_cursor(Store& store, const std::vector<PendingEvent>& read, int limit);

// Whether any event waits for fan-out (cheap: a partial index).
Result<bool> has_pending_events(Store& store);

} // namespace centrali::store

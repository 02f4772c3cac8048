#pragma once
// Fan-out: turning new events into work. Every event from any origin
// (ingested, `events emit`, record changes) goes once through here: a
// delivery for each active webhook whose globs match its type, and a queued
// run for each unpaused event trigger that matches it.
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

// Fans out up to `limit` pending events, oldest first, in the caller's
// transaction; with `lease`, leasing what it accepts.
Result<FanOutResult> fan_out_pending(Store& store, int limit, std::int64_t now_ms, const FanOutLease* lease = nullptr);

// Whether any event waits for fan-out (cheap: a partial index).
Result<bool> has_pending_events(Store& store);

} // namespace centrali::store

#pragma once
// Fan-out: turning new events into work. Every event from any origin
// (ingested, `events emit`, record changes) goes once through here: a
// delivery for each active webhook whose globs match its type, and a queued
// run for each unpaused event trigger that matches it.
#include <cstdint>

#include "centrali/store/store.hpp"

namespace centrali::store {

struct FanOutResult {
  int events = 0;      // events fanned out (the cursor moved past them)
  int deliveries = 0;  // webhook deliveries created
  int runs = 0;        // trigger runs queued
};

// Fans out up to `limit` pending events, oldest first, in the caller's
// transaction.
Result<FanOutResult> fan_out_pending(Store& store, int limit, std::int64_t now_ms);

// Whether any event waits for fan-out (cheap: a partial index).
Result<bool> has_pending_events(Store& store);

} // namespace centrali::store

#pragma once
// Fan-out: turning new events into work. Every event from any origin
// (ingested, `events emit`, record changes) goes once through here: a
// delivery for each webhook that takes it, a queued run for each event
// trigger and a started run for each event automation that takes it
// (dispatch/routing.hpp says which).
#include <cstdint>

#include "centrali/store/fanout.hpp"
#include "centrali/store/store.hpp"

namespace centrali::dispatch {

// Fans out up to `limit` pending events, oldest first, in the caller's
// transaction; with `lease`, leasing what it accepts. `may_route` false:
// the transaction holds the write lock shared, beside ingestion that may
// still be inserting events, so it may pass events with nothing to route
// to but route none (must_route says so, having done nothing).
Result<store::FanOutResult> fan_out_pending(store::Store& store, int limit, std::int64_t now_ms,
                                            const store::FanOutLease* lease = nullptr, bool may_route = true);

} // namespace centrali::dispatch

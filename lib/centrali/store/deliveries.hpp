#pragma once
// Deliveries (one per event and target: a forward to the app under
// development or an outbound webhook) and their attempts. The deliveries
// table is the queue: pending rows with a due time are the work to do.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/store/store.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::store {

struct Delivery {
  std::int64_t seq = 0;
  std::string id;              // dlv_…
  std::string kind;            // forward | webhook
  std::string event_id;
  std::string webhook_id;      // empty for forwards
  std::string event_type;
  std::string url;
  std::string status;          // pending | succeeded | failed | cancelled | skipped
  int attempt_count = 0;       // every attempt in its log
  int auto_attempts = 0;       // of those, the schedule's: they alone decide the next retry
  std::optional<std::int64_t> next_attempt_ms;
  std::optional<int> last_status;
  std::string last_error;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t lease_until_ms = 0;  // when the lease taken by a claim (or a leasing fan-out) ends
  std::int64_t lease_owner = 0;     // the sender holding that lease (SenderLock::owner); 0: none named
};

struct Attempt {
  std::int64_t seq = 0;
  std::string id;              // att_…
  std::string delivery_id;
  int number = 0;              // 1-based, per delivery
  std::string trigger;         // scheduled | resend | replay | test | recover
  std::string url;
  std::optional<int> response_status;
  std::int64_t duration_ms = 0;
  std::string error;           // empty when a response arrived
  std::int64_t started_ms = 0;
  HeaderList request_headers;  // secrets redacted
  HeaderList response_headers;
  std::string response_body;   // first 64 KiB
  std::string signature;       // forwards: re-signed or original, and why (delivery/forward.hpp)
  // The request body as sent, stored once per event and distinct body.
  // body_kept false: nothing was sent, or the attempt predates bodies being kept.
  std::string request_body;
  bool body_kept = false;
  std::string event_id;           // the delivery's event (when recording: where the body is kept)
  // How far `dispatch --fast-forward` had jumped the clock when it was made
  // (0: real time). Recorded from timeutil::clock_offset_ms(), not by callers.
  std::int64_t clock_offset_ms = 0;
};

// The delivery's state after an attempt.
struct DeliveryUpdate {
  std::int64_t seq = 0;                    // the delivery's row when the caller has it (0: found by id)
  // With seq: the attempts the caller saw recorded when it read the row.
  // When none was recorded since, the attempt is numbered without a read.
  std::optional<int> attempts_seen;
  std::string status;                      // pending (retry later) | succeeded | failed
  std::optional<std::int64_t> next_attempt_ms;
  std::optional<int> last_status;
  std::string last_error;
};

// With a lease_until_ms, the row is stored leased (as a claim leaves it).
// `seq`, when given, receives the new row's seq.
Result<void> insert_delivery(Store& store, const Delivery& delivery, std::int64_t* seq = nullptr);

// How long a claim leases what it takes. Forwards run to a timeout of their
// own (delivery::WorkerOptions::forward_timeout), which counts only for a
// claim that takes one.
struct ClaimLease {
  std::int64_t webhooks_ms = 0;      // the claim takes webhook deliveries only
  std::int64_t with_forward_ms = 0;  // it takes a forward too
  std::int64_t owner = 0;            // the claiming sender (SenderLock::owner); 0: none named
};

// Leases up to `limit` pending deliveries due at `now_ms` that nobody else
// holds, until `now_ms` + the lease (see ClaimLease), in the name of
// `lease.owner`; a crashed holder's lease expires, or is freed by
// release_abandoned_leases or release_departed_senders_leases.
// While leased, a delivery's stored due time is the lease's end; the
// returned rows carry the due time they had.
// `accept(url)` is asked for each candidate in due order and may refuse
// (that endpoint already has as many in flight as it may). The look-ahead
// past refused candidates is bounded (see the definition).
Result<std::vector<Delivery>> claim_due_deliveries(Store& store, std::int64_t now_ms, int limit, ClaimLease lease,
                                                   const std::function<bool(const std::string& url)>& accept = {});
// The same with one lease whatever the claim takes.
inline Result<std::vector<Delivery>> claim_due_deliveries(Store& store, std::int64_t now_ms, int limit,
                                                          std::int64_t lease_ms,
                                                          const std::function<bool(const std::string& url)>& accept = {})
{
  return claim_due_deliveries(store, now_ms, limit, ClaimLease{lease_ms, lease_ms}, accept);
}

// Gives back a lease taken by claim_due_deliveries but never used (shutdown,
// or a lease about to end before the attempt could): `claimed` as the claim
// returned it, so it is due when it was due before. Only that lease is
// given back: once it has ended and another holder has claimed the
// delivery, nothing changes.
Result<void> release_lease(Store& store, const Delivery& claimed);
// Frees every lease in the store that has not ended by `now_ms`, making
// those deliveries due then (ended ones are due already): for a sender that
// knows it is the only one (see SenderLock), every lease was left by a
// process that died. Returns how many were freed.
Result<int> release_abandoned_leases(Store& store, std::int64_t now_ms);
// Frees the leases, not ended by `now_ms`, of senders that are gone: those
// naming an owner that no running sender is (SenderLock::owner), making
// them due then; their runs are interrupted and their automation runs free
// to claim, as at their lease's end. Only a PostgreSQL store can tell which
// senders run (each holds a lock of its session); on a SQLite file this
// frees nothing. Returns how many were freed.
Result<int> release_departed_senders_leases(Store& store, std::int64_t now_ms);

// Stores `attempt` (numbered after the delivery's last) and the delivery's
// new state, and releases its lease. A scheduled attempt also counts in
// auto_attempts. Returns the attempt number used.
Result<int> record_attempt(Store& store, const Attempt& attempt, const DeliveryUpdate& update);

// A claimed delivery that is not sent because its webhook is disabled:
// pending -> skipped with `reason`, lease released, no attempt logged.
Result<void> skip_delivery(Store& store, const Delivery& claimed, const std::string& reason, std::int64_t now_ms);

// The pending deliveries of one webhook (for re-planning their retries).
Result<std::vector<Delivery>> pending_deliveries_of(Store& store, const std::string& webhook_id);
// Sets when a pending delivery that nobody holds is next due; nullopt
// fails it with `failure` as its last error.
Result<void> reschedule_delivery(Store& store, const Delivery& d, std::optional<std::int64_t> due_ms,
                                 const std::string& failure, std::int64_t now_ms);

// How many of a webhook's deliveries are in `status`, made at or after
// `since_ms`, and when the oldest of them was made.
struct StatusCount {
  std::int64_t count = 0;
  std::optional<std::int64_t> oldest_ms;
};
Result<StatusCount> count_webhook_deliveries(Store& store, const std::string& webhook_id, const std::string& status,
                                             std::int64_t since_ms);

// When a pending delivery next falls due after `after_ms` (a claim has
// looked at what was due by then): the earliest due time past it, where a
// leased delivery's is its lease's end (due again then, should its holder
// have died); nullopt when there is none. Never later than the truth, so a
// wait until then misses nothing.
Result<std::optional<std::int64_t>> next_due_ms(Store& store, std::int64_t after_ms);

Result<Delivery> get_delivery(Store& store, const std::string& id);
Result<std::vector<Attempt>> list_attempts(Store& store, const std::string& delivery_id);
Result<std::vector<Delivery>> deliveries_for_event(Store& store, const std::string& event_id);

// The forward delivery of `event_id` to `url`, if one exists.
Result<std::optional<Delivery>> find_forward(Store& store, const std::string& event_id, const std::string& url);

struct DeliveryFilter {
  std::string webhook_id;
  std::string status;
  std::string event_id;
  std::string type_glob;
  std::string kind;                         // forward | webhook; empty = both
  std::optional<std::int64_t> since_ms;     // created at or after
  std::optional<std::int64_t> until_ms;     // created before
  // Active in a window: made before active_until and last attempted (or
  // made) at or after active_since, so a retry today of yesterday's
  // delivery is found by "since this morning".
  std::optional<std::int64_t> active_since_ms;
  std::optional<std::int64_t> active_until_ms;
  std::string reason_glob;                  // the last error ("HTTP 503", "timed out after 15s"...)
  int limit = 50;                           // <= 0: no limit
  // Content queries (`--where`): only deliveries whose event's body this
  // accepts (a delivery whose event was pruned has the body ""); `limit`
  // counts accepted ones, as for EventFilter::body_match.
  std::function<bool(std::string_view event_body)> event_body_match;
};

// Deliveries matching `filter`, newest first.
Result<std::vector<Delivery>> list_deliveries(Store& store, const DeliveryFilter& filter);

// Pending -> cancelled. rejected when the delivery is not pending.
Result<Delivery> cancel_delivery(Store& store, const std::string& id, std::int64_t now_ms);

// Attempts stored after `after_seq`, oldest first (for `deliveries tail`).
Result<std::vector<Attempt>> attempts_after(Store& store, std::int64_t after_seq, int limit);
// The newest attempt's seq (0 when none).
Result<std::int64_t> last_attempt_seq(Store& store);

// What `webhooks stats` counts of one attempt.
struct AttemptOutcome {
  std::string webhook_id;
  std::optional<int> response_status;
  std::int64_t duration_ms = 0;
  std::string error;
  std::int64_t started_ms = 0;
};
// Webhook attempts started at or after `since_ms` (of one webhook when
// `webhook_id` is given), newest first.
Result<std::vector<AttemptOutcome>> webhook_attempts_since(Store& store, std::int64_t since_ms,
                                                           const std::string& webhook_id);

// How many deliveries are pending, and when the earliest falls due.
struct QueueState {
  std::int64_t pending = 0;
  std::optional<std::int64_t> next_due_ms;
};
Result<QueueState> queue_state(Store& store);

} // namespace centrali::store

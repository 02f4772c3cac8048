#pragma once
// Outbound webhook subscriptions: where to send which event types, signed
// with which secret, retried on which schedule.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrali/store/store.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::store {

struct Webhook {
  std::string id;                      // whk_…
  std::string name;
  std::string url;
  std::string events;                  // comma-separated globs
  std::vector<std::string> filter;     // content conditions (query/where.hpp), all must hold; as written
  std::string secret;                  // whsec_…
  std::string previous_secret;         // still signs until previous_until_ms (rotation)
  std::optional<std::int64_t> previous_until_ms;
  HeaderList headers;                  // custom headers sent with every attempt
  std::vector<std::int64_t> retry_schedule_ms;
  std::int64_t timeout_ms = 15'000;
  bool insecure = false;
  bool active = true;
  std::string disabled_reason;
  std::optional<std::int64_t> failing_since_ms;
  std::int64_t disable_after_ms = 5LL * 24 * 3600 * 1000;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

Result<void> insert_webhook(Store& store, const Webhook& webhook);
Result<Webhook> get_webhook(Store& store, const std::string& id);  // not_found when absent
// By id, else by name (as people type it: `webhooks show billing`).
// not_found when neither matches; usage when several share the name.
Result<Webhook> find_webhook(Store& store, const std::string& id_or_name);
// The id of another webhook than `except_id` already called `name`, if any.
Result<std::optional<std::string>> webhook_named(Store& store, const std::string& name, const std::string& except_id);
Result<std::vector<Webhook>> list_webhooks(Store& store);
// Writes every field of `webhook` (looked up by id); not_found when absent.
Result<void> update_webhook(Store& store, const Webhook& webhook);
Result<void> remove_webhook(Store& store, const std::string& id);

// After an attempt: success clears the failing streak; failure starts it
// (when not started).
struct WebhookHealth {
  std::optional<std::int64_t> failing_since;   // after a failure: when the streak started
  std::optional<std::int64_t> recovered_from;  // after a success that ended a streak: when it had started
};
Result<WebhookHealth> note_webhook_health(Store& store, const std::string& id, bool success, std::int64_t now_ms);
// The longest per-attempt timeout of any webhook (0 when there are none):
// the delivery worker sizes its leases by it.
Result<std::int64_t> max_webhook_timeout_ms(Store& store);

// Why a delivery of a disabled webhook is skipped, as its last error says.
std::string skipped_because(const std::string& disabled_reason);

// Turns the webhook off with a reason people will read in `webhooks show`.
// False when it was off already: the first reason (a 410's time) stays, and
// the caller reports the disable once.
Result<bool> disable_webhook(Store& store, const std::string& id, const std::string& reason, std::int64_t now_ms);

} // namespace centrali::store

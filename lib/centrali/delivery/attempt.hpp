#pragma once
// One attempt of one delivery, whoever asked for it (the worker on
// schedule, `resend`, `replay`, `test`): build the request, send it, and
// decide what the delivery (and its webhook) become.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/http/client.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/store.hpp"

namespace centrali::delivery {

enum class Trigger { scheduled, resend, replay, test };
std::string_view trigger_name(Trigger trigger);

struct AttemptInput {
  store::Delivery delivery;
  Trigger trigger = Trigger::scheduled;
  std::string url_override;  // resend/replay `--to`
  bool test_event = false;   // webhook test sends
};

// Timing rules for forwards (webhooks carry their own).
struct ForwardPolicy {
  std::vector<std::chrono::milliseconds> schedule;
  std::chrono::milliseconds timeout{30'000};
};

struct AttemptResult {
  store::Attempt attempt;
  store::DeliveryUpdate update;
  bool ok = false;             // 2xx
  bool reached = false;        // a response arrived (else a network error)
  std::string webhook_id;      // for health bookkeeping; empty for forwards
  std::string disable_reason;  // set when the webhook must be turned off (410)
};

// Sends one attempt now. Reads the event (and webhook) through `reader`;
// writes nothing. A manual attempt that fails leaves the delivery's
// schedule as it was; only scheduled attempts schedule retries.
AttemptResult perform_attempt(store::Store& reader, http::ClientPool& clients, const AttemptInput& input,
                              const ForwardPolicy& forward_policy);

// Stores the attempt and the delivery's new state, tracks the webhook's
// failing streak and disables it (410, or failing for its disable-after
// period). Run inside the caller's transaction. Sets attempt.number.
Result<void> record_result(store::Store& store, AttemptResult& result);

} // namespace centrali::delivery

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

#include "centrali/delivery/forward.hpp"
#include "centrali/http/client.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/store.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"

namespace centrali::delivery {

enum class Trigger { scheduled, resend, replay, test, recover };
std::string_view trigger_name(Trigger trigger);

struct AttemptInput {
  store::Delivery delivery;
  Trigger trigger = Trigger::scheduled;
  // resend/replay `--to`: a copy sent elsewhere. When it differs from the
  // delivery's URL the attempt is recorded but settles nothing (see copy).
  std::string url_override;
  bool test_event = false;   // webhook test sends (resends of one are marked as well)
  // envelope_body(event), when the caller built it already (the worker does
  // so off the thread that sends); null: built here.
  const std::string* envelope = nullptr;
  // Forwards: how the stored request is signed again (forward.hpp).
  ForwardSigning forward_signing;
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
  // Not sent, because its webhook is disabled (or was turned off while it
  // waited): the delivery becomes skipped with this reason, and no attempt
  // is logged. `webhooks recover` sends it later.
  std::string skipped;
  // The schedule's last attempt failed: the delivery is failed for good
  // (centrali.delivery.exhausted is stored with it).
  bool exhausted = false;
  std::string event_type;      // the delivery's (operational events name it)
  // Sent to another URL than the delivery's (`--to`): its answer says
  // nothing about the delivery or its webhook, so the delivery keeps its
  // state and schedule and the webhook's health is not touched.
  bool copy = false;
  // Set by record_result when this attempt turned the webhook off (410, or
  // the end of its disable-after period): the reason, for the person
  // watching. Only what committed counts, so it is cleared on every run.
  std::string disabled_webhook;
};

// An attempt split around its send, so an event loop can do the sending:
// prepare_attempt builds the signed request from what the caller read,
// conclude_attempt turns the outcome into the attempt and the delivery's
// next state. perform_attempt does all three on the calling thread.
struct PreparedAttempt {
  AttemptResult result;
  std::optional<http::OutboundRequest> request;  // nullopt: failed before sending, `result` is final
  std::vector<std::int64_t> schedule;            // retry delays of this delivery's target
  bool manual = false;
  int number = 1;                                // in the delivery's log
  int auto_number = 1;                           // in its schedule, were this attempt scheduled
};

// `webhook` is the delivery's webhook as read (null for forwards, or when
// the delivery's webhook was removed). Stamps the attempt's start (and the
// signature's timestamp) now: call it right before sending.
PreparedAttempt prepare_attempt(const AttemptInput& input, const Result<store::Event>& event,
                                const Result<store::Webhook>* webhook, const ForwardPolicy& forward_policy);
// Fills prepared.result from what the send brought back (taken apart),
// the request's headers as sent (redacted) included. A send the caller
// withdrew (SendOutcome::withdrawn) is not for this: the caller, which
// knows why, skips it (skip_attempt).
void conclude_attempt(PreparedAttempt& prepared, http::SendOutcome sent);
// Gives up a scheduled attempt before it is sent: its webhook is disabled.
void skip_attempt(PreparedAttempt& prepared, const std::string& reason);

// Sends one attempt now. Reads the event (and webhook) through `reader`;
// writes nothing. A manual attempt that fails leaves the delivery's
// schedule as it was; only scheduled attempts schedule retries.
AttemptResult perform_attempt(store::Store& reader, http::ClientPool& clients, const AttemptInput& input,
                              const ForwardPolicy& forward_policy);

// Stores the attempt and the delivery's new state, tracks the webhook's
// failing streak and disables it (410, or failing for its disable-after
// period; reported in disabled_webhook by the attempt that turned it off,
// once). A skip stores only the delivery's new state. Run inside the
// caller's transaction. Sets attempt.number.
Result<void> record_result(store::Store& store, AttemptResult& result);

} // namespace centrali::delivery

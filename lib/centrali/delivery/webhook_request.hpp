#pragma once
// The request one attempt of a webhook delivery sends: the JSON envelope
// {"type","timestamp","data"} signed per Standard Webhooks, with the
// Centrali-* copies, the webhook's own headers and our User-Agent.
#include <cstdint>
#include <string>
#include <string_view>

#include "centrali/http/client.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"

namespace centrali::delivery {

// The envelope bytes for `event` (the same bytes on every attempt): its
// type, its arrival time, and as `data` its body itself when that is JSON,
// else the body as a JSON string. Reads only type, received_ms and body.
std::string envelope_body(const store::Event& event);

// Views: everything must outlive the webhook_request call.
struct WebhookRequestInput {
  const store::Webhook* webhook = nullptr;
  std::string_view delivery_id;  // the stable webhook-id
  std::string_view event_type;
  std::string_view body;         // envelope_body(...)
  int attempt_number = 1;      // > 1 adds Centrali-Retry-Attempt
  bool test_event = false;     // adds Centrali-Test-Event: true
  std::int64_t now_ms = 0;     // the time the attempt is made (rotation's grace is judged by it)
  // How far now_ms is ahead of the wall clock (dispatch --fast-forward). The
  // timestamp signed is the wall clock's: receivers check it against theirs.
  std::int64_t clock_offset_ms = 0;
};

Result<http::OutboundRequest> webhook_request(const WebhookRequestInput& in);

// Why a webhook's custom header `name` cannot be sent, or empty when it can.
// centrali sets the message framing (Content-Length, Host, ...), the
// envelope's Content-Type, the signature headers (webhook-*, Centrali-*)
// and User-Agent itself: a second copy from the webhook would contradict
// them (a shorter Content-Length cuts the body and desyncs the connection;
// two webhook-id headers break a receiver's deduplication). `webhooks add`
// and `update` refuse these; webhook_request skips any a store still holds.
std::string reserved_header_reason(std::string_view name);

} // namespace centrali::delivery

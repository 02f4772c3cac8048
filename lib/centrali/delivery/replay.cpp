#include "centrali/delivery/replay.hpp"

#include "centrali/delivery/forward.hpp"
#include "centrali/store/events.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::delivery {

Result<ReplayOutcome> replay_event(store::Store& store, http::ClientPool& clients, const std::string& event_id,
                                   const std::string& url, std::chrono::milliseconds timeout)
{
  auto event = store::get_event(store, event_id);
  if (!event) return std::unexpected(event.error());
  auto existing = store::find_forward(store, event_id, url);
  if (!existing) return std::unexpected(existing.error());

  ReplayOutcome out;
  auto now = timeutil::now_ms();
  if (*existing) {
    out.delivery = **existing;
  } else {
    auto& d = out.delivery;
    d.id = ids::make(ids::k_delivery);
    d.kind = "forward";
    d.event_id = event_id;
    d.event_type = event->type;
    d.url = url;
    d.status = "failed";  // until the replay below succeeds; nothing is scheduled
    d.created_ms = d.updated_ms = now;
    if (auto r = store::insert_delivery(store, d); !r) return std::unexpected(r.error());
  }

  auto request = forward_request(*event, url);
  request.timeout = timeout;
  auto& a = out.attempt;
  a.id = ids::make(ids::k_attempt);
  a.delivery_id = out.delivery.id;
  a.trigger = "replay";
  a.url = url;
  a.started_ms = now;
  a.request_headers = redact_credentials(request.headers);
  auto sent = clients.send(request);
  a.duration_ms = sent.duration_ms;
  store::DeliveryUpdate update;
  // A failed replay leaves the delivery's own schedule as it was.
  update.status = out.delivery.status;
  update.next_attempt_ms = out.delivery.next_attempt_ms;
  if (sent.response) {
    a.response_status = sent.response->status;
    a.response_headers = sent.response->headers;
    a.response_body = sent.response->body;
    update.last_status = sent.response->status;
    out.ok = sent.response->status >= 200 && sent.response->status < 300;
    if (!out.ok) update.last_error = "HTTP " + std::to_string(sent.response->status);
  } else {
    a.error = sent.error;
    update.last_error = sent.error;
  }
  if (out.ok) {
    update.status = "succeeded";
    update.next_attempt_ms.reset();
  }
  auto number = store::record_attempt(store, a, update);
  if (!number) return std::unexpected(number.error());
  a.number = *number;
  out.delivery.status = update.status;
  return out;
}

} // namespace centrali::delivery

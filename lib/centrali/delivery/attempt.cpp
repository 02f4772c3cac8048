#include "centrali/delivery/attempt.hpp"

#include "centrali/delivery/forward.hpp"
#include "centrali/delivery/operational_events.hpp"
#include "centrali/delivery/retry.hpp"
#include "centrali/delivery/webhook_request.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::delivery {

std::string_view trigger_name(Trigger trigger)
{
  switch (trigger) {
  case Trigger::scheduled: return "scheduled";
  case Trigger::resend: return "resend";
  case Trigger::replay: return "replay";
  case Trigger::test: return "test";
  case Trigger::recover: return "recover";
  }
  return "scheduled";
}

namespace {

void fail_now(AttemptResult& r, const std::string& why)
{
  r.attempt.error = why;
  if (r.copy) return;  // a copy that could not go out leaves the delivery as it was
  r.update.status = "failed";
  r.update.next_attempt_ms.reset();  // failed for good: nothing is due
  r.update.last_error = why;
}

} // namespace

void skip_attempt(PreparedAttempt& p, const std::string& reason)
{
  auto& r = p.result;
  p.request.reset();
  r.skipped = reason;
  r.update.status = "skipped";
  r.update.next_attempt_ms.reset();
  r.update.last_error = reason;
}

PreparedAttempt prepare_attempt(const AttemptInput& in, const Result<store::Event>& event,
                                const Result<store::Webhook>* webhook, const ForwardPolicy& forward_policy)
{
  const auto& d = in.delivery;
  PreparedAttempt p;
  auto& r = p.result;
  auto& a = r.attempt;
  a.id = ids::make(ids::k_attempt);
  a.delivery_id = d.id;
  a.event_id = d.event_id;
  r.event_type = d.event_type;
  a.trigger = std::string(trigger_name(in.trigger));
  // A webhook delivery goes where its webhook points now: after `webhooks
  // update --url`, retries, resends and replays reach the fixed endpoint.
  const std::string& target =
      d.kind == "webhook" && webhook && *webhook && !(**webhook).url.empty() ? (**webhook).url : d.url;
  a.url = in.url_override.empty() ? target : in.url_override;
  a.started_ms = timeutil::now_ms();
  a.clock_offset_ms = timeutil::clock_offset_ms();  // for reports; the store records its own reading
  p.manual = in.trigger != Trigger::scheduled;
  p.number = d.attempt_count + 1;
  p.auto_number = d.auto_attempts + 1;
  // A manual attempt that fails changes nothing about the schedule; a copy
  // sent elsewhere changes nothing at all.
  r.update.seq = d.seq;
  r.update.attempts_seen = d.attempt_count;
  r.update.status = d.status;
  r.update.next_attempt_ms = d.next_attempt_ms;
  r.copy = !in.url_override.empty() && in.url_override != target;
  if (r.copy) {
    r.update.last_status = d.last_status;
    r.update.last_error = d.last_error;
  }

  if (!event) {
    fail_now(r, "cannot read event " + d.event_id + ": " + event.error().message);
    return p;
  }

  http::OutboundRequest request;
  if (d.kind == "webhook") {
    r.webhook_id = d.webhook_id;
    if (d.webhook_id.empty() || !webhook) {
      fail_now(r, "the webhook of this delivery was removed");
      return p;
    }
    if (!*webhook) {
      fail_now(r, webhook->error().kind == ErrorKind::not_found
                      ? "the webhook of this delivery was removed"
                      : "cannot read webhook " + d.webhook_id + ": " + webhook->error().message);
      return p;
    }
    const auto& w = **webhook;
    if (!w.active && !p.manual) {
      skip_attempt(p, store::skipped_because(w.disabled_reason));
      return p;
    }
    std::string envelope;
    if (!in.envelope) envelope = envelope_body(*event);
    WebhookRequestInput wi;
    wi.webhook = &w;
    wi.delivery_id = d.id;
    wi.event_type = d.event_type;
    wi.body = in.envelope ? std::string_view(*in.envelope) : std::string_view(envelope);
    wi.attempt_number = p.number;
    // A test event stays one when it is resent or replayed: receivers
    // must not act on its made-up data.
    wi.test_event = in.test_event || event->method == "TEST";
    wi.now_ms = a.started_ms;
    wi.clock_offset_ms = a.clock_offset_ms;
    auto built = webhook_request(wi);
    if (!built) {
      fail_now(r, "cannot sign: " + built.error().message);
      return p;
    }
    request = std::move(*built);
    p.schedule = w.retry_schedule_ms;
  } else {
    // Re-signed with the wall clock's time: the app checks it against its own.
    auto forward = forward_request(*event, a.url, in.forward_signing, a.started_ms - a.clock_offset_ms);
    request = std::move(forward.request);
    a.signature = std::move(forward.signature);
    request.timeout = forward_policy.timeout;
    for (auto step : forward_policy.schedule) p.schedule.push_back(step.count());
  }
  request.url = a.url;
  p.request = std::move(request);
  return p;
}

void conclude_attempt(PreparedAttempt& p, http::SendOutcome sent)
{
  auto& r = p.result;
  auto& a = r.attempt;
  a.duration_ms = sent.duration_ms;
  // What was sent goes into the record, credentials redacted: the headers
  // the event-driven client handed back (no copy per attempt), else those
  // of the request kept here.
  if (!sent.request_headers.empty()) a.request_headers = redact_credentials(std::move(sent.request_headers));
  else if (p.request) a.request_headers = redact_credentials(p.request->headers);
  // And the body, as it went.
  if (!sent.request_body.empty()) a.request_body = std::move(sent.request_body);
  else if (p.request) a.request_body = p.request->body;
  a.body_kept = true;
  std::optional<std::int64_t> retry_after;
  std::optional<int> last_status;
  std::string last_error;
  if (sent.response) {
    r.reached = true;
    a.response_status = sent.response->status;
    // A receiver may answer with a session (Set-Cookie): not kept either.
    a.response_headers = redact_credentials(std::move(sent.response->headers));
    a.response_body = std::move(sent.response->body);
    last_status = sent.response->status;
    r.ok = sent.response->status >= 200 && sent.response->status < 300;
    if (!r.ok) {
      last_error = sent.response->status >= 300 && sent.response->status < 400
                       ? "HTTP " + std::to_string(sent.response->status) + " (redirects are not followed)"
                       : "HTTP " + std::to_string(sent.response->status);
      if (const auto* ra = find_header(a.response_headers, "Retry-After"))
        retry_after = parse_retry_after_ms(*ra, a.started_ms);
    }
  } else {
    last_error = sent.error;
    a.error = std::move(sent.error);
  }
  if (r.copy) return;  // the delivery keeps what prepare_attempt read
  r.update.last_status = last_status;
  r.update.last_error = std::move(last_error);

  auto finished = a.started_ms + a.duration_ms;
  if (r.ok) {
    r.update.status = "succeeded";
    r.update.next_attempt_ms.reset();
    r.update.last_error.clear();
  } else if (!r.webhook_id.empty() && a.response_status == 410) {
    r.update.status = "failed";
    r.update.next_attempt_ms.reset();
    r.disable_reason = "endpoint answered 410 Gone on " + timeutil::format_rfc3339(finished);
  } else if (!p.manual || r.update.status == "skipped") {
    // Only the schedule's own attempts use up retries: a resend, replay or
    // recover that fails leaves the schedule where it was. A skipped
    // delivery never had its schedule; a failed recover starts it, from
    // its first retry.
    const int n = p.auto_number;
    if (n <= static_cast<int>(p.schedule.size())) {
      r.update.status = "pending";
      r.update.next_attempt_ms = finished + next_delay_ms(p.schedule[static_cast<std::size_t>(n - 1)], retry_after);
    } else {
      r.update.status = "failed";
      r.update.next_attempt_ms.reset();
      r.exhausted = true;
    }
  }
}

AttemptResult perform_attempt(store::Store& reader, http::ClientPool& clients, const AttemptInput& in,
                              const ForwardPolicy& forward_policy)
{
  const auto& d = in.delivery;
  auto event = store::get_event(reader, d.event_id);
  std::optional<Result<store::Webhook>> webhook;
  if (event && d.kind == "webhook" && !d.webhook_id.empty()) webhook = store::get_webhook(reader, d.webhook_id);
  auto prepared = prepare_attempt(in, event, webhook ? &*webhook : nullptr, forward_policy);
  if (!prepared.request) return std::move(prepared.result);
  conclude_attempt(prepared, clients.send(*prepared.request));
  return std::move(prepared.result);
}

Result<void> record_result(store::Store& store, AttemptResult& r)
{
  r.disabled_webhook.clear();  // a rolled-back run must not leave its verdict
  if (!r.skipped.empty()) {
    r.attempt.number = 0;  // nothing was sent: no attempt to log
    store::Delivery claimed;
    claimed.seq = r.update.seq;
    claimed.id = r.attempt.delivery_id;
    if (claimed.seq == 0) return fail(ErrorKind::store, "cannot skip delivery " + claimed.id + ": its row is not known");
    return store::skip_delivery(store, claimed, r.skipped, r.attempt.started_ms);
  }
  auto number = store::record_attempt(store, r.attempt, r.update);
  if (!number) return std::unexpected(number.error());
  r.attempt.number = *number;
  if (r.copy) return {};
  auto now = r.attempt.started_ms + r.attempt.duration_ms;
  if (r.exhausted && !is_operational(r.event_type)) {
    store::Delivery d;
    d.id = r.attempt.delivery_id;
    d.kind = r.webhook_id.empty() ? "forward" : "webhook";
    d.webhook_id = r.webhook_id;
    d.event_id = r.attempt.event_id;
    d.event_type = r.event_type;
    d.url = r.attempt.url;
    if (auto e = emit_delivery_exhausted(store, d, r.update, *number, now); !e) return e;
  }
  if (r.webhook_id.empty()) return {};
  auto disable = [&](std::string reason) -> Result<void> {
    auto changed = store::disable_webhook(store, r.webhook_id, reason, now);
    if (!changed) return std::unexpected(changed.error());
    if (!*changed) return {};  // off already: said once, by the first
    if (auto e = emit_webhook_disabled(store, r.webhook_id, reason, now); !e) return e;
    r.disabled_webhook = std::move(reason);
    return {};
  };
  if (!r.disable_reason.empty()) return disable(r.disable_reason);
  auto health = store::note_webhook_health(store, r.webhook_id, r.ok, now);
  if (!health) return std::unexpected(health.error());
  if (health->recovered_from) return emit_webhook_recovered(store, r.webhook_id, *health->recovered_from, now);
  if (const auto since = health->failing_since) {
    auto webhook = store::get_webhook(store, r.webhook_id);
    if (webhook && webhook->active && now - *since >= webhook->disable_after_ms)
      return disable("failing continuously since " + timeutil::format_rfc3339(*since) + " (" +
                     timeutil::format_duration(std::chrono::milliseconds(now - *since)) + ")");
  }
  return {};
}

} // namespace centrali::delivery

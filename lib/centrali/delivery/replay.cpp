#include "centrali/delivery/replay.hpp"

#include "centrali/delivery/attempt.hpp"
#include "centrali/store/events.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::delivery {

Result<ReplayOutcome> replay_event(store::Store& store, http::ClientPool& clients, const std::string& event_id,
                                   const std::string& url, const ReplayOptions& options)
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

  AttemptInput input;
  input.delivery = out.delivery;
  input.trigger = Trigger::replay;
  input.url_override = url;
  input.forward_signing.keep_original = options.keep_signature;
  input.forward_signing.body = options.body;
  if (!options.keep_signature && event->source != "local") {
    auto keys = ingest::read_source_keys(store, event->source);
    if (!keys) return std::unexpected(keys.error());
    input.forward_signing.source = std::make_shared<const ingest::SourceKeys>(std::move(*keys));
  }
  auto result = perform_attempt(store, clients, input, {{}, options.timeout});
  if (auto r = record_result(store, result); !r) return std::unexpected(r.error());
  out.attempt = result.attempt;
  out.ok = result.ok;
  out.delivery.status = result.update.status;
  return out;
}

} // namespace centrali::delivery

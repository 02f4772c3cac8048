#pragma once
// `events replay`: re-send stored events (original headers, exact body) to
// a URL now, synchronously, recording each send as a `replay` attempt of the
// event's forward delivery to that URL (created when there is none).
#include <string>

#include "centrali/http/client.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/store.hpp"

namespace centrali::delivery {

struct ReplayOutcome {
  store::Delivery delivery;
  store::Attempt attempt;
  bool ok = false;  // 2xx
};

Result<ReplayOutcome> replay_event(store::Store& store, http::ClientPool& clients, const std::string& event_id,
                                   const std::string& url, std::chrono::milliseconds timeout);

} // namespace centrali::delivery

#pragma once
// `events replay`: re-send stored events (original headers, exact body) to
// a URL now, synchronously, recording each send as a `replay` attempt of the
// event's forward delivery to that URL (created when there is none). The
// signature is made again as forwards make it (forward.hpp).
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

struct ReplayOptions {
  std::chrono::milliseconds timeout{30'000};
  bool keep_signature = false;     // send the stored signature headers as they are
  const std::string* body = nullptr;  // an edited body to send (signed again); null: the stored one
};

Result<ReplayOutcome> replay_event(store::Store& store, http::ClientPool& clients, const std::string& event_id,
                                   const std::string& url, const ReplayOptions& options);

} // namespace centrali::delivery

#pragma once
// Building the request that forwards a stored event to the app under
// development: its original headers (minus hop-by-hop and redacted ones)
// and its exact body, so the app's own signature check passes.
#include "centrali/http/client.hpp"
#include "centrali/store/events.hpp"

namespace centrali::delivery {

http::OutboundRequest forward_request(const store::Event& event, const std::string& url);

} // namespace centrali::delivery

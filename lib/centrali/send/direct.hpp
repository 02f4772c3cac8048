#pragma once
// `send --source NAME` when no listener runs on the store: the request goes
// through the same judgement and storage as `POST /ingest/NAME` would
// (ingest/reception), straight into the store, where the next `listen` or
// `dispatch` forwards it, runs its triggers and fans it out.
#include <cstdint>
#include <string>

#include "centrali/http/server.hpp"
#include "centrali/send/provider_request.hpp"
#include "centrali/store/store.hpp"

namespace centrali::send {

// The answer the listener would have given (202, 401, ...), once stored.
// `host` stands for the listener's name in Host (Twilio signs the URL).
Result<http::Response> ingest_directly(store::Store& store, const std::string& source, const ProviderRequest& request,
                                       const std::string& host, std::int64_t now_ms);

} // namespace centrali::send

#pragma once
// The request a provider sends: its body as the provider writes it, its
// headers (content type, user agent, event type, delivery id) and its
// signature, so what `centrali send` posts is what the app will get from
// the real provider, down to the header set its library reads.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/ingest/providers.hpp"
#include "centrali/util/error.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::send {

struct SendAs {
  ingest::Provider provider = ingest::Provider::standard;
  std::vector<std::string> secrets;  // resolved; empty for `none`
  std::string url;                   // where it goes: Twilio signs it
  std::string delivery_id;           // the provider's delivery id (the receiver's dedupe key); empty: a fresh one
  std::int64_t timestamp_s = 0;      // what the signature says
};

struct ProviderRequest {
  HeaderList headers;       // Content-Type included
  std::string body;
  std::string delivery_id;  // as sent (empty when the provider has none)
};

// The request for `body`: a JSON document (a fixture's, or --data that
// parsed), or `raw` bytes sent as they are when `body` is null. `extra`
// holds the fixture's provider headers (X-GitHub-Event, X-Shopify-Topic)
// and the caller's own, which replace a provider header of the same name
// (Content-Type, User-Agent). A usage error when the provider needs what is
// missing (GitHub's event header), when `extra` names a header the
// signature or the delivery id sets, or when the secret cannot sign.
Result<ProviderRequest> provider_request(const SendAs& as, const nlohmann::ordered_json* body, const std::string& raw,
                                         const HeaderList& extra);

} // namespace centrali::send

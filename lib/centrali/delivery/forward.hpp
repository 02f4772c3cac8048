#pragma once
// The request that forwards a stored event to the app under development
// (every attempt of a forward, and `events replay`): its original headers
// (minus framing and redacted ones) and its exact body. The app checks the
// provider's signature on it, and schemes that sign a timestamp (Stripe,
// Standard Webhooks, Svix, Clerk, Slack) refuse one older than about five
// minutes, so by default those are signed again with the source's own
// secret and a fresh timestamp, the body untouched. Only requests whose
// signature verified when they arrived are signed again.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "centrali/http/client.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/store/events.hpp"

namespace centrali::delivery {

// How many listeners a forwarded request has passed through; a listener
// refuses one that has passed through ingest/reception's limit.
inline constexpr std::string_view k_forward_hops_header = "Centrali-Forward-Hops";

struct ForwardSigning {
  // Send the stored signature headers byte for byte (--keep-signature).
  bool keep_original = false;
  // The event's source with its resolved secrets; null when unknown.
  std::shared_ptr<const ingest::SourceKeys> source;
  // Sent instead of the stored body (an edited replay); always re-signed.
  const std::string* body = nullptr;
};

struct Forward {
  http::OutboundRequest request;
  // How it is signed, for the attempt's record: "re-signed (stripe, fresh
  // timestamp)", "original (--keep-signature)", "original (github signs no
  // timestamp)", ...; empty when the source does not sign.
  std::string signature;
};

Forward forward_request(const store::Event& event, const std::string& url, const ForwardSigning& signing,
                        std::int64_t now_ms);

} // namespace centrali::delivery

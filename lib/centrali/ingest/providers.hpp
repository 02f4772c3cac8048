#pragma once
// What each provider sends besides its signature: where the event type and
// the provider's delivery id (the dedupe key) live, and whether the body
// must be JSON.
#include <optional>
#include <string>
#include <string_view>

#include "centrali/ingest/json_peek.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::ingest {

enum class Provider { standard, svix, clerk, stripe, github, shopify, slack, twilio, none };

std::optional<Provider> parse_provider(std::string_view name);
// The signature scheme a provider signs with; nullopt for `none`.
std::optional<sig::Scheme> signature_scheme(Provider provider);
std::string_view provider_name(Provider provider);
// "standard|svix|clerk|stripe|github|shopify|slack|twilio|none"
std::string provider_names();

// Whether this provider's body must parse as JSON for this request.
bool expects_json(Provider provider, const HeaderList& headers);

// Stripe/Svix/Clerk/standard: body `type`; GitHub: X-GitHub-Event plus
// `.action` when present; Shopify: X-Shopify-Topic; otherwise
// X-Event-Type, body `type`, or "webhook". Made safe to keep and show
// (sanitize_event_type): at most 200 bytes, no control characters.
std::string event_type(Provider provider, const HeaderList& headers, const JsonPeek& body);

// The provider's own delivery id (Stripe `id`, X-GitHub-Delivery,
// X-Shopify-Event-Id, webhook-id/svix-id, ...); empty when none.
std::string dedupe_key(Provider provider, const HeaderList& headers, const JsonPeek& body);

} // namespace centrali::ingest

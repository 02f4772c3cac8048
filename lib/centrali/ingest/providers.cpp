#include "centrali/ingest/providers.hpp"

#include <array>

#include "centrali/ingest/event_type.hpp"

namespace centrali::ingest {
namespace {

struct Entry {
  Provider provider;
  std::string_view name;
};
constexpr std::array<Entry, 9> k_providers = {{{Provider::standard, "standard"},
                                               {Provider::svix, "svix"},
                                               {Provider::clerk, "clerk"},
                                               {Provider::stripe, "stripe"},
                                               {Provider::github, "github"},
                                               {Provider::shopify, "shopify"},
                                               {Provider::slack, "slack"},
                                               {Provider::twilio, "twilio"},
                                               {Provider::none, "none"}}};

std::string header_or_empty(const HeaderList& headers, std::string_view name)
{
  const auto* v = find_header(headers, name);
  return v ? *v : std::string();
}

bool is_form(const HeaderList& headers)
{
  const auto* ct = find_header(headers, "Content-Type");
  return ct && ct->find("application/x-www-form-urlencoded") != std::string::npos;
}

// The type as the provider gave it, before it is made safe to keep.
std::string raw_event_type(Provider provider, const HeaderList& headers, const JsonPeek& body)
{
  switch (provider) {
  case Provider::standard:
  case Provider::svix:
  case Provider::clerk:
  case Provider::stripe:
    if (!body.type.empty()) return body.type;
    break;
  case Provider::github: {
    auto event = header_or_empty(headers, "X-GitHub-Event");
    if (!event.empty()) return body.action.empty() ? event : event + "." + body.action;
    break;
  }
  case Provider::shopify: {
    auto topic = header_or_empty(headers, "X-Shopify-Topic");
    if (!topic.empty()) return topic;
    break;
  }
  case Provider::slack:
    if (!body.event_type.empty()) return body.event_type;
    break;
  default: break;
  }
  auto custom = header_or_empty(headers, "X-Event-Type");
  if (!custom.empty()) return custom;
  if (!body.type.empty()) return body.type;
  return "webhook";
}

} // namespace

std::optional<Provider> parse_provider(std::string_view name)
{
  for (const auto& e : k_providers)
    if (e.name == name) return e.provider;
  return std::nullopt;
}

std::optional<sig::Scheme> signature_scheme(Provider provider)
{
  switch (provider) {
  case Provider::standard: return sig::Scheme::standard;
  case Provider::svix: return sig::Scheme::svix;
  case Provider::clerk: return sig::Scheme::clerk;
  case Provider::stripe: return sig::Scheme::stripe;
  case Provider::github: return sig::Scheme::github;
  case Provider::shopify: return sig::Scheme::shopify;
  case Provider::slack: return sig::Scheme::slack;
  case Provider::twilio: return sig::Scheme::twilio;
  case Provider::none: break;
  }
  return std::nullopt;
}

std::string_view provider_name(Provider provider)
{
  for (const auto& e : k_providers)
    if (e.provider == provider) return e.name;
  return "none";
}

std::string provider_names()
{
  std::string out;
  for (const auto& e : k_providers) {
    if (!out.empty()) out += '|';
    out += e.name;
  }
  return out;
}

bool expects_json(Provider provider, const HeaderList& headers)
{
  switch (provider) {
  case Provider::standard:
  case Provider::svix:
  case Provider::clerk:
  case Provider::stripe:
  case Provider::shopify: return true;
  case Provider::github: return !is_form(headers);  // GitHub can be set to send form-encoded payloads
  default: return false;
  }
}

std::string event_type(Provider provider, const HeaderList& headers, const JsonPeek& body)
{
  auto type = sanitize_event_type(raw_event_type(provider, headers, body));
  return type.empty() ? "webhook" : type;
}

std::string dedupe_key(Provider provider, const HeaderList& headers, const JsonPeek& body)
{
  switch (provider) {
  case Provider::stripe: return body.id;
  case Provider::github: return header_or_empty(headers, "X-GitHub-Delivery");
  case Provider::shopify: {
    auto id = header_or_empty(headers, "X-Shopify-Event-Id");
    return id.empty() ? header_or_empty(headers, "X-Shopify-Webhook-Id") : id;
  }
  case Provider::standard: return header_or_empty(headers, "webhook-id");
  case Provider::svix:
  case Provider::clerk: return header_or_empty(headers, "svix-id");
  case Provider::slack: return body.event_id;
  case Provider::twilio: return header_or_empty(headers, "I-Twilio-Idempotency-Token");
  case Provider::none: {
    auto key = header_or_empty(headers, "Idempotency-Key");
    return key.empty() ? header_or_empty(headers, "webhook-id") : key;
  }
  }
  return {};
}

} // namespace centrali::ingest

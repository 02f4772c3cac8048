#include "centrali/send/provider_request.hpp"

#include <openssl/rand.h>

#include "centrali/signatures/signatures.hpp"
#include "centrali/util/encoding.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"
#include "centrali/version.hpp"

namespace centrali::send {
namespace {

using ojson = nlohmann::ordered_json;
using ingest::Provider;

std::string uuid4()
{
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return ids::make("msg");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += k_hex[b[i] >> 4];
    out += k_hex[b[i] & 15];
  }
  return out;
}

// Letters and digits from OpenSSL's CSPRNG (capitals only when `upper`).
std::string random_id(std::size_t n, bool upper = false)
{
  static constexpr std::string_view k_mixed = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  static constexpr std::string_view k_upper = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const auto alphabet = upper ? k_upper : k_mixed;
  std::string bytes(n, '\0');
  (void)RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n));
  std::string out;
  for (char b : bytes) out += alphabet[static_cast<unsigned char>(b) % alphabet.size()];
  return out;
}

std::string dump(const ojson& body, int indent = -1)
{
  return body.dump(indent, ' ', false, ojson::error_handler_t::replace);
}

// Twilio posts its parameters form-encoded, each value as text.
std::string form_encoded(const ojson& params)
{
  std::string out;
  for (const auto& [key, value] : params.items()) {
    if (!out.empty()) out += '&';
    out += encoding::url_encode(key) + "=" + encoding::url_encode(value.is_string() ? value.get<std::string>() : dump(value));
  }
  return out;
}

// What each provider's user agent and content type look like on the wire.
struct Style {
  std::string content_type;
  std::string user_agent;
};

Style style_of(Provider provider)
{
  switch (provider) {
  case Provider::stripe: return {"application/json; charset=utf-8", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"};
  case Provider::github: return {"application/json", "GitHub-Hookshot/centrali"};
  case Provider::shopify: return {"application/json", "Shopify-Captain-Hook"};
  case Provider::svix:
  case Provider::clerk: return {"application/json", "Svix-Webhooks/1.0 (+https://www.svix.com/http-sender/)"};
  case Provider::slack: return {"application/json", "Slackbot 1.0 (+https://api.slack.com/robots)"};
  case Provider::twilio: return {"application/x-www-form-urlencoded; charset=UTF-8", "TwilioProxy/1.1"};
  case Provider::standard:
  case Provider::none: break;
  }
  return {"application/json", std::string("centrali-send/") + k_version};
}

} // namespace

Result<ProviderRequest> provider_request(const SendAs& as, const ojson* body_json, const std::string& raw,
                                         const HeaderList& extra)
{
  ProviderRequest out;
  ojson body = body_json ? *body_json : ojson();
  const bool is_json = body_json != nullptr;
  const auto style = style_of(as.provider);
  HeaderList provider_headers = extra;
  auto set_header = [&](const std::string& name, const std::string& value) {
    std::erase_if(provider_headers, [&](const HeaderField& h) { return iequals(h.name, name); });
    provider_headers.push_back({name, value});
  };
  for (const char* id_header : {"X-GitHub-Delivery", "X-Shopify-Event-Id", "I-Twilio-Idempotency-Token"})
    if (find_header(extra, id_header) && as.provider != Provider::none)
      return fail(ErrorKind::usage, std::string("--header ") + id_header + ": give the delivery id with --id");
  // The delivery id, where each provider keeps it.
  switch (as.provider) {
  case Provider::stripe:
    // Every Stripe event has an id, the receiver's dedupe key: --data
    // without one gets a fresh one, as Stripe would give it.
    if (is_json && body.is_object()) {
      if (!as.delivery_id.empty()) body["id"] = as.delivery_id;
      else if (!body.contains("id") || !body["id"].is_string()) body["id"] = "evt_" + random_id(24);
      out.delivery_id = body["id"].get<std::string>();
    }
    break;
  case Provider::slack:
    // Events API callbacks carry an event_id; the URL handshake has none.
    if (is_json && body.is_object() && (body.value("type", "") == "event_callback" || !as.delivery_id.empty())) {
      if (!as.delivery_id.empty()) body["event_id"] = as.delivery_id;
      else if (!body.contains("event_id") || !body["event_id"].is_string()) body["event_id"] = "Ev" + random_id(10, true);
      out.delivery_id = body["event_id"].get<std::string>();
    }
    break;
  case Provider::github:
    out.delivery_id = as.delivery_id.empty() ? uuid4() : as.delivery_id;
    if (!find_header(provider_headers, "X-GitHub-Event"))
      return fail(ErrorKind::usage, "GitHub names the event in X-GitHub-Event: use a github --fixture, or add "
                                    "--header 'X-GitHub-Event: push'");
    set_header("X-GitHub-Delivery", out.delivery_id);
    set_header("X-GitHub-Hook-ID", "400000001");
    set_header("X-GitHub-Hook-Installation-Target-Type", "repository");
    set_header("X-GitHub-Hook-Installation-Target-ID", "1296269");
    break;
  case Provider::shopify:
    out.delivery_id = as.delivery_id.empty() ? uuid4() : as.delivery_id;
    if (!find_header(provider_headers, "X-Shopify-Topic"))
      return fail(ErrorKind::usage, "Shopify names the event in X-Shopify-Topic: use a shopify --fixture, or add "
                                    "--header 'X-Shopify-Topic: orders/create'");
    set_header("X-Shopify-Shop-Domain", "example.myshopify.com");
    set_header("X-Shopify-API-Version", "2024-07");
    set_header("X-Shopify-Webhook-Id", uuid4());
    set_header("X-Shopify-Event-Id", out.delivery_id);
    set_header("X-Shopify-Triggered-At", timeutil::format_rfc3339(as.timestamp_s * 1000));
    break;
  case Provider::standard:
  case Provider::svix:
  case Provider::clerk: out.delivery_id = as.delivery_id.empty() ? ids::make(ids::k_message) : as.delivery_id; break;
  case Provider::twilio:
    out.delivery_id = as.delivery_id.empty() ? uuid4() : as.delivery_id;
    set_header("I-Twilio-Idempotency-Token", out.delivery_id);
    break;
  case Provider::none:
    if (!as.delivery_id.empty()) set_header("webhook-id", out.delivery_id = as.delivery_id);
    break;
  }
  if (!is_json) out.body = raw;
  else if (as.provider == Provider::twilio && body.is_object()) out.body = form_encoded(body);
  else out.body = dump(body, as.provider == Provider::stripe ? 2 : -1);  // Stripe's bodies are indented

  // The caller's Content-Type and User-Agent (--header) win over the style.
  if (!find_header(provider_headers, "Content-Type")) out.headers.push_back({"Content-Type", style.content_type});
  if (!find_header(provider_headers, "User-Agent")) out.headers.push_back({"User-Agent", style.user_agent});
  for (auto& h : provider_headers) out.headers.push_back(std::move(h));
  auto scheme = ingest::signature_scheme(as.provider);
  if (!scheme) return out;
  sig::SignInput in;
  in.scheme = *scheme;
  in.secrets = as.secrets;
  if (in.scheme == sig::Scheme::slack || in.scheme == sig::Scheme::github || in.scheme == sig::Scheme::shopify ||
      in.scheme == sig::Scheme::twilio)
    in.secrets.resize(std::min<std::size_t>(in.secrets.size(), 1));
  in.id = out.delivery_id;
  in.timestamp = as.timestamp_s;
  in.url = as.url;
  in.body = out.body;
  auto signature = sig::sign(in);
  if (!signature) return fail(ErrorKind::usage, "cannot sign as " + std::string(ingest::provider_name(as.provider)) +
                                                    ": " + signature.error().message);
  for (const auto& h : *signature)
    if (find_header(extra, h.name))
      return fail(ErrorKind::usage, "--header " + h.name + ": the signature sets it (give the delivery id with --id, the time with --timestamp)");
  for (auto& h : *signature) out.headers.push_back(std::move(h));
  return out;
}

} // namespace centrali::send

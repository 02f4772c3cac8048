#include "centrali/delivery/webhook_request.hpp"

#include "centrali/ingest/json_peek.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/util/encoding.hpp"
#include "centrali/util/headers.hpp"
#include "centrali/util/json_text.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/utf8.hpp"
#include "centrali/version.hpp"

namespace centrali::delivery {

namespace {

const std::string k_user_agent = std::string("centrali/") + k_version;

// The JSON text itself: without the whitespace around it, and without the
// UTF-8 byte order mark a JSON parser skips (and the scanner accepts) but
// which is not allowed inside the envelope.
std::string_view bare_json(std::string_view s)
{
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  constexpr std::string_view ws = " \t\r\n";
  auto first = s.find_first_not_of(ws);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

bool starts_with_ci(std::string_view s, std::string_view prefix)
{
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

} // namespace

std::string reserved_header_reason(std::string_view name)
{
  if (is_framing_header(name)) return std::string(name) + " frames the HTTP message; centrali sets it on every attempt";
  if (iequals(name, "Content-Type")) return "Content-Type is the envelope's (application/json); centrali sets it";
  if (iequals(name, "User-Agent")) return "User-Agent is centrali's own (centrali/<version>)";
  if (starts_with_ci(name, "webhook-") || starts_with_ci(name, "Centrali-"))
    return std::string(name) + " is a signature or delivery header; centrali sets the webhook-* and Centrali-* headers";
  return {};
}

std::string envelope_body(const store::Event& event)
{
  // A JSON body goes in as the sender's bytes (key order, number spelling),
  // checked by the same scanner as ingestion rather than parsed into a
  // document and re-serialised for every delivery. Other text is carried as
  // a JSON string; bytes that are not UTF-8 as base64, marked as triggers
  // mark it, since a JSON string cannot hold them unchanged.
  std::string out;
  out.reserve(event.body.size() + event.type.size() + 64);
  out += R"({"type":)";
  append_json_string(out, event.type);
  out += R"(,"timestamp":)";
  append_json_string(out, timeutil::format_rfc3339(event.received_ms));
  out += R"(,"data":)";
  if (ingest::peek_json(event.body).valid) {
    out += bare_json(event.body);
  } else if (is_valid_utf8(event.body)) {
    append_json_string(out, event.body);
  } else {
    append_json_string(out, encoding::base64_encode(event.body));
    out += R"(,"dataEncoding":"base64")";
  }
  out += '}';
  return out;
}

Result<http::OutboundRequest> webhook_request(const WebhookRequestInput& in)
{
  const auto& w = *in.webhook;
  auto timestamp = (in.now_ms - in.clock_offset_ms) / 1000;  // fresh on every attempt
  auto signature = sig::standard_v1_signature(w.secret, in.delivery_id, timestamp, in.body);
  if (!signature) return std::unexpected(signature.error());
  std::string signatures = std::move(*signature);
  // During rotation both secrets sign, so receivers holding either verify.
  if (!w.previous_secret.empty() && w.previous_until_ms && *w.previous_until_ms > in.now_ms) {
    auto old = sig::standard_v1_signature(w.previous_secret, in.delivery_id, timestamp, in.body);
    if (old) signatures += " " + *old;
  }
  http::OutboundRequest req;
  req.url = w.url;
  req.method = "POST";
  req.timeout = std::chrono::milliseconds(w.timeout_ms);
  req.insecure = w.insecure;
  req.content_type = "application/json";
  auto ts = std::to_string(timestamp);
  // Built in place: an initializer list would copy every name and value
  // twice, and this runs for every attempt.
  auto& h = req.headers;
  h.reserve(10 + w.headers.size());
  auto add = [&h](std::string_view name, std::string_view value) { h.push_back({std::string(name), std::string(value)}); };
  add("webhook-id", in.delivery_id);
  add("webhook-timestamp", ts);
  add("webhook-signature", signatures);
  add("Centrali-Id", in.delivery_id);
  add("Centrali-Timestamp", ts);
  add("Centrali-Signature", signatures);
  add("Centrali-Event-Type", in.event_type);
  add("User-Agent", k_user_agent);
  if (in.attempt_number > 1) add("Centrali-Retry-Attempt", std::to_string(in.attempt_number - 1));
  if (in.test_event) add("Centrali-Test-Event", "true");
  for (const auto& custom : w.headers)
    if (reserved_header_reason(custom.name).empty()) h.push_back(custom);
  req.body = in.body;
  return req;
}

} // namespace centrali::delivery

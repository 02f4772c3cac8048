#include "render_deliveries.hpp"

#include "centrali/util/encoding.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/utf8.hpp"

namespace centrali::cli {

using json = nlohmann::json;

namespace {
json or_null(const std::string& s)
{
  return s.empty() ? json(nullptr) : json(s);
}
} // namespace

json delivery_json(const store::Delivery& d)
{
  return {{"id", d.id},
          {"kind", d.kind},
          {"event_id", d.event_id},
          {"webhook_id", or_null(d.webhook_id)},
          {"event_type", d.event_type},
          {"url", d.url},
          {"status", d.status},
          {"attempts", d.attempt_count},
          {"next_attempt_at", d.next_attempt_ms ? json(timeutil::format_rfc3339(*d.next_attempt_ms)) : json(nullptr)},
          {"last_status", d.last_status ? json(*d.last_status) : json(nullptr)},
          {"last_error", or_null(d.last_error)},
          {"created_at", timeutil::format_rfc3339(d.created_ms)},
          {"updated_at", timeutil::format_rfc3339(d.updated_ms)}};
}

json attempt_json(const store::Attempt& a)
{
  json j = {{"id", a.id},
            {"delivery_id", a.delivery_id},
            {"number", a.number},
            {"trigger", a.trigger},
            {"url", a.url},
            {"started_at", timeutil::format_rfc3339(a.started_ms)},
            {"duration_ms", a.duration_ms},
            {"request_headers", headers_to_json(a.request_headers)},
            {"response_status", a.response_status ? json(*a.response_status) : json(nullptr)},
            {"response_headers", headers_to_json(a.response_headers)},
            {"error", or_null(a.error)},
            {"signature", or_null(a.signature)},
            {"clock_offset_ms", a.clock_offset_ms}};
  if (is_valid_utf8(a.response_body)) j["response_body"] = a.response_body;
  else j["response_body_base64"] = encoding::base64_encode(a.response_body);
  // What was sent, byte for byte (null: nothing was, or it predates schema 10).
  if (!a.body_kept) j["request_body"] = nullptr;
  else if (is_valid_utf8(a.request_body)) j["request_body"] = a.request_body;
  else j["request_body_base64"] = encoding::base64_encode(a.request_body);
  return j;
}

std::string attempt_outcome(const store::Attempt& a)
{
  return a.response_status ? "HTTP " + std::to_string(*a.response_status) : a.error;
}

std::string attempt_line(Output& out, const store::Attempt& a)
{
  bool ok = a.response_status && *a.response_status >= 200 && *a.response_status < 300;
  return a.id + " #" + std::to_string(a.number) + " " + a.trigger + " -> " + shown_url(a.url) + ": " +
         out.paint(for_terminal(attempt_outcome(a)), ok ? Style::green : Style::red) + " (" + std::to_string(a.duration_ms) + "ms)" +
         fast_forward_note(a);
}

std::string fast_forward_note(const store::Attempt& a)
{
  if (a.clock_offset_ms == 0) return "";
  return " (clock fast-forwarded by " + timeutil::format_duration(std::chrono::milliseconds(a.clock_offset_ms)) + ")";
}

} // namespace centrali::cli

#include "centrali/delivery/forward.hpp"

namespace centrali::delivery {
namespace {

// The framing the client sets itself, and the encodings: the stored body
// is sent as it was stored. Redacted credentials are dropped rather than
// sent as "[redacted]".
bool is_hop_by_hop(std::string_view name)
{
  return is_framing_header(name) || iequals(name, "accept-encoding") || iequals(name, "content-encoding");
}

} // namespace

http::OutboundRequest forward_request(const store::Event& event, const std::string& url)
{
  http::OutboundRequest req;
  req.url = url;
  req.method = "POST";
  for (const auto& h : event.headers) {
    if (is_hop_by_hop(h.name) || is_credential_header(h.name)) continue;
    req.headers.push_back(h);
  }
  req.headers.push_back({"Centrali-Event-Id", event.id});
  if (!find_header(req.headers, "Content-Type")) req.content_type = "application/octet-stream";
  req.body = event.body;
  return req;
}

} // namespace centrali::delivery

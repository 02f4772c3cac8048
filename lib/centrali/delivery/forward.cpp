#include "centrali/delivery/forward.hpp"

#include <array>

namespace centrali::delivery {
namespace {

// Headers that describe one connection, not the message: the client sets
// its own. Redacted credentials are dropped rather than sent as "[redacted]".
bool is_hop_by_hop(std::string_view name)
{
  static constexpr std::array<std::string_view, 12> k_names = {
      "host",    "content-length", "connection", "keep-alive", "transfer-encoding", "te",
      "trailer", "upgrade",        "proxy-connection", "expect", "accept-encoding", "content-encoding"};
  for (auto n : k_names)
    if (iequals(n, name)) return true;
  return false;
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

#include "centrali/util/url.hpp"

#include <charconv>

namespace centrali {

Result<Url> parse_url(std::string_view text)
{
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::usage, "invalid URL '" + std::string(text) + "': " + why);
  };
  Url url;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("expected http://host[:port]/path");
  url.scheme = std::string(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return bad("only http and https are supported");
  auto rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!url.target.empty() && url.target[0] == '?') url.target = "/" + url.target;
  if (auto hash = url.target.find('#'); hash != std::string::npos) url.target.erase(hash);
  if (url.target.empty()) url.target = "/";
  if (authority.find('@') != std::string_view::npos) return bad("credentials in URLs are not supported");
  url.port = url.scheme == "https" ? 443 : 80;
  std::string_view host = authority;
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed IPv6 bracket");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("invalid port");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (port_text.empty()) return bad("invalid port");
  }
  if (!port_text.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || port <= 0 || port > 65535)
      return bad("invalid port");
    url.port = port;
  }
  if (host.empty()) return bad("missing host");
  url.host = std::string(host);
  return url;
}

} // namespace centrali

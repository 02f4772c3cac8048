#include "centrali/util/url.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace centrali {
namespace {

// Judged word by word (`api_key`, `X-Auth-Token`, `accessToken`), so that
// `design` or `keyboard_layout` are not taken for credentials.
bool credential_parameter(std::string_view name)
{
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::size_t start = 0;
  while (start <= lower.size()) {
    auto end = lower.find_first_of("_-.", start);
    std::string_view word = std::string_view(lower).substr(start, end == std::string::npos ? std::string::npos : end - start);
    for (std::string_view exact : {"auth", "sig", "signature", "session", "sid", "pwd", "passwd", "credential",
                                   "credentials", "jwt"})
      if (word == exact) return true;
    for (std::string_view suffix : {"token", "key", "secret", "password"})
      if (word.ends_with(suffix)) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

} // namespace

std::string redact_url(std::string_view url)
{
  constexpr std::string_view k_redacted = "[redacted]";
  std::string out;
  out.reserve(url.size());
  auto query = url.find('?');
  auto fragment = url.find('#');
  if (fragment != std::string_view::npos && query != std::string_view::npos && fragment < query) query = std::string_view::npos;
  std::string_view before = url.substr(0, std::min(query, fragment));
  // userinfo: between "://" and '@', before the path.
  if (auto sep = before.find("://"); sep != std::string_view::npos) {
    auto authority_end = before.find('/', sep + 3);
    auto at = before.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos && at > sep) {
      out.append(before.substr(0, sep + 3));
      out.append(k_redacted);
      out.append(before.substr(at));
    } else {
      out.append(before);
    }
  } else {
    out.append(before);
  }
  if (query == std::string_view::npos) {
    if (fragment != std::string_view::npos) out.append(url.substr(fragment));
    return out;
  }
  auto rest = url.substr(query + 1, fragment == std::string_view::npos ? std::string_view::npos : fragment - query - 1);
  out += '?';
  bool first = true;
  while (true) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && eq + 1 < pair.size() && credential_parameter(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out.append(k_redacted);
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  if (fragment != std::string_view::npos) out.append(url.substr(fragment));
  return out;
}

Result<Url> parse_url(std::string_view text)
{
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::usage, "invalid URL '" + redact_url(text) + "': " + why);
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

#include "centrali/http/host_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace centrali::http {
namespace {

std::string lower(std::string_view s)
{
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s)
{
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// RFC 3986 reg-name characters: unreserved, sub-delims and '%'.
bool is_reg_name_char(char c)
{
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos;
}

enum class Family { none, v4, v6 };

Family ip_family(const std::string& name, in6_addr& v6, in_addr& v4)
{
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) return Family::v4;
  if (inet_pton(AF_INET6, name.c_str(), &v6) == 1) return Family::v6;
  return Family::none;
}

bool is_loopback_ip(const std::string& name)
{
  in6_addr v6{};
  in_addr v4{};
  switch (ip_family(name, v6, v4)) {
  case Family::v4: return (ntohl(v4.s_addr) >> 24) == 127;
  case Family::v6: return IN6_IS_ADDR_LOOPBACK(&v6);
  case Family::none: break;
  }
  return false;
}

bool same_ip(const std::string& a, const std::string& b)
{
  in6_addr a6{}, b6{};
  in_addr a4{}, b4{};
  auto fa = ip_family(a, a6, a4), fb = ip_family(b, b6, b4);
  if (fa != fb || fa == Family::none) return false;
  return fa == Family::v4 ? a4.s_addr == b4.s_addr : IN6_ARE_ADDR_EQUAL(&a6, &b6);
}

} // namespace

std::string host_name(std::string_view host)
{
  std::string_view name = host, port;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return {};
    name = host.substr(1, close - 1);
    auto rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return {};
      port = rest.substr(1);
    }
    std::string literal(name);
    in6_addr v6{};
    if (name.empty() || inet_pton(AF_INET6, literal.c_str(), &v6) != 1) return {};
  } else {
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
    }
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_reg_name_char)) return {};
  }
  if (!all_digits(port) || port.size() > 5) return {};
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  return lower(name);
}

HostPolicy::HostPolicy(std::string bound_address, std::vector<std::string> allowed)
    : m_bound(lower(bound_address))
{
  m_bound_wildcard = m_bound == "0.0.0.0" || m_bound == "::" || m_bound.empty();
  for (auto& a : allowed) {
    auto name = lower(a);
    if (name == "*") m_any = true;
    while (name.size() > 1 && name.back() == '.') name.pop_back();
    if (!name.empty()) m_allowed.push_back(std::move(name));
  }
}

bool HostPolicy::allows_name(std::string_view name) const
{
  std::string n(name);
  if (is_loopback_ip(n)) return true;
  in6_addr v6{};
  in_addr v4{};
  if (ip_family(n, v6, v4) != Family::none) return m_bound_wildcard || same_ip(n, m_bound);
  if (n == "localhost" || n.ends_with(".localhost")) return true;
  if (n == m_bound) return true;
  for (const auto& a : m_allowed) {
    if (a == n) return true;
    if (a.front() == '.' && (n.ends_with(a) || n == std::string_view(a).substr(1))) return true;
  }
  return false;
}

bool HostPolicy::allows_host(std::string_view host) const
{
  if (m_any) return true;
  auto name = host_name(host);
  return !name.empty() && allows_name(name);
}

bool HostPolicy::allows_origin(std::string_view origin) const
{
  if (m_any) return true;
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;  // "null" and anything malformed
  auto scheme = lower(origin.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  auto rest = origin.substr(scheme_end + 3);
  if (rest.find('/') != std::string_view::npos) return false;  // an origin has no path
  return allows_host(rest);
}

} // namespace centrali::http

#pragma once
// Which names the listener answers to. A web page can make the developer's
// browser send requests to 127.0.0.1, and with DNS rebinding (a name of the
// attacker's that resolves first to their server, then to 127.0.0.1) read
// the answers too. Both carry the page's own name: in Host for rebinding,
// in Origin for a cross-site request. So by default only loopback names,
// IP literals that the socket can be reached at, and names the developer
// allowed (a tunnel's public name) are served.
#include <string>
#include <string_view>
#include <vector>

namespace centrali::http {

class HostPolicy {
public:
  // `bound_address` is the address the listener binds (--host); `allowed`
  // holds extra names: `api.example.com`, `.example.com` (it and every
  // subdomain), or `*` (any name: the check is off).
  HostPolicy(std::string bound_address = "127.0.0.1", std::vector<std::string> allowed = {});

  // Whether a request whose Host header is `host` ("name[:port]") may be
  // served. An IP literal is allowed when it is loopback or the bound
  // address, or any when the socket is bound to every interface (an
  // address cannot be rebound); a name when it is `localhost`, under
  // `.localhost`, or allowed.
  bool allows_host(std::string_view host) const;

  // Whether a request carrying `Origin: origin` may be served: its host
  // must pass allows_host. "null" (sandboxed pages, files) never does.
  bool allows_origin(std::string_view origin) const;

private:
  bool allows_name(std::string_view lower_name) const;

  std::string m_bound;
  bool m_bound_wildcard = false;
  bool m_any = false;
  std::vector<std::string> m_allowed;  // lower case, no trailing dot
};

// The name part of a Host value: brackets, port and trailing dot removed,
// lower-cased. Empty when `host` is not a valid Host value (RFC 9110 §7.2:
// uri-host [":" port]).
std::string host_name(std::string_view host);

} // namespace centrali::http

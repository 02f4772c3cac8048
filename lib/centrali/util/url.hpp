#pragma once
// Splitting http(s) URLs into origin and target, for the HTTP client.
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"

namespace centrali {

struct Url {
  std::string scheme;  // http | https
  std::string host;
  int port = 0;
  std::string target;  // path and query, at least "/"
  std::string origin() const { return scheme + "://" + host + ":" + std::to_string(port); }
};

// ErrorKind::usage for anything but an absolute http(s) URL with a host.
Result<Url> parse_url(std::string_view text);

// A URL, or a path and query, as it may be shown and logged: credentials in
// its userinfo (`user:pass@`) and the values of query parameters whose names
// say they are credentials (token, key, secret, password, signature, auth,
// session, ...) become "[redacted]". Everything else is kept as it was.
std::string redact_url(std::string_view url);

} // namespace centrali

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

} // namespace centrali

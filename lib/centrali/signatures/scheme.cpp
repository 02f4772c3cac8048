// Scheme names and properties, and the dispatch to each scheme's parser.
#include <array>
#include <utility>

#include "centrali/signatures/detail.hpp"

namespace centrali::sig {
namespace {

constexpr std::array<std::pair<std::string_view, Scheme>, 9> k_names = {{
    {"standard", Scheme::standard},
    {"v1a", Scheme::v1a},
    {"svix", Scheme::svix},
    {"clerk", Scheme::clerk},
    {"stripe", Scheme::stripe},
    {"github", Scheme::github},
    {"shopify", Scheme::shopify},
    {"slack", Scheme::slack},
    {"twilio", Scheme::twilio},
}};

} // namespace

std::optional<Scheme> parse_scheme(std::string_view name)
{
  for (const auto& [n, s] : k_names)
    if (detail::iequals(n, name)) return s;
  return std::nullopt;
}

std::string_view scheme_name(Scheme scheme)
{
  for (const auto& [n, s] : k_names)
    if (s == scheme) return n;
  return "unknown";
}

Window timestamp_window(Scheme scheme)
{
  switch (scheme) {
  case Scheme::standard:
  case Scheme::v1a:
  case Scheme::svix:
  case Scheme::clerk:
  case Scheme::slack: return Window::both;
  // stripe-go's ValidatePayload rejects only timestamps older than the
  // tolerance; a sender clock running ahead is not an error there.
  case Scheme::stripe: return Window::past_only;
  case Scheme::github:
  case Scheme::shopify:
  case Scheme::twilio: return Window::none;
  }
  return Window::none;
}

bool has_timestamp(Scheme scheme)
{
  return timestamp_window(scheme) != Window::none;
}

std::string_view failure_name(Failure failure)
{
  switch (failure) {
  case Failure::none: return "none";
  case Failure::missing_header: return "missing_header";
  case Failure::malformed_header: return "malformed_header";
  case Failure::timestamp_too_old: return "timestamp_too_old";
  case Failure::timestamp_too_new: return "timestamp_too_new";
  case Failure::no_match: return "no_match";
  case Failure::bad_secret: return "bad_secret";
  case Failure::missing_url: return "missing_url";
  }
  return "unknown";
}

} // namespace centrali::sig

namespace centrali::sig::detail {

std::size_t mac_size(Mac mac)
{
  return mac == Mac::hmac_sha1 ? 20 : 32;
}

std::string_view encoding_name(Encoding encoding)
{
  return encoding == Encoding::hex ? "hex" : "base64";
}

ParseResult parse(Scheme scheme, const HeaderList& headers, std::string_view url)
{
  switch (scheme) {
  case Scheme::standard:
  case Scheme::v1a:
  case Scheme::svix:
  case Scheme::clerk: return parse_standard(scheme, headers);
  case Scheme::stripe: return parse_stripe(headers);
  case Scheme::github: return parse_github(headers);
  case Scheme::shopify: return parse_shopify(headers);
  case Scheme::slack: return parse_slack(headers);
  case Scheme::twilio: return parse_twilio(headers, url);
  }
  return std::unexpected(reject(Failure::malformed_header, "unknown scheme"));
}

} // namespace centrali::sig::detail

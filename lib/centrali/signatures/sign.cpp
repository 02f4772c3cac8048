// sign(): the headers a sender of each scheme sends.
#include "centrali/signatures/detail.hpp"

namespace centrali::sig {

Result<HeaderList> sign(const SignInput& input)
{
  for (std::size_t i = 0; i < input.secrets.size(); ++i)
    if (input.secrets[i].empty()) return fail(ErrorKind::usage, "secret #" + std::to_string(i + 1) + " is empty");
  switch (input.scheme) {
  case Scheme::standard:
  case Scheme::v1a:
  case Scheme::svix:
  case Scheme::clerk: return detail::sign_standard(input);
  case Scheme::stripe: return detail::sign_stripe(input);
  case Scheme::github: return detail::sign_github(input);
  case Scheme::shopify: return detail::sign_shopify(input);
  case Scheme::slack: return detail::sign_slack(input);
  case Scheme::twilio: return detail::sign_twilio(input);
  }
  return fail(ErrorKind::usage, "unknown scheme");
}

} // namespace centrali::sig

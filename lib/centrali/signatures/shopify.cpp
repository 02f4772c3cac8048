// Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the body, keyed with the
// app's client secret. Base64, not hex (Shopify's OAuth query HMACs are hex).
#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig::detail {
namespace {
constexpr std::string_view k_header = "X-Shopify-Hmac-Sha256";
}

ParseResult parse_shopify(const HeaderList& headers)
{
  auto value = required_header(headers, k_header);
  if (!value) return std::unexpected(value.error());
  Parsed p;
  p.scheme = Scheme::shopify;
  p.mac = Mac::hmac_sha256;
  p.encoding = Encoding::base64;
  p.key_rule = KeyRule::raw;
  p.layout = Layout::body;
  p.signature_header = k_header;
  p.hmac.add(*value);
  return p;
}

Result<HeaderList> sign_shopify(const SignInput& input)
{
  auto key = single_raw_secret(input);
  if (!key) return std::unexpected(key.error());
  auto mac = crypto::hmac_sha256(*key, {input.body});
  return HeaderList{{std::string(k_header), encoding::base64_encode(crypto::as_view(mac))}};
}

} // namespace centrali::sig::detail

// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body, keyed with the
// secret's bytes; the legacy `X-Hub-Signature: sha1=<hex>` when that is all
// a (very old) sender provides.
#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig::detail {
namespace {

constexpr std::string_view k_sha256_header = "X-Hub-Signature-256";
constexpr std::string_view k_sha1_header = "X-Hub-Signature";

bool starts_with_icase(std::string_view text, std::string_view prefix)
{
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

} // namespace

ParseResult parse_github(const HeaderList& headers)
{
  auto sha256 = optional_header(headers, k_sha256_header);
  if (!sha256) return std::unexpected(sha256.error());
  auto sha1 = optional_header(headers, k_sha1_header);
  if (!sha1) return std::unexpected(sha1.error());

  Parsed p;
  p.scheme = Scheme::github;
  p.encoding = Encoding::hex;
  p.key_rule = KeyRule::raw;
  p.layout = Layout::body;
  // SHA-256 wins when both are present: checking the weaker one too would
  // let it decide the outcome.
  std::string_view value;
  std::string_view prefix;
  if (*sha256) {
    p.mac = Mac::hmac_sha256;
    p.signature_header = k_sha256_header;
    value = **sha256;
    prefix = "sha256=";
  } else if (*sha1) {
    p.mac = Mac::hmac_sha1;
    p.signature_header = k_sha1_header;
    value = **sha1;
    prefix = "sha1=";
  } else {
    return std::unexpected(reject(Failure::missing_header, "the X-Hub-Signature-256 header is missing"));
  }
  if (!starts_with_icase(value, prefix))
    return std::unexpected(reject(Failure::malformed_header, std::string(p.signature_header) + " does not start with " +
                                                                 std::string(prefix)));
  p.hmac.add(value.substr(prefix.size()));
  return p;
}

Result<HeaderList> sign_github(const SignInput& input)
{
  auto key = single_raw_secret(input);
  if (!key) return std::unexpected(key.error());
  auto mac256 = crypto::hmac_sha256(*key, {input.body});
  auto mac1 = crypto::hmac_sha1(*key, {input.body});
  // GitHub still sends the SHA-1 header next to the SHA-256 one.
  return HeaderList{{std::string(k_sha256_header), "sha256=" + encoding::hex_encode(crypto::as_view(mac256))},
                    {std::string(k_sha1_header), "sha1=" + encoding::hex_encode(crypto::as_view(mac1))}};
}

} // namespace centrali::sig::detail

// Secrets: how each scheme turns a secret string into key bytes, the
// Ed25519 whsk_/whpk_ forms (as Svix serialises them), and new secrets.
// Error messages describe the secret's shape, never its content.
#include <cstring>

#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig {
namespace {

constexpr std::string_view k_whsec = "whsec_";
constexpr std::string_view k_whsk = "whsk_";
constexpr std::string_view k_whpk = "whpk_";
constexpr std::string_view k_base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Uniform base62 characters: bytes of 248 and above are dropped, since 248
// is the largest multiple of 62 that fits in a byte (no modulo bias).
Result<std::string> random_base62(std::size_t n)
{
  std::string out;
  while (out.size() < n) {
    auto bytes = crypto::random_bytes(64);
    if (!bytes) return std::unexpected(bytes.error());
    for (unsigned char b : *bytes)
      if (b < 248 && out.size() < n) out += k_base62[b % 62];
  }
  return out;
}

} // namespace

Result<GeneratedKey> generate_key(Scheme scheme)
{
  switch (scheme) {
  case Scheme::standard:
  case Scheme::svix:
  case Scheme::clerk: {
    auto bytes = crypto::random_bytes(32);
    if (!bytes) return std::unexpected(bytes.error());
    return GeneratedKey{std::string(k_whsec) + encoding::base64_encode(*bytes), {}};
  }
  case Scheme::stripe: {
    auto chars = random_base62(32);
    if (!chars) return std::unexpected(chars.error());
    return GeneratedKey{std::string(k_whsec) + *chars, {}};
  }
  case Scheme::v1a: {
    auto pair = crypto::ed25519_generate();
    if (!pair) return std::unexpected(pair.error());
    auto both = std::string(crypto::as_view(pair->seed)) + std::string(crypto::as_view(pair->public_key));
    return GeneratedKey{std::string(k_whsk) + encoding::base64_encode(both),
                        std::string(k_whpk) + encoding::base64_encode(crypto::as_view(pair->public_key))};
  }
  case Scheme::github:
  case Scheme::shopify:
  case Scheme::slack:
  case Scheme::twilio: break;
  }
  return fail(ErrorKind::usage, std::string(scheme_name(scheme)) +
                                    " secrets are issued by the provider; keys generate makes standard, svix, clerk, "
                                    "v1a and stripe secrets");
}

} // namespace centrali::sig

namespace centrali::sig::detail {

bool is_ed25519_secret(std::string_view secret)
{
  return secret.starts_with(k_whsk) || secret.starts_with(k_whpk);
}

Result<std::string> hmac_key(KeyRule rule, std::string_view secret)
{
  if (secret.empty()) return fail(ErrorKind::usage, "is empty");
  if (rule == KeyRule::raw) return std::string(secret);
  bool prefixed = secret.starts_with(k_whsec);
  auto payload = prefixed ? secret.substr(k_whsec.size()) : secret;
  // Padding optional: some libraries print these secrets unpadded.
  auto key = encoding::base64_decode(payload, encoding::Padding::optional);
  if (!key)
    return fail(ErrorKind::usage, prefixed ? "is not valid base64 after whsec_ (Standard Webhooks secrets are whsec_ + base64)"
                                           : "is not valid base64 (Standard Webhooks secrets are whsec_ + base64)");
  if (key->empty()) return fail(ErrorKind::usage, "has no key bytes after whsec_");
  return std::move(*key);
}

Result<crypto::Ed25519Seed> ed25519_secret_key(std::string_view secret)
{
  if (!secret.starts_with(k_whsk)) return fail(ErrorKind::usage, "is not an Ed25519 secret key (whsk_…)");
  std::array<unsigned char, 64> raw{};
  auto n = encoding::base64_decode_into(secret.substr(k_whsk.size()), raw, encoding::Padding::optional);
  if (!n || (*n != 64 && *n != 32))
    return fail(ErrorKind::usage, "is not whsk_ followed by base64 of a 64-byte Ed25519 key (seed and public key)");
  crypto::Ed25519Seed seed{};
  std::memcpy(seed.data(), raw.data(), seed.size());
  if (*n == 64) {
    // sk‖pk: a public half that does not belong to the seed means the key
    // was damaged (or pasted together from two keys).
    auto pub = crypto::ed25519_public_key(seed);
    if (!pub) return std::unexpected(Error{ErrorKind::usage, pub.error().message});
    if (std::memcmp(pub->data(), raw.data() + 32, 32) != 0)
      return fail(ErrorKind::usage, "is a whsk_ key whose public half does not match its private half");
  }
  return seed;
}

Result<crypto::Ed25519PublicKey> ed25519_public_key(std::string_view secret)
{
  if (secret.starts_with(k_whsk)) {
    auto seed = ed25519_secret_key(secret);
    if (!seed) return std::unexpected(seed.error());
    auto pub = crypto::ed25519_public_key(*seed);
    if (!pub) return std::unexpected(Error{ErrorKind::usage, pub.error().message});
    return *pub;
  }
  if (!secret.starts_with(k_whpk)) return fail(ErrorKind::usage, "is not an Ed25519 key (whpk_… or whsk_…)");
  crypto::Ed25519PublicKey pub{};
  auto n = encoding::base64_decode_into(secret.substr(k_whpk.size()), pub, encoding::Padding::optional);
  if (!n || *n != pub.size()) return fail(ErrorKind::usage, "is not whpk_ followed by base64 of a 32-byte Ed25519 public key");
  return pub;
}

Result<Key> verify_key(const Parsed& parsed, std::string_view secret)
{
  Key key;
  // Only the Standard Webhooks family has asymmetric signatures; elsewhere
  // a secret that happens to start with whsk_ is just a string.
  if (parsed.layout == Layout::id_ts_body && is_ed25519_secret(secret)) {
    auto pub = ed25519_public_key(secret);
    if (!pub) return std::unexpected(pub.error());
    key.kind = Key::Kind::ed25519;
    key.public_key = *pub;
    return key;
  }
  auto bytes = hmac_key(parsed.key_rule, secret);
  if (!bytes) return std::unexpected(bytes.error());
  key.hmac_key = std::move(*bytes);
  return key;
}

Result<std::string> single_raw_secret(const SignInput& input)
{
  if (input.secrets.empty()) return fail(ErrorKind::usage, "no secret given");
  if (input.secrets.size() > 1)
    return fail(ErrorKind::usage, std::string(scheme_name(input.scheme)) + " requests carry one signature: give one secret");
  auto key = hmac_key(KeyRule::raw, input.secrets.front());
  if (!key) return fail(ErrorKind::usage, "the secret " + key.error().message);
  return key;
}

} // namespace centrali::sig::detail

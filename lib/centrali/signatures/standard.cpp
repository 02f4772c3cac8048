// Standard Webhooks v1 (HMAC-SHA256) and v1a (Ed25519), and the same scheme
// under Svix's and Clerk's `svix-*` header names.
#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig {
namespace {

struct Names {
  std::string_view id;
  std::string_view timestamp;
  std::string_view signature;
};
constexpr Names k_webhook = {"webhook-id", "webhook-timestamp", "webhook-signature"};
constexpr Names k_svix = {"svix-id", "svix-timestamp", "svix-signature"};

Names names_for(Scheme scheme)
{
  return scheme == Scheme::svix || scheme == Scheme::clerk ? k_svix : k_webhook;
}

Result<void> check_id_and_timestamp(const SignInput& input)
{
  // The signed content joins id, timestamp and body with dots; a dot inside
  // the id would let two different (id, body) pairs share one signature.
  if (input.id.empty()) return fail(ErrorKind::usage, std::string(scheme_name(input.scheme)) + " signatures need a message id");
  if (input.id.find('.') != std::string::npos)
    return fail(ErrorKind::usage, "the message id must not contain '.'");
  if (input.timestamp < 0) return fail(ErrorKind::usage, "the timestamp must be a Unix time (seconds, not negative)");
  return {};
}

} // namespace

Result<std::string> standard_v1_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                                          std::string_view body)
{
  auto key = detail::hmac_key(detail::KeyRule::whsec_base64, secret);
  if (!key) return std::unexpected(Error{ErrorKind::usage, "the secret " + key.error().message});
  auto ts = std::to_string(timestamp);
  auto mac = crypto::hmac_sha256(*key, {id, ".", ts, ".", body});
  return "v1," + encoding::base64_encode(crypto::as_view(mac));
}

Result<std::string> standard_v1a_signature(std::string_view secret_key, std::string_view id,
                                           std::int64_t timestamp, std::string_view body)
{
  auto seed = detail::ed25519_secret_key(secret_key);
  if (!seed) return std::unexpected(Error{ErrorKind::usage, "the secret key " + seed.error().message});
  std::string content;
  auto ts = std::to_string(timestamp);
  content.reserve(id.size() + ts.size() + body.size() + 2);
  content.append(id).append(".").append(ts).append(".").append(body);
  auto sig = crypto::ed25519_sign(*seed, content);
  if (!sig) return std::unexpected(sig.error());
  return "v1a," + encoding::base64_encode(crypto::as_view(*sig));
}

} // namespace centrali::sig

namespace centrali::sig::detail {

ParseResult parse_standard(Scheme scheme, const HeaderList& headers)
{
  auto names = names_for(scheme);
  // Svix's own libraries accept the unbranded webhook-* names too.
  if (names.id == k_svix.id && !find_header(headers, k_svix.signature) && find_header(headers, k_webhook.signature))
    names = k_webhook;

  auto signature = required_header(headers, names.signature);
  if (!signature) return std::unexpected(signature.error());
  auto id = required_header(headers, names.id);
  if (!id) return std::unexpected(id.error());
  auto ts_text = required_header(headers, names.timestamp);
  if (!ts_text) return std::unexpected(ts_text.error());
  auto ts = parse_timestamp(names.timestamp, *ts_text);
  if (!ts) return std::unexpected(ts.error());

  Parsed p;
  p.scheme = scheme;
  p.mac = Mac::hmac_sha256;
  p.encoding = Encoding::base64;
  p.key_rule = KeyRule::whsec_base64;
  p.layout = Layout::id_ts_body;
  p.signature_header = names.signature;
  p.timestamp_header = names.timestamp;
  p.timestamp_text = *ts_text;
  p.timestamp = *ts;
  p.id = *id;

  // `v1,<b64> v1a,<b64> v2,…`: space-separated, unknown versions ignored so
  // senders can add new ones without breaking receivers.
  std::string_view rest = *signature;
  while (!rest.empty()) {
    auto end = rest.find(' ');
    auto entry = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    auto comma = entry.find(',');
    if (comma == std::string_view::npos) continue;
    auto version = entry.substr(0, comma);
    auto value = entry.substr(comma + 1);
    if (version == "v1") p.hmac.add(value);
    else if (version == "v1a") p.ed25519.add(value);
  }
  if (p.hmac.size() == 0 && p.ed25519.size() == 0 && p.hmac.dropped() == 0 && p.ed25519.dropped() == 0)
    return std::unexpected(reject(Failure::malformed_header,
                                  std::string(names.signature) + " holds no v1 or v1a signature (expected 'v1,<base64>')"));
  return p;
}

Result<HeaderList> sign_standard(const SignInput& input)
{
  if (input.secrets.empty()) return fail(ErrorKind::usage, "no secret given");
  if (auto ok = check_id_and_timestamp(input); !ok) return std::unexpected(ok.error());
  std::string signatures;
  for (std::size_t i = 0; i < input.secrets.size(); ++i) {
    const auto& secret = input.secrets[i];
    auto which = "secret #" + std::to_string(i + 1);
    Result<std::string> sig;
    if (secret.starts_with("whpk_"))
      return fail(ErrorKind::usage, which + " is an Ed25519 public key (whpk_): signing needs the secret key (whsk_)");
    if (input.scheme == Scheme::v1a && !secret.starts_with("whsk_"))
      return fail(ErrorKind::usage, which + " is not an Ed25519 secret key: v1a signs with a whsk_ key "
                                            "(make one with 'centrali keys generate --scheme v1a')");
    if (secret.starts_with("whsk_")) sig = sig::standard_v1a_signature(secret, input.id, input.timestamp, input.body);
    else sig = sig::standard_v1_signature(secret, input.id, input.timestamp, input.body);
    if (!sig) return std::unexpected(Error{ErrorKind::usage, which + ": " + sig.error().message});
    if (!signatures.empty()) signatures += ' ';
    signatures += *sig;
  }
  auto names = names_for(input.scheme);
  return HeaderList{{std::string(names.id), input.id},
                    {std::string(names.timestamp), std::to_string(input.timestamp)},
                    {std::string(names.signature), signatures}};
}

} // namespace centrali::sig::detail

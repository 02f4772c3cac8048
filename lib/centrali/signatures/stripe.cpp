// Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of
// `t.body` keyed with the whole secret string (whsec_ included).
#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig::detail {
namespace {
constexpr std::string_view k_header = "Stripe-Signature";
}

ParseResult parse_stripe(const HeaderList& headers)
{
  auto value = required_header(headers, k_header);
  if (!value) return std::unexpected(value.error());

  Parsed p;
  p.scheme = Scheme::stripe;
  p.mac = Mac::hmac_sha256;
  p.encoding = Encoding::hex;
  p.key_rule = KeyRule::raw;
  p.layout = Layout::ts_body;
  p.signature_header = k_header;
  p.timestamp_header = "Stripe-Signature t=";

  // Comma-separated `key=value` items, as stripe-go splits them; v0 (a fake
  // test-mode scheme) and unknown keys are ignored.
  std::optional<std::string_view> t;
  std::string_view rest = *value;
  while (true) {
    auto end = rest.find(',');
    auto item = trim(rest.substr(0, end));
    auto eq = item.find('=');
    if (eq != std::string_view::npos) {
      auto key = item.substr(0, eq);
      auto val = item.substr(eq + 1);
      if (key == "t") {
        if (t && *t != val)
          return std::unexpected(reject(Failure::malformed_header, "Stripe-Signature has two different t= timestamps"));
        t = val;
      } else if (key == "v1") {
        p.hmac.add(val);
      }
    }
    if (end == std::string_view::npos) break;
    rest = rest.substr(end + 1);
  }
  if (!t) return std::unexpected(reject(Failure::malformed_header, "Stripe-Signature has no t= timestamp"));
  auto ts = parse_timestamp("Stripe-Signature t=", *t);
  if (!ts) return std::unexpected(ts.error());
  if (p.hmac.size() == 0 && p.hmac.dropped() == 0)
    return std::unexpected(reject(Failure::malformed_header, "Stripe-Signature has no v1= signature"));
  p.timestamp_text = *t;
  p.timestamp = *ts;
  return p;
}

Result<HeaderList> sign_stripe(const SignInput& input)
{
  if (input.secrets.empty()) return fail(ErrorKind::usage, "no secret given");
  if (input.timestamp < 0) return fail(ErrorKind::usage, "the timestamp must be a Unix time (seconds, not negative)");
  auto ts = std::to_string(input.timestamp);
  std::string value = "t=" + ts;
  // During a secret roll Stripe sends one v1 per active secret.
  for (std::size_t i = 0; i < input.secrets.size(); ++i) {
    auto key = hmac_key(KeyRule::raw, input.secrets[i]);
    if (!key) return fail(ErrorKind::usage, "secret #" + std::to_string(i + 1) + " " + key.error().message);
    auto mac = crypto::hmac_sha256(*key, {ts, ".", input.body});
    value += ",v1=" + encoding::hex_encode(crypto::as_view(mac));
  }
  return HeaderList{{std::string(k_header), value}};
}

} // namespace centrali::sig::detail

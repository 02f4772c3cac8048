// Slack v0: `X-Slack-Signature: v0=<hex>` of HMAC-SHA256 over
// `v0:<X-Slack-Request-Timestamp>:<body>`, keyed with the signing secret.
#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig::detail {
namespace {
constexpr std::string_view k_signature = "X-Slack-Signature";
constexpr std::string_view k_timestamp = "X-Slack-Request-Timestamp";
} // namespace

ParseResult parse_slack(const HeaderList& headers)
{
  auto signature = required_header(headers, k_signature);
  if (!signature) return std::unexpected(signature.error());
  auto ts_text = required_header(headers, k_timestamp);
  if (!ts_text) return std::unexpected(ts_text.error());
  auto ts = parse_timestamp(k_timestamp, *ts_text);
  if (!ts) return std::unexpected(ts.error());
  if (!signature->starts_with("v0="))
    return std::unexpected(reject(Failure::malformed_header, "X-Slack-Signature does not start with v0="));

  Parsed p;
  p.scheme = Scheme::slack;
  p.mac = Mac::hmac_sha256;
  p.encoding = Encoding::hex;
  p.key_rule = KeyRule::raw;
  p.layout = Layout::slack_v0;
  p.signature_header = k_signature;
  p.timestamp_header = k_timestamp;
  p.timestamp_text = *ts_text;
  p.timestamp = *ts;
  p.hmac.add(signature->substr(3));
  return p;
}

Result<HeaderList> sign_slack(const SignInput& input)
{
  auto key = single_raw_secret(input);
  if (!key) return std::unexpected(key.error());
  if (input.timestamp < 0) return fail(ErrorKind::usage, "the timestamp must be a Unix time (seconds, not negative)");
  auto ts = std::to_string(input.timestamp);
  auto mac = crypto::hmac_sha256(*key, {"v0:", ts, ":", input.body});
  return HeaderList{{std::string(k_timestamp), ts}, {std::string(k_signature), "v0=" + encoding::hex_encode(crypto::as_view(mac))}};
}

} // namespace centrali::sig::detail

// verify(): parse the headers, turn secrets into keys, check the timestamp
// window, then compare. Failures carry a reason; diagnosis is separate
// (diagnose.cpp) and runs only on failure.
#include <cstdint>
#include <limits>

#include "centrali/signatures/detail.hpp"

namespace centrali::sig {
namespace {

using namespace detail;

std::string plural(std::size_t n, std::string_view word)
{
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// now - ts without overflow (callers may pass anything as `now`).
std::int64_t age_of(std::int64_t now, std::int64_t ts)
{
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now, ts, &age))
    return now < ts ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
  return age;
}

std::uint64_t magnitude(std::int64_t v)
{
  return v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
}

std::optional<Verdict> check_timestamp(const Parsed& p, const VerifyInput& in)
{
  auto window = timestamp_window(in.scheme);
  if (window == Window::none || in.timestamp_check == TimestampCheck::skip) return std::nullopt;
  auto tolerance = std::max<std::int64_t>(in.tolerance_s, 0);
  auto age = age_of(in.now_s, p.timestamp);
  auto tail = "; tolerance is " + std::to_string(tolerance) + " s";
  if (age > tolerance)
    return reject(Failure::timestamp_too_old, "timestamp is " + std::to_string(magnitude(age)) + " s older than now" + tail);
  if (window == Window::both && age < -tolerance)
    return reject(Failure::timestamp_too_new, "timestamp is " + std::to_string(magnitude(age)) + " s ahead of now" + tail);
  return std::nullopt;
}

// Hints for a request outside its window: is it otherwise authentic, and
// is the timestamp in the wrong unit?
void timestamp_hints(Verdict& v, const Parsed& p, const VerifyInput& in, std::span<const Result<Key>> keys)
{
  auto tolerance = std::max<std::int64_t>(in.tolerance_s, 0);
  if (v.failure == Failure::timestamp_too_new && magnitude(age_of(in.now_s, p.timestamp / 1000)) <= static_cast<std::uint64_t>(tolerance))
    v.hints.push_back("the timestamp looks like milliseconds since the epoch; " + std::string(scheme_name(in.scheme)) +
                      " timestamps are seconds");
  else if (v.failure == Failure::timestamp_too_new)
    v.hints.push_back("the sender's clock (or the one passed as now) is ahead; check both clocks");
  auto hmac = decode_candidates(p.hmac, p.encoding, mac_size(p.mac));
  auto ed = decode_candidates(p.ed25519, Encoding::base64, 64);
  auto content = signed_content(p, in.body, in.url);
  if (first_match(p, keys, content, hmac, ed) >= 0)
    v.hints.push_back("the signature itself matches: the request is authentic but outside the time window "
                      "(a replay, or a delayed or re-sent delivery); re-sign it with a fresh timestamp");
  else
    v.hints.push_back("the signature does not match either");
}

std::string usable_secret_problems(const VerifyInput& in, std::span<const Result<Key>> keys)
{
  std::string out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i]) continue;
    if (!out.empty()) out += "; ";
    out += "secret #" + std::to_string(i + 1) + " " + keys[i].error().message;
  }
  if (keys.size() > 1) out = "no secret is usable for " + std::string(scheme_name(in.scheme)) + ": " + out;
  return out;
}

} // namespace

Verdict verify(const VerifyInput& in)
{
  if (!in.headers) return reject(Failure::missing_header, "no headers were given");
  if (in.secrets.empty()) return reject(Failure::bad_secret, "no secret was given");

  auto parsed = parse(in.scheme, *in.headers, in.url);
  if (!parsed) {
    Verdict v = std::move(parsed.error());
    if (in.diagnose == Diagnose::yes && v.failure == Failure::missing_header)
      v.hints = header_hints(in.scheme, *in.headers);
    return v;
  }
  const Parsed& p = *parsed;

  std::vector<Result<Key>> keys;
  keys.reserve(in.secrets.size());
  bool any_key = false;
  for (const auto& secret : in.secrets) {
    keys.push_back(verify_key(p, secret));
    any_key = any_key || keys.back().has_value();
  }
  if (!any_key) {
    auto v = reject(Failure::bad_secret, usable_secret_problems(in, keys));
    if (in.diagnose == Diagnose::yes) v.hints = key_rule_hints(p, in);
    return v;
  }

  if (auto late = check_timestamp(p, in)) {
    if (in.diagnose == Diagnose::yes) timestamp_hints(*late, p, in, keys);
    return *late;
  }

  auto hmac = decode_candidates(p.hmac, p.encoding, mac_size(p.mac));
  auto ed = decode_candidates(p.ed25519, Encoding::base64, 64);
  auto content = signed_content(p, in.body, in.url);
  int matched = first_match(p, keys, content, hmac, ed);
  if (matched < 0 && p.layout == Layout::twilio) {
    auto variants = twilio_url_variants(in.url);
    for (std::size_t i = 1; i < variants.size() && matched < 0; ++i)
      matched = first_match(p, keys, signed_content(p, in.body, variants[i]), hmac, ed);
  }

  if (matched >= 0 && body_hash_matches(p, in.body)) {
    Verdict v;
    v.valid = true;
    v.matched_secret = matched;
    return v;
  }

  Verdict v;
  if (matched >= 0) {
    v = reject(Failure::no_match, "the body does not match the bodySHA256 in the URL: it changed after signing");
  } else if (hmac.usable() + ed.usable() == 0) {
    auto expected = std::string(encoding_name(p.encoding)) + " of a " + std::to_string(mac_size(p.mac)) + "-byte " +
                    (p.mac == Mac::hmac_sha1 ? "HMAC-SHA1" : "HMAC-SHA256");
    v = reject(Failure::malformed_header,
               std::string(p.signature_header) + " holds no well-formed signature (expected " + expected + ")");
  } else {
    v = reject(Failure::no_match, "no signature matched: " + plural(hmac.usable() + ed.usable(), "signature") + " in " +
                                      std::string(p.signature_header) + " checked against " +
                                      plural(in.secrets.size(), "secret"));
  }
  if (in.diagnose == Diagnose::yes) v.hints = diagnose(p, in, keys);
  return v;
}

} // namespace centrali::sig

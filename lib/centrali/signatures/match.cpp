// Recomputing and comparing: the signed content of a parsed request, the
// candidates decoded once, and one MAC per key compared in constant time
// against every candidate.
#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig::detail {
namespace {

// Base64url spelling of a signature, turned back into the standard alphabet
// (only for the diagnosis: no scheme sends base64url).
bool from_url_safe(std::string_view text, std::array<char, 128>& out, std::size_t& size)
{
  if (text.size() > out.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    out[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  size = text.size();
  return true;
}

template <std::size_t N>
bool equals_any(const std::array<unsigned char, N>& mac, const Decoded& decoded)
{
  bool found = false;
  // Every usable candidate is compared, matched or not, so the time taken
  // does not depend on which one matched.
  for (std::size_t i = 0; i < decoded.count; ++i)
    if (decoded.ok[i] &&
        crypto::constant_time_equal(crypto::as_view(mac),
                                    std::string_view(reinterpret_cast<const char*>(decoded.bytes[i].data()), N)))
      found = true;
  return found;
}

} // namespace

std::size_t Decoded::usable() const
{
  std::size_t n = 0;
  for (std::size_t i = 0; i < count; ++i) n += ok[i] ? 1 : 0;
  return n;
}

Decoded decode_candidates(const Candidates& candidates, Encoding encoding, std::size_t expected_size,
                          Alphabet alphabet)
{
  Decoded d;
  d.count = candidates.size();
  for (std::size_t i = 0; i < d.count; ++i) {
    std::string_view text = candidates.items()[i];
    std::array<char, 128> translated{};
    if (alphabet == Alphabet::url_safe) {
      std::size_t size = 0;
      if (!from_url_safe(text, translated, size)) continue;
      text = std::string_view(translated.data(), size);
    }
    std::optional<std::size_t> n;
    if (encoding == Encoding::hex) n = encoding::hex_decode_into(text, d.bytes[i]);
    else
      n = encoding::base64_decode_into(text, d.bytes[i],
                                       alphabet == Alphabet::url_safe ? encoding::Padding::optional
                                                                      : encoding::Padding::required);
    d.ok[i] = n && *n == expected_size;
  }
  return d;
}

std::string Content::joined() const
{
  if (uses_owned) return owned;
  std::string out;
  std::size_t size = 0;
  for (auto p : parts) size += p.size();
  out.reserve(size);
  for (auto p : parts) out.append(p);
  return out;
}

Content signed_content(const Parsed& parsed, std::string_view body, std::string_view url)
{
  Content c;
  switch (parsed.layout) {
  case Layout::id_ts_body: c.parts = {parsed.id, ".", parsed.timestamp_text, ".", body}; break;
  case Layout::ts_body: c.parts = {parsed.timestamp_text, ".", body}; break;
  case Layout::slack_v0: c.parts = {"v0:", parsed.timestamp_text, ":", body}; break;
  case Layout::body: c.parts = {body}; break;
  case Layout::twilio:
    c.owned = parsed.twilio_form ? twilio_signed_string(url, body) : std::string(url);
    c.uses_owned = true;
    break;
  }
  return c;
}

std::string mac_of(Mac mac, std::string_view key, const Content& content)
{
  const auto& p = content.parts;
  if (mac == Mac::hmac_sha1) {
    auto d = content.uses_owned ? crypto::hmac_sha1(key, {content.owned}) : crypto::hmac_sha1(key, {p[0], p[1], p[2], p[3], p[4]});
    return std::string(crypto::as_view(d));
  }
  auto d = content.uses_owned ? crypto::hmac_sha256(key, {content.owned}) : crypto::hmac_sha256(key, {p[0], p[1], p[2], p[3], p[4]});
  return std::string(crypto::as_view(d));
}

bool key_matches(const Parsed& parsed, const Key& key, const Content& content, const Decoded& hmac,
                 const Decoded& ed25519)
{
  if (key.kind == Key::Kind::ed25519) {
    if (ed25519.usable() == 0) return false;
    auto message = content.joined();
    bool found = false;
    for (std::size_t i = 0; i < ed25519.count; ++i)
      if (ed25519.ok[i] && crypto::ed25519_verify(key.public_key, message, ed25519.bytes[i])) found = true;
    return found;
  }
  if (hmac.usable() == 0) return false;
  const auto& p = content.parts;
  if (parsed.mac == Mac::hmac_sha1) {
    auto d = content.uses_owned ? crypto::hmac_sha1(key.hmac_key, {content.owned})
                                : crypto::hmac_sha1(key.hmac_key, {p[0], p[1], p[2], p[3], p[4]});
    return equals_any(d, hmac);
  }
  auto d = content.uses_owned ? crypto::hmac_sha256(key.hmac_key, {content.owned})
                              : crypto::hmac_sha256(key.hmac_key, {p[0], p[1], p[2], p[3], p[4]});
  return equals_any(d, hmac);
}

int first_match(const Parsed& parsed, std::span<const Result<Key>> keys, const Content& content,
                const Decoded& hmac, const Decoded& ed25519)
{
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] && key_matches(parsed, *keys[i], content, hmac, ed25519)) return static_cast<int>(i);
  return -1;
}

bool body_hash_matches(const Parsed& parsed, std::string_view body)
{
  if (parsed.layout != Layout::twilio || parsed.body_sha256.empty()) return true;
  std::array<unsigned char, 32> expected{};
  auto n = encoding::hex_decode_into(parsed.body_sha256, expected);
  if (!n || *n != expected.size()) return false;
  auto actual = crypto::sha256(body);
  return crypto::constant_time_equal(crypto::as_view(actual), crypto::as_view(expected));
}

} // namespace centrali::sig::detail

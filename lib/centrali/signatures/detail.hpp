#pragma once
// Internals shared by the scheme files, verify, sign and diagnose. Not part
// of the public API: include signatures.hpp instead.
//
// Every scheme reduces to the same shape: a parser pulls the timestamp, id
// and encoded signature candidates out of the headers (Parsed); the signed
// content is a few pieces around the body (Content); a key rule turns each
// secret into key bytes (Key); and matching is one MAC per key compared in
// constant time with each decoded candidate.
#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/signatures/signatures.hpp"
#include "centrali/util/crypto.hpp"

namespace centrali::sig::detail {

enum class Mac { hmac_sha256, hmac_sha1 };
enum class Encoding { hex, base64 };
enum class KeyRule {
  whsec_base64,  // strip an optional whsec_, base64-decode the rest (Standard Webhooks, Svix)
  raw,           // the secret's bytes as given, any prefix included (Stripe, GitHub, …)
};
enum class Layout { id_ts_body, ts_body, slack_v0, body, twilio };

std::size_t mac_size(Mac mac);
std::string_view encoding_name(Encoding encoding);

// Encoded signatures found in one header, at most k_max_candidates; views
// into the header value.
class Candidates {
public:
  void add(std::string_view text)
  {
    if (m_count < m_items.size()) m_items[m_count++] = text;
    else ++m_dropped;
  }
  std::span<const std::string_view> items() const { return {m_items.data(), m_count}; }
  std::size_t size() const { return m_count; }
  std::size_t dropped() const { return m_dropped; }

private:
  std::array<std::string_view, k_max_candidates> m_items{};
  std::size_t m_count = 0;
  std::size_t m_dropped = 0;
};

// Candidates decoded to bytes once per request; `ok` is false for those that
// are not valid in the encoding or not the MAC's size.
struct Decoded {
  std::array<std::array<unsigned char, 64>, k_max_candidates> bytes{};
  std::array<bool, k_max_candidates> ok{};
  std::size_t count = 0;
  std::size_t usable() const;
};
enum class Alphabet { standard, url_safe };
Decoded decode_candidates(const Candidates& candidates, Encoding encoding, std::size_t expected_size,
                          Alphabet alphabet = Alphabet::standard);

// What a scheme's parser found in the headers. Views point into the headers.
struct Parsed {
  Scheme scheme = Scheme::standard;
  Mac mac = Mac::hmac_sha256;
  Encoding encoding = Encoding::hex;
  KeyRule key_rule = KeyRule::raw;
  Layout layout = Layout::body;
  std::string_view signature_header;  // the header the signatures came from
  std::string_view timestamp_header;  // empty when the scheme has none
  std::string_view timestamp_text;    // exactly as sent: it is signed as text
  std::int64_t timestamp = 0;
  std::string_view id;
  Candidates hmac;     // encoded HMAC signatures
  Candidates ed25519;  // standard v1a: base64 Ed25519 signatures
  std::string_view body_sha256;  // twilio JSON mode: hex from the URL; empty in form mode
  bool twilio_form = false;      // twilio: the body's form parameters are signed
};

using ParseResult = std::expected<Parsed, Verdict>;

// A failed verdict with a reason.
Verdict reject(Failure failure, std::string reason);

// Header lookups for parsers: the trimmed value of `name`, or a verdict when
// it is absent, longer than k_max_header_value, or repeated with different values.
std::expected<std::string_view, Verdict> required_header(const HeaderList& headers, std::string_view name);
// Same, but absence is not an error (empty optional).
std::expected<std::optional<std::string_view>, Verdict> optional_header(const HeaderList& headers,
                                                                       std::string_view name);
// A Unix time in seconds: ASCII digits only, fitting int64.
std::expected<std::int64_t, Verdict> parse_timestamp(std::string_view header, std::string_view text);
using centrali::iequals;
std::string_view trim(std::string_view text);
// `text` quoted for a message, cut to `max` characters, control bytes escaped.
std::string quote_short(std::string_view text, std::size_t max = 40);

// Per-scheme parsers (one file each).
ParseResult parse_standard(Scheme scheme, const HeaderList& headers);
ParseResult parse_stripe(const HeaderList& headers);
ParseResult parse_github(const HeaderList& headers);
ParseResult parse_shopify(const HeaderList& headers);
ParseResult parse_slack(const HeaderList& headers);
ParseResult parse_twilio(const HeaderList& headers, std::string_view url);
ParseResult parse(Scheme scheme, const HeaderList& headers, std::string_view url);

// Per-scheme signers (same files as the parsers); `sign` dispatches.
Result<HeaderList> sign_standard(const SignInput& input);
Result<HeaderList> sign_stripe(const SignInput& input);
Result<HeaderList> sign_github(const SignInput& input);
Result<HeaderList> sign_shopify(const SignInput& input);
Result<HeaderList> sign_slack(const SignInput& input);
Result<HeaderList> sign_twilio(const SignInput& input);
// The one secret of a scheme that carries one signature, as an HMAC key.
Result<std::string> single_raw_secret(const SignInput& input);

// The bytes a sender signs, as up to five pieces (no copy of the body),
// except for twilio, whose URL-plus-parameters string is built in `owned`.
struct Content {
  std::array<std::string_view, 5> parts{};
  std::string owned;
  bool uses_owned = false;
  std::string joined() const;  // for Ed25519, which signs one buffer
};
Content signed_content(const Parsed& parsed, std::string_view body, std::string_view url);

// Twilio: the URL followed by each form parameter's key and value, keys
// sorted, each key's distinct values sorted (as Twilio's own libraries do).
std::string twilio_signed_string(std::string_view url, std::string_view form_body);
// Twilio: the bodySHA256 query parameter of `url`; empty when absent.
std::string_view twilio_body_hash_param(std::string_view url);
// Twilio: the URL spellings its libraries accept (as given, without the
// port, with the default port), as given first.
std::vector<std::string> twilio_url_variants(std::string_view url);

// A secret turned into what checks signatures.
struct Key {
  enum class Kind { hmac, ed25519 } kind = Kind::hmac;
  std::string hmac_key;
  crypto::Ed25519PublicKey public_key{};
};
// HMAC key bytes of `secret` under `rule`; the error names the problem, never the secret.
Result<std::string> hmac_key(KeyRule rule, std::string_view secret);
// `whsk_…` (base64 of seed‖public, or of the 32-byte seed alone) to its seed.
Result<crypto::Ed25519Seed> ed25519_secret_key(std::string_view secret);
// `whpk_…`, or the public half of a `whsk_…`.
Result<crypto::Ed25519PublicKey> ed25519_public_key(std::string_view secret);
bool is_ed25519_secret(std::string_view secret);  // whsk_ or whpk_
// The key that checks `parsed`'s signatures with `secret`.
Result<Key> verify_key(const Parsed& parsed, std::string_view secret);

// MAC of `content` under `key`.
std::string mac_of(Mac mac, std::string_view key, const Content& content);
// Whether the MAC (or Ed25519 signature) under `key` equals a usable candidate.
bool key_matches(const Parsed& parsed, const Key& key, const Content& content, const Decoded& hmac,
                 const Decoded& ed25519);
// Index of the first key that matches, or -1; keys that failed to derive are skipped.
int first_match(const Parsed& parsed, std::span<const Result<Key>> keys, const Content& content,
                const Decoded& hmac, const Decoded& ed25519);
// Twilio JSON mode: sha256(body) equals the URL's bodySHA256 (true outside that mode).
bool body_hash_matches(const Parsed& parsed, std::string_view body);

// Explanations of a no_match (or undecodable signature) verdict.
std::vector<std::string> diagnose(const Parsed& parsed, const VerifyInput& input, std::span<const Result<Key>> keys);
// Hints for secrets that would match under another scheme's key rule (also
// given when no secret is usable under this scheme's rule).
std::vector<std::string> key_rule_hints(const Parsed& parsed, const VerifyInput& input);
// Hints for a request missing the scheme's headers: which scheme it looks like.
std::vector<std::string> header_hints(Scheme scheme, const HeaderList& headers);

} // namespace centrali::sig::detail

#pragma once
// Webhook signatures of every common scheme: sign as a sender would, verify
// as a receiver must, and say why a check failed. Pure functions: no I/O, no
// clock (callers pass `now`), no printing. Bodies are raw bytes and are never
// re-serialised; signatures are compared in constant time.
//
// | scheme           | headers                                      | signed content        | key                  |
// | standard (v1)    | webhook-id, webhook-timestamp, -signature    | id.ts.body            | base64 after whsec_  |
// | standard (v1a)   | same, `v1a,<b64 Ed25519 signature>`          | id.ts.body            | whsk_ / whpk_        |
// | svix, clerk      | svix-id, svix-timestamp, svix-signature      | id.ts.body            | base64 after whsec_  |
// | stripe           | Stripe-Signature `t=…,v1=<hex>`              | ts.body               | whole string         |
// | github           | X-Hub-Signature-256 `sha256=<hex>` (or sha1) | body                  | string               |
// | shopify          | X-Shopify-Hmac-Sha256 `<b64>`                | body                  | string               |
// | slack            | X-Slack-Signature `v0=<hex>`, -Request-Timestamp | v0:ts:body        | string               |
// | twilio           | X-Twilio-Signature `<b64 HMAC-SHA1>`         | URL + sorted params   | auth token           |
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/util/error.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::sig {

enum class Scheme { standard, v1a, svix, clerk, stripe, github, shopify, slack, twilio };

// The scheme called `name` (as listed in k_scheme_names); nullopt if unknown.
std::optional<Scheme> parse_scheme(std::string_view name);
// The name parse_scheme accepts for `scheme`.
std::string_view scheme_name(Scheme scheme);
// "standard, v1a, svix, …": every name, for usage messages.
inline constexpr std::string_view k_scheme_names = "standard, v1a, svix, clerk, stripe, github, shopify, slack, twilio";
// Whether the scheme signs a timestamp (and so has a replay window).
bool has_timestamp(Scheme scheme);

// Which timestamps a scheme's own reference library accepts.
enum class Window {
  none,       // no timestamp in the scheme
  both,       // |now - ts| <= tolerance (Standard Webhooks, Svix, Slack)
  past_only,  // now - ts <= tolerance; future timestamps pass (stripe-go)
};
Window timestamp_window(Scheme scheme);

// Header lists are the project's own (util/headers.hpp): as received, in
// order, case-insensitive lookups.
using centrali::find_header;
using centrali::HeaderField;
using centrali::HeaderList;
using centrali::parse_header_line;

// A header value longer than this is malformed (bounds the work per request).
inline constexpr std::size_t k_max_header_value = 8 * 1024;
// Signatures considered per header (rotation lists); further ones are ignored.
inline constexpr std::size_t k_max_candidates = 16;

enum class TimestampCheck {
  enforce,  // reject timestamps outside the tolerance (always, for live requests)
  skip,     // re-verifying a stored request long after it arrived
};
enum class Diagnose {
  yes,  // on failure, try the usual mistakes and explain (a few extra HMACs over the body)
  no,   // just the verdict and reason: for hot paths that only log failures
};

struct VerifyInput {
  Scheme scheme = Scheme::standard;
  std::vector<std::string> secrets{};  // any may match (rotation)
  const HeaderList* headers = nullptr;
  std::string_view body{};
  std::string url{};  // twilio: the full URL the sender requested
  std::int64_t tolerance_s = 300;
  std::int64_t now_s = 0;  // current Unix time (callers pass it; no clock inside)
  TimestampCheck timestamp_check = TimestampCheck::enforce;
  Diagnose diagnose = Diagnose::yes;
};

enum class Failure {
  none,
  missing_header,     // a header the scheme needs is absent
  malformed_header,   // present but unusable: bad syntax, too long, repeated, no known signature
  timestamp_too_old,  // older than now by more than the tolerance
  timestamp_too_new,  // ahead of now by more than the tolerance (not for stripe)
  no_match,           // well-formed, but no signature matched any secret
  bad_secret,         // no secret is usable for this scheme (e.g. whsec_ with invalid base64)
  missing_url,        // twilio: the URL the signature covers was not given
};
// Stable machine name of a failure ("no_match"), for JSON and logs.
std::string_view failure_name(Failure failure);

struct Verdict {
  bool valid = false;
  Failure failure = Failure::none;
  std::string reason{};             // one sentence for people and for an HTTP 401 body; never contains a secret
  std::vector<std::string> hints{};  // diagnoses, only computed on failure (and with Diagnose::yes)
  int matched_secret = -1;          // index into secrets when valid
};

// Checks a received request. The success path computes one MAC per usable
// secret and allocates little; diagnosis runs only on failure.
Verdict verify(const VerifyInput& input);

struct SignInput {
  Scheme scheme = Scheme::standard;
  std::vector<std::string> secrets{};  // usually one; several produce several signatures where the scheme allows
  std::string id{};                  // standard/svix/clerk
  std::int64_t timestamp = 0;        // schemes with a timestamp
  std::string url{};                 // twilio; a bodySHA256 query parameter means a JSON body (URL-only HMAC)
  std::string_view body{};
};

// The headers a sender of that scheme sends, in a stable order. Usage error
// on a bad secret (e.g. whsec_ with invalid base64), a missing id or URL, or
// several secrets for a scheme that carries one signature.
Result<HeaderList> sign(const SignInput& input);

// Standard Webhooks primitive for outbound delivery: "v1,<b64>" for one secret.
Result<std::string> standard_v1_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                                          std::string_view body);
// Same for an Ed25519 secret key (`whsk_…`): "v1a,<b64>".
Result<std::string> standard_v1a_signature(std::string_view secret_key, std::string_view id,
                                           std::int64_t timestamp, std::string_view body);

// `url` with `bodySHA256=<hex sha256(body)>` appended to its query, as
// Twilio sends JSON bodies.
std::string twilio_url_with_body_hash(std::string_view url, std::string_view body);

struct GeneratedKey {
  std::string secret{};
  std::string public_key{};  // only for v1a
};
// A fresh secret from OpenSSL's CSPRNG, shaped like the provider's own:
// standard/svix/clerk `whsec_` + base64(32 bytes); stripe `whsec_` + 32
// base62 characters; v1a `whsk_` + base64(seed‖public) and `whpk_` +
// base64(public). Usage error for schemes whose secrets the provider issues.
Result<GeneratedKey> generate_key(Scheme scheme);

} // namespace centrali::sig

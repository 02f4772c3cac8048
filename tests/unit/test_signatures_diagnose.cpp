// The "why did it fail" diagnoses: each case makes a sender mistake on
// purpose and checks that verify() names it.
#include <catch2/catch.hpp>

#include "centrali/signatures/signatures.hpp"
#include "centrali/util/crypto.hpp"
#include "centrali/util/encoding.hpp"

using namespace centrali;
using namespace centrali::sig;
using centrali::encoding::base64_encode;
using centrali::encoding::hex_encode;

namespace {

constexpr std::int64_t k_ts = 1700000000;
constexpr std::string_view k_whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

Verdict check(Scheme scheme, std::string secret, const HeaderList& headers, std::string_view body,
              std::string url = {}, std::int64_t now = k_ts)
{
  VerifyInput in;
  in.scheme = scheme;
  in.secrets = {std::move(secret)};
  in.headers = &headers;
  in.body = body;
  in.url = std::move(url);
  in.now_s = now;
  return verify(in);
}

HeaderList sign_one(Scheme scheme, std::string secret, std::string_view body, std::string url = {})
{
  SignInput in;
  in.scheme = scheme;
  in.secrets = {std::move(secret)};
  in.id = "msg_diag";
  in.timestamp = k_ts;
  in.url = std::move(url);
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  return *headers;
}

bool has_hint(const Verdict& v, std::string_view text)
{
  for (const auto& h : v.hints)
    if (h.find(text) != std::string::npos) return true;
  return false;
}

std::string joined(const Verdict& v)
{
  std::string out = v.reason;
  for (const auto& h : v.hints) out += "\n  hint: " + h;
  return out;
}

std::string raw_hmac(std::string_view key, std::initializer_list<std::string_view> parts)
{
  return std::string(crypto::as_view(crypto::hmac_sha256(key, parts)));
}

} // namespace

TEST_CASE("sig::verify diagnoses a Standard Webhooks secret used Stripe's way (raw whsec_ string as key)",
          "[signatures]")
{
  std::string body = R"({"a":1})";
  auto ts = std::to_string(k_ts);
  auto mac = raw_hmac(k_whsec, {"msg_1", ".", ts, ".", body});
  HeaderList headers = {{"webhook-id", "msg_1"}, {"webhook-timestamp", ts}, {"webhook-signature", "v1," + base64_encode(mac)}};
  auto v = check(Scheme::standard, std::string(k_whsec), headers, body);
  INFO(joined(v));
  CHECK(v.failure == Failure::no_match);
  CHECK(has_hint(v, "secret #1 matches when the key is the whole secret string, whsec_ included"));
  CHECK(has_hint(v, "Stripe's rule"));
}

TEST_CASE("sig::verify diagnoses a Stripe secret base64-decoded the Standard Webhooks way", "[signatures]")
{
  std::string body = R"({"a":1})";
  auto ts = std::to_string(k_ts);
  auto key = *encoding::base64_decode(k_whsec.substr(6));
  auto mac = raw_hmac(key, {ts, ".", body});
  HeaderList headers = {{"Stripe-Signature", "t=" + ts + ",v1=" + hex_encode(mac)}};
  auto v = check(Scheme::stripe, std::string(k_whsec), headers, body);
  INFO(joined(v));
  CHECK(v.failure == Failure::no_match);
  CHECK(has_hint(v, "base64-decoded (the Standard Webhooks and Svix rule)"));
  CHECK(has_hint(v, "stripe uses the whole secret string as given"));
}

TEST_CASE("sig::verify diagnoses a secret with a stray newline around it", "[signatures]")
{
  auto headers = sign_one(Scheme::standard, std::string(k_whsec), "x");
  auto v = check(Scheme::standard, std::string(k_whsec) + "\n", headers, "x");
  INFO(joined(v));
  // whsec_…\n is not base64, so no key: bad_secret, and the hint says why.
  CHECK(v.failure == Failure::bad_secret);
  CHECK(has_hint(v, "matches once the whitespace around it is removed"));

  auto gh = sign_one(Scheme::github, "gh-secret", "x");
  auto g = check(Scheme::github, " gh-secret\n", gh, "x");
  INFO(joined(g));
  CHECK(g.failure == Failure::no_match);
  CHECK(has_hint(g, "matches once the whitespace around it is removed"));
}

TEST_CASE("sig::verify diagnoses a hex signature where the scheme sends base64 (shopify, standard)", "[signatures]")
{
  std::string body = "order";
  auto mac = raw_hmac("shpss_x", {body});
  HeaderList headers = {{"X-Shopify-Hmac-Sha256", hex_encode(mac)}};
  auto v = check(Scheme::shopify, "shpss_x", headers, body);
  INFO(joined(v));
  // 64 hex characters are valid base64 of 48 bytes: no usable signature.
  CHECK(v.failure == Failure::malformed_header);
  CHECK(has_hint(v, "the right HMAC, but written in hex; shopify signatures are base64"));

  auto ts = std::to_string(k_ts);
  auto key = *encoding::base64_decode(k_whsec.substr(6));
  auto std_mac = raw_hmac(key, {"msg_1", ".", ts, ".", body});
  HeaderList std_headers = {{"webhook-id", "msg_1"}, {"webhook-timestamp", ts}, {"webhook-signature", "v1," + hex_encode(std_mac)}};
  auto s = check(Scheme::standard, std::string(k_whsec), std_headers, body);
  INFO(joined(s));
  CHECK(has_hint(s, "written in hex"));
}

TEST_CASE("sig::verify diagnoses a base64 signature where the scheme sends hex (github, slack)", "[signatures]")
{
  std::string body = "push";
  auto mac = raw_hmac("gh", {body});
  HeaderList headers = {{"X-Hub-Signature-256", "sha256=" + base64_encode(mac)}};
  auto v = check(Scheme::github, "gh", headers, body);
  INFO(joined(v));
  CHECK(v.failure == Failure::malformed_header);
  CHECK_THAT(v.reason, Catch::Contains("X-Hub-Signature-256 holds no well-formed signature"));
  CHECK(has_hint(v, "written in base64; github signatures are hex"));

  auto ts = std::to_string(k_ts);
  auto slack_mac = raw_hmac("sl", {"v0:", ts, ":", body});
  HeaderList slack = {{"X-Slack-Signature", "v0=" + base64_encode(slack_mac)}, {"X-Slack-Request-Timestamp", ts}};
  CHECK(has_hint(check(Scheme::slack, "sl", slack, body), "written in base64"));
}

TEST_CASE("sig::verify diagnoses a base64url signature in a standard base64 scheme", "[signatures]")
{
  std::string body = "x";
  auto mac = raw_hmac("shp", {body});
  auto text = base64_encode(mac);
  for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=') text.pop_back();
  HeaderList headers = {{"X-Shopify-Hmac-Sha256", text}};
  auto v = check(Scheme::shopify, "shp", headers, body);
  INFO(joined(v));
  bool url_chars = text.find_first_of("-_") != std::string::npos;
  CHECK(has_hint(v, url_chars ? "base64url" : "without its = padding"));
}

TEST_CASE("sig::verify diagnoses a body re-serialised as compact or pretty JSON", "[signatures]")
{
  std::string compact = R"({"id":"evt_1","data":{"amount":1000,"tags":["a","b"]}})";
  std::string pretty = "{\n  \"id\": \"evt_1\",\n  \"data\": {\n    \"amount\": 1000,\n    \"tags\": [\n      \"a\",\n"
                       "      \"b\"\n    ]\n  }\n}";
  // Signed compact, received pretty (something pretty-printed it).
  auto headers = sign_one(Scheme::stripe, "whsec_s", compact);
  auto v = check(Scheme::stripe, "whsec_s", headers, pretty);
  INFO(joined(v));
  CHECK(v.failure == Failure::no_match);
  CHECK(has_hint(v, "re-serialised as compact JSON"));

  // Signed pretty, received compact.
  auto pretty_headers = sign_one(Scheme::github, "gh", pretty);
  auto p = check(Scheme::github, "gh", pretty_headers, compact);
  INFO(joined(p));
  CHECK(has_hint(p, "pretty JSON (2-space indent)"));
}

TEST_CASE("sig::verify diagnoses a body the sender wrote the way Python's json.dumps does", "[signatures]")
{
  std::string python = R"({"test": 2432232314, "list": [1, 2], "s": "a,b:c"})";
  std::string compact = R"({"test":2432232314,"list":[1,2],"s":"a,b:c"})";
  auto headers = sign_one(Scheme::standard, std::string(k_whsec), python);
  auto v = check(Scheme::standard, std::string(k_whsec), headers, compact);
  INFO(joined(v));
  CHECK(has_hint(v, "Python's json.dumps"));
}

TEST_CASE("sig::verify diagnoses a trailing newline added to or removed from the body", "[signatures]")
{
  std::string body = R"({"a":1})";
  auto headers = sign_one(Scheme::slack, "sl", body);
  auto added = check(Scheme::slack, "sl", headers, body + "\n");
  INFO(joined(added));
  CHECK(has_hint(added, "without its trailing newline"));

  auto signed_with_newline = sign_one(Scheme::slack, "sl", body + "\n");
  auto removed = check(Scheme::slack, "sl", signed_with_newline, body);
  INFO(joined(removed));
  CHECK(has_hint(removed, "with a trailing newline added"));

  auto crlf = check(Scheme::slack, "sl", headers, body + "\r\n");
  CHECK(has_hint(crlf, "without its trailing newline"));
}

TEST_CASE("sig::verify diagnoses whitespace added around a body", "[signatures]")
{
  std::string body = "plain text, not json";
  auto headers = sign_one(Scheme::shopify, "shp", body);
  auto v = check(Scheme::shopify, "shp", headers, "  \t" + body + "  ");
  INFO(joined(v));
  CHECK(has_hint(v, "surrounding whitespace trimmed"));
}

TEST_CASE("sig::verify diagnoses a symmetric secret against v1a-only signatures and the reverse", "[signatures]")
{
  auto key = generate_key(Scheme::v1a);
  auto asym = sign_one(Scheme::v1a, key->secret, "x");
  auto v = check(Scheme::standard, std::string(k_whsec), asym, "x");
  INFO(joined(v));
  CHECK(v.failure == Failure::no_match);
  CHECK(has_hint(v, "only v1a (Ed25519) signatures"));

  auto sym = sign_one(Scheme::standard, std::string(k_whsec), "x");
  auto r = check(Scheme::standard, key->public_key, sym, "x");
  INFO(joined(r));
  CHECK(has_hint(r, "only v1 (HMAC) signatures"));
}

TEST_CASE("sig::verify names the scheme a request with other headers looks like", "[signatures]")
{
  auto stripe = sign_one(Scheme::stripe, "whsec_s", "x");
  auto v = check(Scheme::github, "whsec_s", stripe, "x");
  CHECK(v.failure == Failure::missing_header);
  CHECK(v.reason == "the X-Hub-Signature-256 header is missing");
  CHECK(has_hint(v, "the request carries Stripe-Signature, which stripe sends"));
}

TEST_CASE("sig::verify says a far-future timestamp looks like milliseconds", "[signatures]")
{
  HeaderList headers = {{"webhook-id", "msg_1"},
                        {"webhook-timestamp", std::to_string(k_ts * 1000)},
                        {"webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
  auto v = check(Scheme::standard, std::string(k_whsec), headers, "x");
  CHECK(v.failure == Failure::timestamp_too_new);
  CHECK(has_hint(v, "milliseconds"));
  CHECK(has_hint(v, "does not match either"));
}

TEST_CASE("sig::verify for twilio diagnoses an http/https URL mismatch behind a proxy", "[signatures]")
{
  auto headers = sign_one(Scheme::twilio, "tok", "A=1", "https://example.com/voice");
  auto v = check(Scheme::twilio, "tok", headers, "A=1", "http://example.com/voice");
  INFO(joined(v));
  CHECK(has_hint(v, "a proxy in front changed the scheme"));
}

TEST_CASE("sig::verify falls back to a general hint when no mistake explains the failure", "[signatures]")
{
  auto headers = sign_one(Scheme::github, "right", "x");
  auto v = check(Scheme::github, "wrong", headers, "x");
  REQUIRE(v.hints.size() == 1);
  CHECK_THAT(v.hints[0], Catch::StartsWith("no common mistake explains it"));
}

TEST_CASE("sig::verify with Diagnose::no gives the verdict and reason without hints", "[signatures]")
{
  std::string body = R"({"a":1})";
  auto headers = sign_one(Scheme::github, "gh", body);
  VerifyInput in;
  in.scheme = Scheme::github;
  in.secrets = {"gh"};
  in.headers = &headers;
  std::string received = body + "\n";
  in.body = received;
  in.diagnose = Diagnose::no;
  auto v = verify(in);
  CHECK(v.failure == Failure::no_match);
  CHECK_FALSE(v.reason.empty());
  CHECK(v.hints.empty());
}

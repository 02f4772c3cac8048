// sign() and verify() together: round trips for every scheme, the time
// window edges, rotation, tampering, and v1a with generated keys.
#include <catch2/catch.hpp>

#include "centrali/signatures/signatures.hpp"

using namespace centrali;
using namespace centrali::sig;

namespace {

constexpr std::int64_t k_ts = 1700000000;
constexpr std::string_view k_url = "https://example.com/hooks/in?x=1";

std::string secret_for(Scheme scheme)
{
  switch (scheme) {
  case Scheme::standard:
  case Scheme::svix:
  case Scheme::clerk: return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  case Scheme::stripe: return "whsec_test_secret";
  case Scheme::v1a: return generate_key(Scheme::v1a)->secret;
  default: return "s3cr3t";
  }
}

HeaderList signed_headers(Scheme scheme, std::vector<std::string> secrets, std::string_view body,
                          std::int64_t ts = k_ts)
{
  SignInput in;
  in.scheme = scheme;
  in.secrets = std::move(secrets);
  in.id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
  in.timestamp = ts;
  in.url = std::string(k_url);
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  return *headers;
}

Verdict check(Scheme scheme, std::vector<std::string> secrets, const HeaderList& headers, std::string_view body,
              std::int64_t now = k_ts, std::int64_t tolerance = 300)
{
  VerifyInput in;
  in.scheme = scheme;
  in.secrets = std::move(secrets);
  in.headers = &headers;
  in.body = body;
  in.url = std::string(k_url);
  in.now_s = now;
  in.tolerance_s = tolerance;
  return verify(in);
}

const std::vector<Scheme> k_all = {Scheme::standard, Scheme::v1a,    Scheme::svix,  Scheme::clerk, Scheme::stripe,
                                   Scheme::github,   Scheme::shopify, Scheme::slack, Scheme::twilio};

} // namespace

TEST_CASE("sig::sign then sig::verify round-trips for every scheme", "[signatures]")
{
  for (auto scheme : k_all) {
    INFO(scheme_name(scheme));
    auto secret = secret_for(scheme);
    std::string body = scheme == Scheme::twilio ? "Body=hello+world&From=%2B15551234567" : R"({"type":"ping","n":1})";
    auto headers = signed_headers(scheme, {secret}, body);
    auto v = check(scheme, {secret}, headers, body);
    CHECK(v.valid);
    CHECK(v.failure == Failure::none);
    CHECK(v.reason.empty());
    CHECK(v.hints.empty());
    CHECK(v.matched_secret == 0);
  }
}

TEST_CASE("sig::verify rejects a tampered body for every scheme", "[signatures]")
{
  for (auto scheme : k_all) {
    INFO(scheme_name(scheme));
    auto secret = secret_for(scheme);
    std::string body = scheme == Scheme::twilio ? "Amount=10" : R"({"amount":10})";
    auto headers = signed_headers(scheme, {secret}, body);
    std::string tampered = scheme == Scheme::twilio ? "Amount=99" : R"({"amount":99})";
    auto v = check(scheme, {secret}, headers, tampered);
    CHECK_FALSE(v.valid);
    CHECK(v.failure == Failure::no_match);
    CHECK_THAT(v.reason, Catch::StartsWith("no signature matched"));
    CHECK(v.matched_secret == -1);
  }
}

TEST_CASE("sig::verify rejects the wrong secret for every scheme", "[signatures]")
{
  for (auto scheme : k_all) {
    INFO(scheme_name(scheme));
    auto headers = signed_headers(scheme, {secret_for(scheme)}, "payload");
    std::string other = scheme == Scheme::v1a ? generate_key(Scheme::v1a)->public_key
                        : scheme == Scheme::standard || scheme == Scheme::svix || scheme == Scheme::clerk
                            ? generate_key(Scheme::standard)->secret
                            : "another secret";
    auto v = check(scheme, {other}, headers, "payload");
    CHECK_FALSE(v.valid);
    CHECK(v.failure == Failure::no_match);
    REQUIRE_FALSE(v.hints.empty());
    // A verdict is for people and for HTTP 401 bodies: no secret in it.
    CHECK(v.reason.find(other) == std::string::npos);
    for (const auto& h : v.hints) CHECK(h.find(other) == std::string::npos);
  }
}

TEST_CASE("sig::verify accepts exactly +-tolerance and rejects +-(tolerance+1) for standard and slack",
          "[signatures]")
{
  for (auto scheme : {Scheme::standard, Scheme::svix, Scheme::slack}) {
    INFO(scheme_name(scheme));
    auto secret = secret_for(scheme);
    auto headers = signed_headers(scheme, {secret}, "x");
    CHECK(check(scheme, {secret}, headers, "x", k_ts + 300).valid);
    CHECK(check(scheme, {secret}, headers, "x", k_ts - 300).valid);

    auto old = check(scheme, {secret}, headers, "x", k_ts + 301);
    CHECK(old.failure == Failure::timestamp_too_old);
    CHECK(old.reason == "timestamp is 301 s older than now; tolerance is 300 s");
    auto ahead = check(scheme, {secret}, headers, "x", k_ts - 301);
    CHECK(ahead.failure == Failure::timestamp_too_new);
    CHECK(ahead.reason == "timestamp is 301 s ahead of now; tolerance is 300 s");
  }
}

TEST_CASE("sig::verify reports how far outside the tolerance a timestamp is", "[signatures]")
{
  auto secret = secret_for(Scheme::standard);
  auto headers = signed_headers(Scheme::standard, {secret}, "x");
  auto v = check(Scheme::standard, {secret}, headers, "x", k_ts + 412);
  CHECK(v.reason == "timestamp is 412 s older than now; tolerance is 300 s");
  // The signature itself is fine, and the hint says so.
  CHECK_THAT(v.hints.back(), Catch::Contains("signature itself matches"));
  auto custom = check(Scheme::standard, {secret}, headers, "x", k_ts + 412, 600);
  CHECK(custom.valid);
}

TEST_CASE("sig::verify for stripe rejects only old timestamps, as stripe-go does", "[signatures]")
{
  auto secret = secret_for(Scheme::stripe);
  auto headers = signed_headers(Scheme::stripe, {secret}, "x");
  CHECK(check(Scheme::stripe, {secret}, headers, "x", k_ts + 300).valid);
  CHECK(check(Scheme::stripe, {secret}, headers, "x", k_ts + 301).failure == Failure::timestamp_too_old);
  CHECK(check(Scheme::stripe, {secret}, headers, "x", k_ts - 301).valid);
  CHECK(check(Scheme::stripe, {secret}, headers, "x", k_ts - 86400).valid);
  CHECK(timestamp_window(Scheme::stripe) == Window::past_only);
}

TEST_CASE("sig::verify ignores time for schemes without a timestamp, and with TimestampCheck::skip", "[signatures]")
{
  for (auto scheme : {Scheme::github, Scheme::shopify, Scheme::twilio}) {
    auto headers = signed_headers(scheme, {"s"}, "x");
    CHECK(check(scheme, {"s"}, headers, "x", k_ts * 2).valid);
    CHECK_FALSE(has_timestamp(scheme));
  }
  auto secret = secret_for(Scheme::standard);
  auto headers = signed_headers(Scheme::standard, {secret}, "x");
  VerifyInput in;
  in.scheme = Scheme::standard;
  in.secrets = {secret};
  in.headers = &headers;
  in.body = "x";
  in.now_s = k_ts + 1'000'000;
  CHECK_FALSE(verify(in).valid);
  in.timestamp_check = TimestampCheck::skip;
  CHECK(verify(in).valid);
}

TEST_CASE("sig::sign with two secrets makes two signatures in one header and sig::verify accepts either secret",
          "[signatures]")
{
  auto old_secret = generate_key(Scheme::standard)->secret;
  auto new_secret = generate_key(Scheme::standard)->secret;
  auto headers = signed_headers(Scheme::standard, {old_secret, new_secret}, "x");
  auto sigs = *find_header(headers, "webhook-signature");
  CHECK(sigs.find(' ') != std::string::npos);
  CHECK(sigs.starts_with("v1,"));
  CHECK(sigs.find(" v1,") != std::string::npos);
  CHECK(check(Scheme::standard, {old_secret}, headers, "x").valid);
  CHECK(check(Scheme::standard, {new_secret}, headers, "x").valid);
  auto third = generate_key(Scheme::standard)->secret;
  auto v = check(Scheme::standard, {third, new_secret}, headers, "x");
  CHECK(v.valid);
  CHECK(v.matched_secret == 1);

  auto stripe = signed_headers(Scheme::stripe, {"whsec_old", "whsec_new"}, "x");
  auto value = *find_header(stripe, "Stripe-Signature");
  CHECK(std::count(value.begin(), value.end(), '=') == 3);  // t=, v1=, v1=
  CHECK(check(Scheme::stripe, {"whsec_new"}, stripe, "x").valid);
  CHECK(check(Scheme::stripe, {"whsec_nope", "whsec_old"}, stripe, "x").matched_secret == 1);
}

TEST_CASE("sig::sign refuses several secrets for schemes that carry one signature", "[signatures]")
{
  for (auto scheme : {Scheme::github, Scheme::shopify, Scheme::slack, Scheme::twilio}) {
    SignInput in;
    in.scheme = scheme;
    in.secrets = {"a", "b"};
    in.url = "https://x.test/";
    auto r = sign(in);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("sig::verify skips unknown signature versions and accepts the known one", "[signatures]")
{
  auto secret = secret_for(Scheme::standard);
  auto headers = signed_headers(Scheme::standard, {secret}, "x");
  for (auto& h : headers)
    if (h.name == "webhook-signature") h.value = "v2,AAAA v1,bm90IGl0 garbage " + h.value + " v9,zzz";
  CHECK(check(Scheme::standard, {secret}, headers, "x").valid);

  auto stripe = signed_headers(Scheme::stripe, {"whsec_a"}, "x");
  stripe[0].value += ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39,v2=00";
  CHECK(check(Scheme::stripe, {"whsec_a"}, stripe, "x").valid);
}

TEST_CASE("sig::verify v1a with keys made by generate_key: public key, secret key, and mixed rotation",
          "[signatures]")
{
  auto key = generate_key(Scheme::v1a);
  REQUIRE(key);
  CHECK(key->secret.starts_with("whsk_"));
  CHECK(key->public_key.starts_with("whpk_"));
  std::string body = R"({"type":"invoice.paid"})";
  auto headers = signed_headers(Scheme::v1a, {key->secret}, body);
  CHECK(find_header(headers, "webhook-signature")->starts_with("v1a,"));

  CHECK(check(Scheme::v1a, {key->public_key}, headers, body).valid);
  CHECK(check(Scheme::standard, {key->public_key}, headers, body).valid);
  CHECK(check(Scheme::standard, {key->secret}, headers, body).valid);
  CHECK(check(Scheme::standard, {key->public_key}, headers, body + " ").failure == Failure::no_match);

  // Rotating from a symmetric secret to an asymmetric key: both signatures in one header.
  auto hmac_secret = generate_key(Scheme::standard)->secret;
  auto both = signed_headers(Scheme::standard, {hmac_secret, key->secret}, body);
  auto value = *find_header(both, "webhook-signature");
  CHECK(value.starts_with("v1,"));
  CHECK(value.find(" v1a,") != std::string::npos);
  CHECK(check(Scheme::standard, {hmac_secret}, both, body).valid);
  CHECK(check(Scheme::standard, {key->public_key}, both, body).valid);
  auto other = generate_key(Scheme::v1a)->public_key;
  CHECK(check(Scheme::standard, {other, key->public_key}, both, body).matched_secret == 1);
}

TEST_CASE("sig::sign for v1a needs a whsk_ secret key, never a public key", "[signatures]")
{
  auto key = generate_key(Scheme::v1a);
  SignInput in;
  in.scheme = Scheme::v1a;
  in.id = "msg_1";
  in.secrets = {key->public_key};
  CHECK(sign(in).error().kind == ErrorKind::usage);
  in.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  CHECK_THAT(sign(in).error().message, Catch::Contains("whsk_"));
  auto direct = standard_v1a_signature(key->secret, "msg_1", 5, "b");
  REQUIRE(direct);
  CHECK(direct->starts_with("v1a,"));
}

TEST_CASE("sig::verify for svix also accepts the unbranded webhook-* headers", "[signatures]")
{
  auto secret = secret_for(Scheme::standard);
  auto headers = signed_headers(Scheme::standard, {secret}, "x");
  CHECK(check(Scheme::svix, {secret}, headers, "x").valid);
  auto svix = signed_headers(Scheme::svix, {secret}, "x");
  CHECK(svix[0].name == "svix-id");
  CHECK(check(Scheme::clerk, {secret}, svix, "x").valid);
  // Standard itself reads only webhook-*, and says what it saw.
  auto v = check(Scheme::standard, {secret}, svix, "x");
  CHECK(v.failure == Failure::missing_header);
  REQUIRE_FALSE(v.hints.empty());
  CHECK_THAT(v.hints[0], Catch::Contains("svix-signature"));
}

TEST_CASE("sig::verify reads header names case-insensitively and trims values", "[signatures]")
{
  HeaderList headers = {{"x-hub-signature-256", "  sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 "}};
  CHECK(check(Scheme::github, {"It's a Secret to Everybody"}, headers, "Hello, World!").valid);
  headers[0].value = "SHA256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17";
  CHECK(check(Scheme::github, {"It's a Secret to Everybody"}, headers, "Hello, World!").valid);
}

TEST_CASE("sig::verify for twilio accepts the URL with or without its default port", "[signatures]")
{
  SignInput in;
  in.scheme = Scheme::twilio;
  in.secrets = {"tok"};
  in.url = "https://example.com:443/voice?x=1";
  in.body = "A=1";
  auto with_port = sign(in);
  REQUIRE(with_port);
  VerifyInput v;
  v.scheme = Scheme::twilio;
  v.secrets = {"tok"};
  v.headers = &*with_port;
  v.body = "A=1";
  v.url = "https://example.com/voice?x=1";
  CHECK(verify(v).valid);
  in.url = v.url;
  auto without = sign(in);
  v.headers = &*without;
  v.url = "https://example.com:443/voice?x=1";
  CHECK(verify(v).valid);
}

TEST_CASE("sig::sign for twilio sorts keys and repeated values as Twilio's libraries do", "[signatures]")
{
  SignInput in;
  in.scheme = Scheme::twilio;
  in.secrets = {"tok"};
  in.url = "https://example.com/sms";
  in.body = "To=b&From=a&To=a";
  auto a = sign(in);
  in.body = "From=a&To=a&To=b";
  auto b = sign(in);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->front().value == b->front().value);
  // A body that is not a form (by Content-Type) contributes nothing.
  HeaderList headers = {{"X-Twilio-Signature", a->front().value}};
  VerifyInput v;
  v.scheme = Scheme::twilio;
  v.secrets = {"tok"};
  v.headers = &headers;
  v.body = "To=b&From=a&To=a";
  v.url = in.url;
  CHECK(verify(v).valid);
  headers.push_back({"Content-Type", "text/plain"});
  CHECK_FALSE(verify(v).valid);
}

TEST_CASE("sig::sign for twilio refuses a bodySHA256 that does not match the body", "[signatures]")
{
  SignInput in;
  in.scheme = Scheme::twilio;
  in.secrets = {"tok"};
  in.url = "https://example.com/x?bodySHA256=00";
  in.body = "{}";
  auto r = sign(in);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("bodySHA256"));
}

TEST_CASE("sig::verify handles empty and binary bodies byte for byte", "[signatures]")
{
  std::string binary("\x00\xff\x01\x80\r\n\x00", 7);
  for (auto scheme : {Scheme::standard, Scheme::stripe, Scheme::github, Scheme::shopify, Scheme::slack}) {
    INFO(scheme_name(scheme));
    auto secret = secret_for(scheme);
    for (std::string_view body : {std::string_view(), std::string_view(binary)}) {
      auto headers = signed_headers(scheme, {secret}, body);
      CHECK(check(scheme, {secret}, headers, body).valid);
    }
    auto headers = signed_headers(scheme, {secret}, binary);
    CHECK_FALSE(check(scheme, {secret}, headers, binary.substr(0, 6)).valid);
  }
}

TEST_CASE("sig::parse_scheme and scheme_name round-trip every scheme", "[signatures]")
{
  for (auto scheme : k_all) CHECK(parse_scheme(scheme_name(scheme)) == scheme);
  CHECK(parse_scheme("Stripe") == Scheme::stripe);
  CHECK_FALSE(parse_scheme("paypal"));
  CHECK_FALSE(parse_scheme(""));
  CHECK(has_timestamp(Scheme::slack));
  CHECK(failure_name(Failure::timestamp_too_old) == "timestamp_too_old");
}

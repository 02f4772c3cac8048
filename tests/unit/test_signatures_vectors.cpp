// Published test vectors (shared/notes/toolchain.md and anchors.md (b)):
// every scheme must reproduce them when signing and accept them when verifying.
#include <catch2/catch.hpp>

#include "centrali/signatures/signatures.hpp"

using namespace centrali;
using namespace centrali::sig;

namespace {

Verdict check(Scheme scheme, std::string secret, HeaderList headers, std::string_view body, std::int64_t now = 0,
              std::string url = {})
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

std::string value_of(const HeaderList& headers, std::string_view name)
{
  auto v = find_header(headers, name);
  return v ? *v : std::string("<absent>");
}

constexpr std::string_view k_twilio_form =
    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";

} // namespace

TEST_CASE("sig Standard Webhooks vector 1 signs and verifies", "[signatures]")
{
  auto sig = standard_v1_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                   R"({"test": 2432232314})");
  REQUIRE(sig);
  CHECK(*sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

  auto v = check(Scheme::standard, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                 {{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                  {"webhook-timestamp", "1614265330"},
                  {"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}},
                 R"({"test": 2432232314})", 1614265330);
  CHECK(v.valid);
  CHECK(v.matched_secret == 0);
  CHECK(v.failure == Failure::none);
}

TEST_CASE("sig Standard Webhooks vector 2 signs and verifies, also as svix and clerk", "[signatures]")
{
  std::string body = R"({"email":"test@example.com","username":"test_user"})";
  SignInput in;
  in.scheme = Scheme::standard;
  in.secrets = {"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"};
  in.id = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
  in.timestamp = 1649367553;
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "webhook-signature") == "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
  CHECK(value_of(*headers, "webhook-id") == "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk");
  CHECK(value_of(*headers, "webhook-timestamp") == "1649367553");

  for (auto scheme : {Scheme::svix, Scheme::clerk}) {
    HeaderList svix = {{"svix-id", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"},
                       {"svix-timestamp", "1649367553"},
                       {"svix-signature", "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="}};
    CHECK(check(scheme, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", svix, body, 1649367553).valid);
  }
}

TEST_CASE("sig Stripe vector signs and verifies with the whole whsec_ string as key", "[signatures]")
{
  std::string body = R"({"id":"evt_test","object":"event","type":"payment_intent.succeeded"})";
  SignInput in;
  in.scheme = Scheme::stripe;
  in.secrets = {"whsec_test_secret"};
  in.timestamp = 1700000000;
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "Stripe-Signature") ==
        "t=1700000000,v1=f457ee3d89f52f9f02936e1cd1173dd5dfa132cdc78ec55ea964a53098c5a1c0");
  CHECK(check(Scheme::stripe, "whsec_test_secret", *headers, body, 1700000000).valid);
}

TEST_CASE("sig GitHub vectors: sha256 and legacy sha1 sign and verify", "[signatures]")
{
  SignInput in;
  in.scheme = Scheme::github;
  in.secrets = {"It's a Secret to Everybody"};
  in.body = "Hello, World!";
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "X-Hub-Signature-256") ==
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  CHECK(value_of(*headers, "X-Hub-Signature") == "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59");
  CHECK(check(Scheme::github, "It's a Secret to Everybody", *headers, "Hello, World!").valid);
  // A sender that only has the legacy header.
  CHECK(check(Scheme::github, "It's a Secret to Everybody",
              {{"X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"}}, "Hello, World!")
            .valid);
}

TEST_CASE("sig Shopify vector signs and verifies in base64", "[signatures]")
{
  std::string body = R"({"id":820982911946154508,"email":"jon@example.com"})";
  SignInput in;
  in.scheme = Scheme::shopify;
  in.secrets = {"shpss_test_secret"};
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "X-Shopify-Hmac-Sha256") == "LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=");
  CHECK(check(Scheme::shopify, "shpss_test_secret", *headers, body).valid);
}

TEST_CASE("sig Slack documentation vector signs and verifies", "[signatures]")
{
  std::string body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name="
      "foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%"
      "2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."
      "47445629121.803a0bc887a14d10d2c447fce8b6703c";
  SignInput in;
  in.scheme = Scheme::slack;
  in.secrets = {"8f742231b10e8888abcd99yyyzzz85a5"};
  in.timestamp = 1531420618;
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "X-Slack-Signature") ==
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
  CHECK(value_of(*headers, "X-Slack-Request-Timestamp") == "1531420618");
  CHECK(check(Scheme::slack, "8f742231b10e8888abcd99yyyzzz85a5", *headers, body, 1531420618).valid);
}

TEST_CASE("sig Twilio form vector: URL plus sorted, URL-decoded params", "[signatures]")
{
  std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  SignInput in;
  in.scheme = Scheme::twilio;
  in.secrets = {"12345"};
  in.url = url;
  in.body = k_twilio_form;
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "X-Twilio-Signature") == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  HeaderList received = {{"X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
                         {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  CHECK(check(Scheme::twilio, "12345", received, k_twilio_form, 0, url).valid);
}

TEST_CASE("sig Twilio JSON vector: HMAC over the URL with bodySHA256, hash checked against the body", "[signatures]")
{
  std::string body = R"({"event":"call.state"})";
  auto url = twilio_url_with_body_hash("https://example.ngrok.io/webhook", body);
  CHECK(url == "https://example.ngrok.io/webhook?bodySHA256=69f3cbfc18e386ef8236cb7008cd5a54b7fed637a8cb3373b5a1591d7f0fd5f4");
  SignInput in;
  in.scheme = Scheme::twilio;
  in.secrets = {"PSKtest1234567890abcdef"};
  in.url = url;
  in.body = body;
  auto headers = sign(in);
  REQUIRE(headers);
  CHECK(value_of(*headers, "X-Twilio-Signature") == "dfO9ek8mxyFtn2nMz24plPmPfIY=");
  HeaderList received = {{"X-Twilio-Signature", "dfO9ek8mxyFtn2nMz24plPmPfIY="}, {"Content-Type", "application/json"}};
  CHECK(check(Scheme::twilio, "PSKtest1234567890abcdef", received, body, 0, url).valid);

  auto tampered = check(Scheme::twilio, "PSKtest1234567890abcdef", received, R"({"event":"call.stats"})", 0, url);
  CHECK_FALSE(tampered.valid);
  CHECK(tampered.failure == Failure::no_match);
  CHECK_THAT(tampered.reason, Catch::Contains("bodySHA256"));
}

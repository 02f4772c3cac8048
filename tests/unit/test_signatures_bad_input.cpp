// Hostile and broken input: every case is a clear verdict with a reason,
// never a crash, a hang, or an accidental "valid".
#include <catch2/catch.hpp>

#include "centrali/signatures/signatures.hpp"

using namespace centrali;
using namespace centrali::sig;

namespace {

constexpr std::int64_t k_ts = 1700000000;
constexpr std::string_view k_whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

Verdict check(Scheme scheme, std::vector<std::string> secrets, const HeaderList& headers, std::string_view body = "x",
              std::string url = "https://example.com/")
{
  VerifyInput in;
  in.scheme = scheme;
  in.secrets = std::move(secrets);
  in.headers = &headers;
  in.body = body;
  in.url = std::move(url);
  in.now_s = k_ts;
  return verify(in);
}

HeaderList standard_headers(std::string id, std::string ts, std::string sig)
{
  return {{"webhook-id", std::move(id)}, {"webhook-timestamp", std::move(ts)}, {"webhook-signature", std::move(sig)}};
}

} // namespace

TEST_CASE("sig::verify names each missing header", "[signatures]")
{
  auto ts = std::to_string(k_ts);
  CHECK(check(Scheme::standard, {std::string(k_whsec)}, {}).reason == "the webhook-signature header is missing");
  CHECK(check(Scheme::standard, {std::string(k_whsec)}, {{"webhook-signature", "v1,AAAA"}, {"webhook-timestamp", ts}}).reason ==
        "the webhook-id header is missing");
  CHECK(check(Scheme::slack, {"s"}, {{"X-Slack-Signature", "v0=00"}}).reason ==
        "the X-Slack-Request-Timestamp header is missing");
  CHECK(check(Scheme::stripe, {"s"}, {}).failure == Failure::missing_header);
  CHECK(check(Scheme::shopify, {"s"}, {}).failure == Failure::missing_header);
  CHECK(check(Scheme::twilio, {"s"}, {}).failure == Failure::missing_header);
  VerifyInput none;
  none.secrets = {"s"};
  CHECK(verify(none).failure == Failure::missing_header);
}

TEST_CASE("sig::verify rejects non-numeric, negative and overflowing timestamps as malformed", "[signatures]")
{
  for (std::string ts : {"abc", "-5", "1e9", "17000000000000000000000", "0x10", " ", "+1700000000", "1700000000.5"}) {
    INFO(ts);
    auto v = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", ts, "v1,AAAA"));
    CHECK(v.failure == Failure::malformed_header);
    CHECK_FALSE(v.reason.empty());
    auto s = check(Scheme::stripe, {"s"}, {{"Stripe-Signature", "t=" + ts + ",v1=00"}});
    CHECK((s.failure == Failure::malformed_header));
    auto sl = check(Scheme::slack, {"s"}, {{"X-Slack-Signature", "v0=00"}, {"X-Slack-Request-Timestamp", ts}});
    CHECK((sl.failure == Failure::malformed_header || sl.failure == Failure::missing_header));
  }
  auto big = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", "9223372036854775808", "v1,AAAA"));
  CHECK_THAT(big.reason, Catch::Contains("out of range"));
  // The largest int64 is a valid number, just very far in the future.
  auto max = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", "9223372036854775807", "v1,AAAA"));
  CHECK(max.failure == Failure::timestamp_too_new);
  auto zero = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", "0", "v1,AAAA"));
  CHECK(zero.failure == Failure::timestamp_too_old);
}

TEST_CASE("sig::verify treats malformed base64 and hex signatures as malformed headers", "[signatures]")
{
  auto ts = std::to_string(k_ts);
  for (std::string sig : {"v1,", "v1,!!!!", "v1,AAA", "v1,AAAA====", "v1,\x01\x02"}) {
    INFO(sig);
    auto v = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", ts, sig));
    CHECK(v.failure == Failure::malformed_header);
  }
  CHECK(check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", ts, "nocomma")).failure ==
        Failure::malformed_header);
  CHECK(check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", ts, "v2,AAAA")).reason ==
        "webhook-signature holds no v1 or v1a signature (expected 'v1,<base64>')");
  CHECK(check(Scheme::github, {"s"}, {{"X-Hub-Signature-256", "sha256=zz"}}).failure == Failure::malformed_header);
  CHECK(check(Scheme::github, {"s"}, {{"X-Hub-Signature-256", "757107ea"}}).reason ==
        "X-Hub-Signature-256 does not start with sha256=");
  CHECK(check(Scheme::slack, {"s"}, {{"X-Slack-Signature", "abc"}, {"X-Slack-Request-Timestamp", ts}}).failure ==
        Failure::malformed_header);
  CHECK(check(Scheme::stripe, {"s"}, {{"Stripe-Signature", "t=" + ts}}).reason == "Stripe-Signature has no v1= signature");
  CHECK(check(Scheme::stripe, {"s"}, {{"Stripe-Signature", "v1=00"}}).reason == "Stripe-Signature has no t= timestamp");
  CHECK(check(Scheme::stripe, {"s"}, {{"Stripe-Signature", ",,,=,t,v1"}}).failure == Failure::malformed_header);
  CHECK(check(Scheme::shopify, {"s"}, {{"X-Shopify-Hmac-Sha256", ""}}).failure == Failure::malformed_header);
  CHECK(check(Scheme::twilio, {"s"}, {{"X-Twilio-Signature", "%%%"}}).failure == Failure::malformed_header);
}

TEST_CASE("sig::verify rejects header values over 8 KiB as malformed", "[signatures]")
{
  std::string huge(k_max_header_value + 1, 'A');
  auto v = check(Scheme::shopify, {"s"}, {{"X-Shopify-Hmac-Sha256", huge}});
  CHECK(v.failure == Failure::malformed_header);
  CHECK_THAT(v.reason, Catch::Contains("8192"));
  auto s = check(Scheme::standard, {std::string(k_whsec)},
                 standard_headers("msg_1", std::to_string(k_ts), "v1," + huge));
  CHECK(s.failure == Failure::malformed_header);
  auto id = check(Scheme::standard, {std::string(k_whsec)}, standard_headers(huge, std::to_string(k_ts), "v1,AAAA"));
  CHECK(id.failure == Failure::malformed_header);
}

TEST_CASE("sig::verify considers at most 16 signature candidates and says it ignored the rest", "[signatures]")
{
  SignInput in;
  in.scheme = Scheme::standard;
  in.secrets = {std::string(k_whsec)};
  in.id = "msg_1";
  in.timestamp = k_ts;
  in.body = "x";
  auto real = *find_header(*sign(in), "webhook-signature");
  std::string many;
  for (int i = 0; i < 500; ++i) many += "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ";
  auto v = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", std::to_string(k_ts), many + real));
  // 500 entries are over 8 KiB: the header is rejected before it is split.
  CHECK(v.failure == Failure::malformed_header);

  std::string some;
  for (int i = 0; i < 20; ++i) some += "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ";
  auto late = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", std::to_string(k_ts), some + real));
  CHECK(late.failure == Failure::no_match);
  bool said = false;
  for (const auto& h : late.hints) said = said || h.find("only the first 16 signatures") != std::string::npos;
  CHECK(said);
  auto early = check(Scheme::standard, {std::string(k_whsec)}, standard_headers("msg_1", std::to_string(k_ts), real + " " + some));
  CHECK(early.valid);
}

TEST_CASE("sig::verify rejects a signature header repeated with different values", "[signatures]")
{
  auto ts = std::to_string(k_ts);
  HeaderList headers = standard_headers("msg_1", ts, "v1,AAAA");
  headers.push_back({"Webhook-Signature", "v1,BBBB"});
  auto v = check(Scheme::standard, {std::string(k_whsec)}, headers);
  CHECK(v.failure == Failure::malformed_header);
  CHECK_THAT(v.reason, Catch::Contains("appears 2 times"));

  HeaderList ts_twice = standard_headers("msg_1", ts, "v1,AAAA");
  ts_twice.push_back({"webhook-timestamp", "1"});
  CHECK(check(Scheme::standard, {std::string(k_whsec)}, ts_twice).failure == Failure::malformed_header);

  CHECK(check(Scheme::stripe, {"s"}, {{"Stripe-Signature", "t=1,t=2,v1=00"}}).failure == Failure::malformed_header);

  // The same value twice (a proxy copying a header) changes nothing.
  SignInput in;
  in.scheme = Scheme::github;
  in.secrets = {"s"};
  in.body = "x";
  auto signed_headers = *sign(in);
  signed_headers.push_back(signed_headers.front());
  CHECK(check(Scheme::github, {"s"}, signed_headers).valid);
}

TEST_CASE("sig::verify reports a whsec_ secret with invalid base64 as bad_secret without echoing it", "[signatures]")
{
  auto ts = std::to_string(k_ts);
  std::string secret = "whsec_not base64 at all!";
  auto v = check(Scheme::standard, {secret}, standard_headers("msg_1", ts, "v1,AAAA"));
  CHECK(v.failure == Failure::bad_secret);
  CHECK(v.reason == "secret #1 is not valid base64 after whsec_ (Standard Webhooks secrets are whsec_ + base64)");
  CHECK(v.reason.find("not base64 at all") == std::string::npos);

  // With a usable second secret, the bad one is skipped and named in a hint.
  SignInput in;
  in.scheme = Scheme::standard;
  in.secrets = {std::string(k_whsec)};
  in.id = "msg_1";
  in.timestamp = k_ts;
  in.body = "x";
  auto good = *sign(in);
  CHECK(check(Scheme::standard, {secret, std::string(k_whsec)}, good).valid);
  auto other = check(Scheme::standard, {secret, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, good);
  CHECK(other.failure == Failure::no_match);
  bool named = false;
  for (const auto& h : other.hints) named = named || h.starts_with("secret #1 was not used");
  CHECK(named);

  CHECK(check(Scheme::github, {}, {{"X-Hub-Signature-256", "sha256=00"}}).failure == Failure::bad_secret);
  CHECK(check(Scheme::github, {""}, {{"X-Hub-Signature-256", "sha256=00"}}).failure == Failure::bad_secret);
  CHECK(check(Scheme::standard, {"whpk_short"}, standard_headers("msg_1", ts, "v1a,AAAA")).failure == Failure::bad_secret);
}

TEST_CASE("sig::sign reports bad secrets and missing inputs as usage errors", "[signatures]")
{
  SignInput in;
  in.scheme = Scheme::standard;
  in.id = "msg_1";
  in.secrets = {"whsec_%%%"};
  auto bad = sign(in);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::usage);
  CHECK_THAT(bad.error().message, Catch::Contains("not valid base64"));
  CHECK_FALSE(standard_v1_signature("whsec_%%%", "msg", 1, "x"));

  in.secrets = {std::string(k_whsec)};
  in.id = "";
  CHECK_FALSE(sign(in));
  in.id = "msg.1";
  CHECK_FALSE(sign(in));
  in.id = "msg_1";
  in.timestamp = -1;
  CHECK_FALSE(sign(in));
  in.timestamp = 1;
  in.secrets = {};
  CHECK_FALSE(sign(in));
  in.secrets = {""};
  CHECK_FALSE(sign(in));

  SignInput twilio;
  twilio.scheme = Scheme::twilio;
  twilio.secrets = {"tok"};
  CHECK_THAT(sign(twilio).error().message, Catch::Contains("URL"));
}

TEST_CASE("sig::verify for twilio without a URL fails with missing_url", "[signatures]")
{
  auto v = check(Scheme::twilio, {"tok"}, {{"X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="}}, "x", "");
  CHECK(v.failure == Failure::missing_url);
  CHECK_THAT(v.reason, Catch::Contains("URL"));
}

TEST_CASE("sig::verify survives a deeply nested JSON body while diagnosing", "[signatures]")
{
  std::string deep(200000, '[');
  deep += std::string(200000, ']');
  SignInput in;
  in.scheme = Scheme::github;
  in.secrets = {"s"};
  in.body = "other";
  auto headers = *sign(in);
  auto v = check(Scheme::github, {"s"}, headers, deep);
  CHECK(v.failure == Failure::no_match);
  auto shallow = check(Scheme::github, {"s"}, headers, "[[[[1]]]]\n");
  CHECK(shallow.failure == Failure::no_match);
}

TEST_CASE("sig::parse_header_line splits at the first colon and refuses lines without one", "[signatures]")
{
  auto h = parse_header_line("Stripe-Signature:  t=1,v1=ab:cd ");
  REQUIRE(h);
  CHECK(h->name == "Stripe-Signature");
  CHECK(h->value == "t=1,v1=ab:cd");
  CHECK(parse_header_line("X-Empty:")->value.empty());
  CHECK(parse_header_line("no colon here").error().kind == ErrorKind::usage);
  CHECK_FALSE(parse_header_line(": value"));
  CHECK_FALSE(parse_header_line("bad name: v"));
  CHECK(find_header({{"A", "1"}, {"a", "2"}}, "A") != nullptr);
  CHECK(*find_header({{"A", "1"}, {"a", "2"}}, "a") == "1");
  CHECK(find_header({}, "a") == nullptr);
}

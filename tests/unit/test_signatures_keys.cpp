// generate_key(): shapes like the providers' own secrets, from the CSPRNG,
// and usable at once for sign and verify.
#include <catch2/catch.hpp>

#include <set>

#include "centrali/signatures/signatures.hpp"
#include "centrali/util/encoding.hpp"

using namespace centrali;
using namespace centrali::sig;

TEST_CASE("sig::generate_key for standard is whsec_ + base64 of 32 random bytes", "[signatures]")
{
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    auto key = generate_key(Scheme::standard);
    REQUIRE(key);
    REQUIRE(key->secret.starts_with("whsec_"));
    auto bytes = encoding::base64_decode(std::string_view(key->secret).substr(6));
    REQUIRE(bytes);
    CHECK(bytes->size() == 32);
    CHECK(key->public_key.empty());
    seen.insert(key->secret);
  }
  CHECK(seen.size() == 10);
  CHECK(generate_key(Scheme::svix)->secret.starts_with("whsec_"));
}

TEST_CASE("sig::generate_key for stripe is whsec_ + 32 base62 characters", "[signatures]")
{
  auto key = generate_key(Scheme::stripe);
  REQUIRE(key);
  REQUIRE(key->secret.size() == 6 + 32);
  CHECK(key->secret.starts_with("whsec_"));
  for (char c : key->secret.substr(6))
    CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')));
  CHECK(generate_key(Scheme::stripe)->secret != key->secret);
}

TEST_CASE("sig::generate_key for v1a gives whsk_ (64-byte sk||pk) and whpk_ (32 bytes) that match", "[signatures]")
{
  auto key = generate_key(Scheme::v1a);
  REQUIRE(key);
  REQUIRE(key->secret.starts_with("whsk_"));
  REQUIRE(key->public_key.starts_with("whpk_"));
  auto sk = encoding::base64_decode(std::string_view(key->secret).substr(5));
  auto pk = encoding::base64_decode(std::string_view(key->public_key).substr(5));
  REQUIRE(sk);
  REQUIRE(pk);
  CHECK(sk->size() == 64);
  CHECK(pk->size() == 32);
  CHECK(sk->substr(32) == *pk);
}

TEST_CASE("sig::generate_key keys sign and verify at once (standard, stripe, v1a)", "[signatures]")
{
  for (auto scheme : {Scheme::standard, Scheme::stripe, Scheme::v1a}) {
    INFO(scheme_name(scheme));
    auto key = generate_key(scheme);
    REQUIRE(key);
    SignInput in;
    in.scheme = scheme;
    in.secrets = {key->secret};
    in.id = "msg_k";
    in.timestamp = 100;
    in.body = "hello";
    auto headers = sign(in);
    REQUIRE(headers);
    VerifyInput v;
    v.scheme = scheme;
    v.secrets = {scheme == Scheme::v1a ? key->public_key : key->secret};
    v.headers = &*headers;
    v.body = "hello";
    v.now_s = 100;
    CHECK(verify(v).valid);
  }
}

TEST_CASE("sig::generate_key refuses schemes whose secrets the provider issues", "[signatures]")
{
  for (auto scheme : {Scheme::github, Scheme::shopify, Scheme::slack, Scheme::twilio}) {
    auto key = generate_key(scheme);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("sig::verify rejects a whsk_ key whose public half was swapped", "[signatures]")
{
  auto a = generate_key(Scheme::v1a);
  auto b = generate_key(Scheme::v1a);
  auto sk = *encoding::base64_decode(std::string_view(a->secret).substr(5));
  auto pk_b = *encoding::base64_decode(std::string_view(b->public_key).substr(5));
  auto franken = "whsk_" + encoding::base64_encode(sk.substr(0, 32) + pk_b);
  SignInput in;
  in.scheme = Scheme::v1a;
  in.secrets = {franken};
  in.id = "msg_1";
  auto r = sign(in);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("public half does not match"));
}

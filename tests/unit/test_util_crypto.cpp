#include <catch2/catch.hpp>

#include <set>

#include "centrali/util/crypto.hpp"
#include "centrali/util/encoding.hpp"

using namespace centrali;
using centrali::encoding::hex_decode;
using centrali::encoding::hex_encode;

TEST_CASE("crypto::hmac_sha256 matches RFC 4231 test case 2, whole or in parts", "[signatures][crypto]")
{
  auto expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256("Jefe", {"what do ya want for nothing?"}))) == expected);
  CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256("Jefe", {"what do ", "", "ya want", " for nothing?"}))) ==
        expected);
}

TEST_CASE("crypto::hmac_sha256 gives each key its own MAC when keys repeat, alternate or share a prefix", "[signatures][crypto]")
{
  // RFC 4231 test cases 1 and 2, and keys that differ only in length: a
  // context reused for the same key must never carry one key into another.
  const std::string key1 = std::string(20, '\x0b');
  const std::string case1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  const std::string case2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  for (int round = 0; round < 3; ++round) {
    CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256(key1, {"Hi There"}))) == case1);
    CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256(key1, {"Hi There"}))) == case1);
    CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256("Jefe", {"what do ya want for nothing?"}))) == case2);
  }
  const auto longer = crypto::hmac_sha256("Jefe!", {"what do ya want for nothing?"});
  const auto shorter = crypto::hmac_sha256("Jef", {"what do ya want for nothing?"});
  CHECK(hex_encode(crypto::as_view(longer)) != case2);
  CHECK(hex_encode(crypto::as_view(shorter)) != case2);
  CHECK(hex_encode(crypto::as_view(longer)) != hex_encode(crypto::as_view(shorter)));
  CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256("Jefe", {"what do ya want for nothing?"}))) == case2);
}

TEST_CASE("crypto::hmac_sha256 hashes a key longer than a block first (RFC 4231 test cases 6 and 7)", "[signatures][crypto]")
{
  const std::string key(131, '\xaa');
  const std::string case6 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  const std::string case7 = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
  const std::string message7 =
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
      "hashed before being used by the HMAC algorithm.";
  for (int round = 0; round < 2; ++round) {
    CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256(key, {"Test Using Larger Than Block-Size Key - Hash Key First"}))) ==
          case6);
    CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256(key, {message7}))) == case7);
    // A key of exactly one block is used as it is; its digest is another key.
    const auto block_key = crypto::hmac_sha256(std::string(64, '\xaa'), {"x"});
    const auto digest_key = crypto::hmac_sha256(std::string_view(crypto::as_view(crypto::sha256(std::string(64, '\xaa')))), {"x"});
    CHECK(hex_encode(crypto::as_view(block_key)) != hex_encode(crypto::as_view(digest_key)));
  }
  // The empty key is a key (HMAC of nothing under nothing, a well-known value).
  CHECK(hex_encode(crypto::as_view(crypto::hmac_sha256("", {""}))) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("crypto::hmac_sha1 matches RFC 2202 test case 2 and takes an empty key", "[signatures][crypto]")
{
  CHECK(hex_encode(crypto::as_view(crypto::hmac_sha1("Jefe", {"what do ya want for nothing?"}))) ==
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  // HMAC-SHA1 with an empty key and message (a well-known value).
  CHECK(hex_encode(crypto::as_view(crypto::hmac_sha1("", {""}))) == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

TEST_CASE("crypto::sha256 of 'abc' is the FIPS 180-2 value", "[signatures][crypto]")
{
  CHECK(hex_encode(crypto::as_view(crypto::sha256("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("crypto::constant_time_equal compares size then bytes", "[signatures][crypto]")
{
  CHECK(crypto::constant_time_equal("", ""));
  CHECK(crypto::constant_time_equal("abc", "abc"));
  CHECK_FALSE(crypto::constant_time_equal("abc", "abd"));
  CHECK_FALSE(crypto::constant_time_equal("abc", "ab"));
}

TEST_CASE("crypto::random_bytes gives the size asked and differs each call", "[signatures][crypto]")
{
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto bytes = crypto::random_bytes(32);
    REQUIRE(bytes);
    CHECK(bytes->size() == 32);
    seen.insert(*bytes);
  }
  CHECK(seen.size() == 20);
}

TEST_CASE("crypto::ed25519 signs RFC 8032 test 1 and verifies it", "[signatures][crypto]")
{
  crypto::Ed25519Seed seed{};
  auto raw_seed = *hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  std::copy(raw_seed.begin(), raw_seed.end(), seed.begin());
  auto pub = crypto::ed25519_public_key(seed);
  REQUIRE(pub);
  CHECK(hex_encode(crypto::as_view(*pub)) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = crypto::ed25519_sign(seed, "");
  REQUIRE(sig);
  CHECK(hex_encode(crypto::as_view(*sig)) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
        "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(crypto::ed25519_verify(*pub, "", *sig));
  CHECK_FALSE(crypto::ed25519_verify(*pub, "x", *sig));
  auto bad = *sig;
  bad[10] ^= 1;
  CHECK_FALSE(crypto::ed25519_verify(*pub, "", bad));
  CHECK_FALSE(crypto::ed25519_verify(*pub, "", std::span<const unsigned char>(sig->data(), 63)));
}

TEST_CASE("crypto::ed25519_generate makes distinct pairs that sign and verify", "[signatures][crypto]")
{
  auto a = crypto::ed25519_generate();
  auto b = crypto::ed25519_generate();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->seed != b->seed);
  auto sig = crypto::ed25519_sign(a->seed, "message");
  REQUIRE(sig);
  CHECK(crypto::ed25519_verify(a->public_key, "message", *sig));
  CHECK_FALSE(crypto::ed25519_verify(b->public_key, "message", *sig));
}

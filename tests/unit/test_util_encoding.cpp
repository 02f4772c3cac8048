#include <catch2/catch.hpp>

#include <array>

#include "centrali/util/encoding.hpp"

using namespace centrali::encoding;

TEST_CASE("encoding::base64_encode matches the RFC 4648 test vectors", "[signatures][encoding]")
{
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("encoding::base64_decode round-trips every byte value and length", "[signatures][encoding]")
{
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 7) {
    auto text = base64_encode(all.substr(0, n));
    auto back = base64_decode(text);
    REQUIRE(back);
    CHECK(*back == all.substr(0, n));
  }
}

TEST_CASE("encoding::base64_decode rejects bad alphabet, padding and trailing bits", "[signatures][encoding]")
{
  CHECK_FALSE(base64_decode("Zm9v!"));
  CHECK_FALSE(base64_decode("Zm9 v"));
  CHECK_FALSE(base64_decode("Zg"));           // padding required by default
  CHECK_FALSE(base64_decode("Zg="));          // wrong padding
  CHECK_FALSE(base64_decode("Z==="));         // too much padding
  CHECK_FALSE(base64_decode("Zg==Zg=="));     // padding in the middle
  CHECK_FALSE(base64_decode("Zh=="));         // non-zero trailing bits: a second spelling of "f"
  CHECK_FALSE(base64_decode("Z"));            // 6 bits cannot make a byte
  CHECK_FALSE(base64_decode("Zm9v-_8="));     // base64url is not base64
  CHECK(base64_decode("") == std::string());
}

TEST_CASE("encoding::base64_decode with optional padding accepts unpadded base64 but not broken padding",
          "[signatures][encoding]")
{
  CHECK(base64_decode("Zg", Padding::optional) == "f");
  CHECK(base64_decode("Zm8", Padding::optional) == "fo");
  CHECK(base64_decode("Zm8=", Padding::optional) == "fo");
  CHECK_FALSE(base64_decode("Zm8==", Padding::optional));
  CHECK_FALSE(base64_decode("Z", Padding::optional));
}

TEST_CASE("encoding::base64_decode_into refuses output that does not fit", "[signatures][encoding]")
{
  std::array<unsigned char, 2> small{};
  CHECK_FALSE(base64_decode_into("Zm9v", small));
  auto n = base64_decode_into("Zm8=", small);
  REQUIRE(n);
  CHECK(*n == 2);
  CHECK(small[0] == 'f');
  CHECK(small[1] == 'o');
}

TEST_CASE("encoding::hex_encode is lowercase and hex_decode takes either case", "[signatures][encoding]")
{
  CHECK(hex_encode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
  CHECK(hex_decode("0001ABff") == std::string("\x00\x01\xab\xff", 4));
  CHECK(hex_decode("") == std::string());
  CHECK_FALSE(hex_decode("abc"));
  CHECK_FALSE(hex_decode("zz"));
  CHECK_FALSE(hex_decode("0x00"));
  std::array<unsigned char, 1> one{};
  CHECK_FALSE(hex_decode_into("0000", one));
}

TEST_CASE("encoding::url_decode decodes %hex escapes and + as a space in forms", "[signatures][encoding]")
{
  CHECK(url_decode("a%2Bb+c%20d") == "a+b c d");
  CHECK(url_decode("a+b", PlusIs::plus) == "a+b");
  CHECK(url_decode("%e2%9C%93") == "\xe2\x9c\x93");
  // Broken escapes are kept as they are, never read past the end.
  CHECK(url_decode("100%") == "100%");
  CHECK(url_decode("%4") == "%4");
  CHECK(url_decode("%zz") == "%zz");
  CHECK(url_decode("%00") == std::string(1, '\0'));
}

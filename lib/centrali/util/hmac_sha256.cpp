// HMAC-SHA256 (RFC 2104) on OpenSSL's SHA-256 block function, from states
// keyed once. Every delivery is signed and every ingested webhook of most
// providers is verified with it, mostly under one key again and again.
// EVP_MAC already reuses a key's pads, but each call still goes through the
// provider layer (parameter arrays, context copies, dispatch): three times
// the cost of the hashing itself for a webhook-sized message, and more once
// the caches are cold, as they are between two requests. The SHA256_CTX
// interface is the one OpenSSL has whose state is a plain struct that can
// be copied; OpenSSL 3 marks it deprecated (not removed), so this file asks
// for the 1.1.1 API level to use it without warnings.
#define OPENSSL_API_COMPAT 0x10101000L

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

#include "centrali/util/crypto.hpp"

namespace centrali::crypto {
namespace {

constexpr std::size_t k_block = 64;

// The states after hashing the key's inner and outer pads, and the key
// they belong to. One per thread: a thread that signs for one endpoint, or
// verifies for one source, keys it once.
struct KeyedSha256 {
  SHA256_CTX inner{};
  SHA256_CTX outer{};
  std::string key;
  bool keyed = false;

  void set_key(std::string_view k)
  {
    unsigned char block[k_block] = {};
    // A key longer than a block is replaced by its digest (RFC 2104 §2).
    if (k.size() > k_block) {
      SHA256(reinterpret_cast<const unsigned char*>(k.data()), k.size(), block);
    } else if (!k.empty()) {
      std::memcpy(block, k.data(), k.size());
    }
    unsigned char pad[k_block];
    for (std::size_t i = 0; i < k_block; ++i) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&inner);
    SHA256_Update(&inner, pad, k_block);
    for (std::size_t i = 0; i < k_block; ++i) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&outer);
    SHA256_Update(&outer, pad, k_block);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    key.assign(k);
    keyed = true;
  }

  ~KeyedSha256()
  {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    if (!key.empty()) OPENSSL_cleanse(key.data(), key.size());
  }
};

} // namespace

Sha256Digest hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts)
{
  thread_local KeyedSha256 keyed;
  // Constant time over the key's bytes: timing tells at most whether this
  // thread's previous key was the same one.
  const bool same = keyed.keyed && keyed.key.size() == key.size() &&
                    (key.empty() || CRYPTO_memcmp(keyed.key.data(), key.data(), key.size()) == 0);
  if (!same) keyed.set_key(key);
  SHA256_CTX ctx = keyed.inner;
  for (auto part : parts)
    if (!part.empty()) SHA256_Update(&ctx, part.data(), part.size());
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner_digest, &ctx);
  ctx = keyed.outer;
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  Sha256Digest out{};
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return out;
}

} // namespace centrali::crypto

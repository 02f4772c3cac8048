#pragma once
// The few OpenSSL primitives webhook signatures need, behind plain types:
// HMAC (SHA-256, SHA-1), SHA-256, the CSPRNG, constant-time comparison and
// Ed25519. Digests are fixed-size arrays so hot paths allocate nothing.
// HMAC and SHA-256 throw std::runtime_error only if OpenSSL itself fails
// (out of memory): a made-up digest would be worse than an exception.
#include <array>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"

namespace centrali::crypto {

using Sha256Digest = std::array<unsigned char, 32>;
using Sha1Digest = std::array<unsigned char, 20>;
using Ed25519Seed = std::array<unsigned char, 32>;       // the 32-byte private key (RFC 8032 "secret key")
using Ed25519PublicKey = std::array<unsigned char, 32>;
using Ed25519Signature = std::array<unsigned char, 64>;

// The bytes of a digest or key as a string_view (no copy).
template <std::size_t N>
std::string_view as_view(const std::array<unsigned char, N>& bytes)
{
  return {reinterpret_cast<const char*>(bytes.data()), N};
}

// HMAC-SHA256 of the concatenation of `parts`; the parts are fed in turn,
// so `id.timestamp.body` is signed without copying the body.
Sha256Digest hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts);
// HMAC-SHA1 of the concatenation of `parts` (Twilio, GitHub's legacy header).
Sha1Digest hmac_sha1(std::string_view key, std::initializer_list<std::string_view> parts);
// SHA-256 of `data`.
Sha256Digest sha256(std::string_view data);

// `n` bytes from OpenSSL's CSPRNG (RAND_bytes); fails only when it is unseeded.
Result<std::string> random_bytes(std::size_t n);

// Equal sizes and equal bytes, taking the same time whatever the content
// (CRYPTO_memcmp); sizes are compared first since they are not secret.
bool constant_time_equal(std::string_view a, std::string_view b);

struct Ed25519KeyPair {
  Ed25519Seed seed;
  Ed25519PublicKey public_key;
};

// A fresh key pair from the CSPRNG.
Result<Ed25519KeyPair> ed25519_generate();
// The public key that belongs to `seed`.
Result<Ed25519PublicKey> ed25519_public_key(const Ed25519Seed& seed);
// The RFC 8032 signature of `message` (pure Ed25519, no pre-hash).
Result<Ed25519Signature> ed25519_sign(const Ed25519Seed& seed, std::string_view message);
// True when `signature` is a valid signature of `message` under `public_key`;
// false for any malformed input (wrong sizes, a key not on the curve).
bool ed25519_verify(const Ed25519PublicKey& public_key, std::string_view message,
                    std::span<const unsigned char> signature);

} // namespace centrali::crypto

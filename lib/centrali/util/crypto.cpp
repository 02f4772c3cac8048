#include "centrali/util/crypto.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace centrali::crypto {
namespace {

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Fetched once: fetching by name walks OpenSSL's provider store, which is
// too slow to repeat for every request. EVP_MAC objects are immutable and
// safe to share between threads.
EVP_MAC* hmac_method()
{
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) throw std::runtime_error("OpenSSL: HMAC is not available");
  return mac;
}

// One HMAC context per digest and thread, its digest set once: a new context
// per call (and the digest looked up by name each time) cost more than the
// MAC of a typical webhook body. It remembers the last key it was given:
// signing or verifying for one endpoint uses one secret again and again, and
// reusing the key's inner and outer pads saves hashing them (two of the
// compression rounds of a small body) and OpenSSL's key setup every call.
struct HmacSlot {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx;
  std::optional<std::string> key;  // what the context is keyed with, once it is
};

EVP_MAC_CTX* hmac_context(const char* digest, HmacSlot& slot)
{
  if (slot.ctx) return slot.ctx.get();
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac_method()));
  if (!ctx) throw std::runtime_error("OpenSSL: out of memory");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_CTX_set_params(ctx.get(), params) != 1) throw std::runtime_error("OpenSSL: HMAC digest unavailable");
  slot.ctx = std::move(ctx);
  return slot.ctx.get();
}

template <std::size_t N>
std::array<unsigned char, N> hmac(const char* digest, HmacSlot& slot, std::string_view key,
                                  std::initializer_list<std::string_view> parts)
{
  auto* ctx = hmac_context(digest, slot);
  // A null key tells OpenSSL to start again with the key it has; an empty
  // key is a valid HMAC key, so it is passed as a real address.
  static const unsigned char k_empty = 0;
  const bool same_key = slot.key && slot.key->size() == key.size() &&
                        CRYPTO_memcmp(slot.key->data(), key.data(), key.size()) == 0;
  const auto* key_bytes = same_key ? nullptr : key.empty() ? &k_empty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx, key_bytes, same_key ? 0 : key.size(), nullptr) != 1) {
    slot.key.reset();  // its state is unknown: key it afresh next time
    throw std::runtime_error("OpenSSL: HMAC init failed");
  }
  if (!same_key) slot.key.emplace(key);
  for (auto part : parts)
    if (!part.empty() && EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) != 1)
      throw std::runtime_error("OpenSSL: HMAC update failed");
  std::array<unsigned char, N> out{};
  std::size_t len = 0;
  if (EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1 || len != N)
    throw std::runtime_error("OpenSSL: HMAC final failed");
  return out;
}

Pkey private_key(const Ed25519Seed& seed)
{
  return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
}

} // namespace

Sha1Digest hmac_sha1(std::string_view key, std::initializer_list<std::string_view> parts)
{
  thread_local HmacSlot slot;
  return hmac<20>("SHA1", slot, key, parts);
}

Sha256Digest sha256(std::string_view data)
{
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  return out;
}

Result<std::string> random_bytes(std::size_t n)
{
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    return fail(ErrorKind::rejected, "the system random number generator failed");
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Ed25519KeyPair> ed25519_generate()
{
  Ed25519KeyPair pair{};
  if (RAND_bytes(pair.seed.data(), static_cast<int>(pair.seed.size())) != 1)
    return fail(ErrorKind::rejected, "the system random number generator failed");
  auto pub = ed25519_public_key(pair.seed);
  if (!pub) return std::unexpected(pub.error());
  pair.public_key = *pub;
  return pair;
}

Result<Ed25519PublicKey> ed25519_public_key(const Ed25519Seed& seed)
{
  auto key = private_key(seed);
  Ed25519PublicKey out{};
  std::size_t len = out.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.data(), &len) != 1 || len != out.size())
    return fail(ErrorKind::rejected, "OpenSSL could not derive an Ed25519 public key");
  return out;
}

Result<Ed25519Signature> ed25519_sign(const Ed25519Seed& seed, std::string_view message)
{
  auto key = private_key(seed);
  MdCtx ctx(EVP_MD_CTX_new());
  Ed25519Signature sig{};
  std::size_t len = sig.size();
  // Ed25519 hashes the message itself: no digest is named, and the message
  // is passed in one piece (EVP_DigestSign, not Update/Final).
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      len != sig.size())
    return fail(ErrorKind::rejected, "OpenSSL could not make an Ed25519 signature");
  return sig;
}

bool ed25519_verify(const Ed25519PublicKey& public_key, std::string_view message,
                    std::span<const unsigned char> signature)
{
  if (signature.size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

} // namespace centrali::crypto

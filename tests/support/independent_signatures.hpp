#pragma once
// Signature checks written from the providers' specifications with OpenSSL
// alone, not with centrali's code: a receiver in a test judges what centrali
// sends as the app's library would, tolerance included. Header-only.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace testing {

inline std::string b64decode(const std::string& in)
{
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return {};
  std::size_t pad = in.size() >= 2 ? (in[in.size() - 1] == '=') + (in[in.size() - 2] == '=') : 0;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

inline std::string b64encode(const unsigned char* data, std::size_t len)
{
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

inline std::string hmac_sha256(const std::string& key, const std::string& content, unsigned int& len, unsigned char* mac)
{
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// Whether `seconds` is within `tolerance_s` of now, either way.
inline bool fresh(const std::string& seconds, long long tolerance_s)
{
  if (seconds.empty()) return false;
  return std::llabs(std::atoll(seconds.c_str()) - static_cast<long long>(std::time(nullptr))) <= tolerance_s;
}

// The Standard Webhooks check as the spec's reference libraries do it.
inline bool standard_webhooks_valid(const std::string& secret, const std::string& id, const std::string& ts,
                                    const std::string& signatures, const std::string& body, long long tolerance_s = 300)
{
  if (id.empty() || signatures.empty() || !fresh(ts, tolerance_s)) return false;
  auto key = b64decode(secret.substr(6));
  unsigned char mac[32];
  unsigned int len = 0;
  hmac_sha256(key, id + "." + ts + "." + body, len, mac);
  auto expected = "v1," + b64encode(mac, len);
  std::size_t start = 0;
  while (start < signatures.size()) {
    auto end = signatures.find(' ', start);
    if (end == std::string::npos) end = signatures.size();
    if (signatures.substr(start, end - start) == expected) return true;
    start = end + 1;
  }
  return false;
}

// Stripe's check (stripe-node's constructEvent): `t=` within the tolerance
// of now, and a `v1=` HMAC of "t.body" keyed with the whole secret.
inline bool stripe_valid(const std::string& secret, const std::string& header, const std::string& body,
                         long long tolerance_s = 300)
{
  std::string t;
  std::vector<std::string> v1;
  std::size_t start = 0;
  while (start <= header.size()) {
    auto end = header.find(',', start);
    auto part = header.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.rfind("t=", 0) == 0) t = part.substr(2);
    if (part.rfind("v1=", 0) == 0) v1.push_back(part.substr(3));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (!fresh(t, tolerance_s)) return false;
  unsigned char mac[32];
  unsigned int len = 0;
  hmac_sha256(secret, t + "." + body, len, mac);
  char hex[65];
  for (unsigned int i = 0; i < len; ++i) std::snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  for (const auto& s : v1)
    if (s == std::string(hex, 2 * len)) return true;
  return false;
}

} // namespace testing

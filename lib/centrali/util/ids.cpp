#include "centrali/util/ids.hpp"

#include <array>
#include <chrono>
#include <mutex>

#include <openssl/rand.h>

namespace centrali::ids {
namespace {

constexpr std::string_view k_alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int decode_char(char c)
{
  auto pos = k_alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// The state that keeps ids monotonic inside one millisecond: when the clock
// has not moved, the random part of the previous id is incremented instead
// of drawn again (ULID's monotonic mode), so sorting by id is sorting by time.
struct Generator {
  std::mutex mutex;
  std::uint64_t last_ms = 0;
  std::array<std::uint8_t, 10> last_random{};

  std::string next(std::string_view prefix, std::uint64_t ms)
  {
    std::array<std::uint8_t, 10> random{};
    {
      std::lock_guard lock(mutex);
      if (ms <= last_ms) {
        ms = last_ms;
        for (int i = 9; i >= 0; --i)
          if (++last_random[i] != 0) break;
      } else {
        last_ms = ms;
        RAND_bytes(last_random.data(), static_cast<int>(last_random.size()));
        last_random[0] &= 0x7f;  // leave headroom so increments never wrap
      }
      random = last_random;
    }
    // 128 bits: 48 time + 80 random, written as 26 base32 digits (130 bits).
    std::array<std::uint8_t, 16> bytes{};
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
    for (int i = 0; i < 10; ++i) bytes[6 + i] = random[i];

    std::string out(prefix);
    out += '_';
    // Read the 128 bits as 26 groups of 5, with two leading zero bits.
    unsigned __int128 value = 0;
    for (auto b : bytes) value = (value << 8) | b;
    char digits[26];
    for (int i = 25; i >= 0; --i) {
      digits[i] = k_alphabet[static_cast<std::size_t>(value & 31)];
      value >>= 5;
    }
    out.append(digits, 26);
    return out;
  }
};

Generator& generator()
{
  static Generator g;
  return g;
}

} // namespace

std::string make(std::string_view prefix)
{
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return make_at(prefix, static_cast<std::uint64_t>(
                             std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
}

std::string make_at(std::string_view prefix, std::uint64_t unix_ms)
{
  return generator().next(prefix, unix_ms & 0xFFFFFFFFFFFFULL);
}

bool is_valid(std::string_view id, std::string_view prefix)
{
  if (id.size() != prefix.size() + 1 + 26) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') return false;
  auto body = id.substr(prefix.size() + 1);
  if (decode_char(body[0]) > 7) return false;  // would overflow 128 bits
  for (char c : body)
    if (decode_char(c) < 0) return false;
  return true;
}

std::uint64_t timestamp_ms(std::string_view id)
{
  auto body = id.substr(id.size() - 26);
  // The first 10 digits carry 50 bits, of which the top two are zero.
  std::uint64_t value = 0;
  for (int i = 0; i < 10; ++i) value = (value << 5) | static_cast<std::uint64_t>(decode_char(body[i]));
  return value;
}

} // namespace centrali::ids

#include "centrali/util/json_text.hpp"

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "centrali/util/utf8.hpp"

namespace centrali {

namespace {

// Printable ASCII that JSON takes as it is.
bool plain(unsigned char c)
{
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// The same test for eight bytes at once (the bit tricks of "Bit Twiddling
// Hacks": whether a word holds a zero byte, or a byte below n). A header
// value is scanned in a few words instead of a branch per byte.
bool plain8(const char* p)
{
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t bad = (x & highs) | ((x - ones * 0x20) & ~x & highs) | has_zero(x ^ (ones * '"')) |
                            has_zero(x ^ (ones * '\\'));
  return bad == 0;
}

} // namespace

void append_json_string(std::string& out, std::string_view text)
{
  // Header names and values, ids and most payload text are plain ASCII: the
  // common case is one scan and one copy (this runs for every header of
  // every recorded attempt).
  std::size_t i = 0;
  while (i + 8 <= text.size() && plain8(text.data() + i)) i += 8;
  while (i < text.size() && plain(static_cast<unsigned char>(text[i]))) ++i;
  if (i < text.size() && !is_valid_utf8(text.substr(i))) {
    out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  out.append(text.substr(0, i));
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
      ++i;
    } else {
      // A run that needs no escape (UTF-8 sequences included) is copied whole.
      std::size_t run = i + 1;
      while (run < text.size() && static_cast<unsigned char>(text[run]) >= 0x20 && text[run] != '"' && text[run] != '\\')
        ++run;
      out.append(text.substr(i, run - i));
      i = run;
    }
  }
  out += '"';
}

} // namespace centrali

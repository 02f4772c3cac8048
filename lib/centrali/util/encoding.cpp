#include "centrali/util/encoding.hpp"

#include <array>
#include <cstdint>

namespace centrali::encoding {
namespace {

constexpr std::string_view k_b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view k_hex_digits = "0123456789abcdef";

// 0-63 for alphabet characters, -1 otherwise; built once at compile time so
// the decoder is a table lookup per character.
constexpr std::array<signed char, 256> make_b64_table()
{
  std::array<signed char, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < k_b64_alphabet.size(); ++i)
    table[static_cast<unsigned char>(k_b64_alphabet[i])] = static_cast<signed char>(i);
  return table;
}
constexpr auto k_b64_table = make_b64_table();

int hex_value(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The length the payload (padding stripped) must have, and the decoded size;
// nullopt when `text` cannot be base64 at all under `padding`.
std::optional<std::pair<std::size_t, std::size_t>> b64_shape(std::string_view text, Padding padding)
{
  std::size_t pad = 0;
  while (pad < text.size() && pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  std::size_t payload = text.size() - pad;
  if (pad > 0 && text.size() % 4 != 0) return std::nullopt;  // padding present but misplaced
  if (pad == 0 && padding == Padding::required && text.size() % 4 != 0) return std::nullopt;
  std::size_t rem = payload % 4;
  if (rem == 1) return std::nullopt;  // 6 bits cannot make a byte
  if (pad > 0 && pad != (4 - rem) % 4) return std::nullopt;
  std::size_t bytes = payload / 4 * 3 + (rem == 0 ? 0 : rem - 1);
  return std::pair{payload, bytes};
}

} // namespace

std::string base64_encode(std::string_view bytes)
{
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += k_b64_alphabet[(v >> 18) & 63];
    out += k_b64_alphabet[(v >> 12) & 63];
    out += k_b64_alphabet[(v >> 6) & 63];
    out += k_b64_alphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = at(i) << 16;
    out += k_b64_alphabet[(v >> 18) & 63];
    out += k_b64_alphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out += k_b64_alphabet[(v >> 18) & 63];
    out += k_b64_alphabet[(v >> 12) & 63];
    out += k_b64_alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::size_t> base64_decode_into(std::string_view text, std::span<unsigned char> out, Padding padding)
{
  auto shape = b64_shape(text, padding);
  if (!shape) return std::nullopt;
  auto [payload, bytes] = *shape;
  if (bytes > out.size()) return std::nullopt;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < payload; ++i) {
    int v = k_b64_table[static_cast<unsigned char>(text[i])];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<unsigned char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero, or two different texts would decode to the
  // same bytes (a signature could then be "valid" in several spellings).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return n;
}

std::optional<std::string> base64_decode(std::string_view text, Padding padding)
{
  auto shape = b64_shape(text, padding);
  if (!shape) return std::nullopt;
  std::string out(shape->second, '\0');
  auto n = base64_decode_into(text, std::span(reinterpret_cast<unsigned char*>(out.data()), out.size()), padding);
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

std::string hex_encode(std::string_view bytes)
{
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += k_hex_digits[c >> 4];
    out += k_hex_digits[c & 15];
  }
  return out;
}

std::optional<std::size_t> hex_decode_into(std::string_view text, std::span<unsigned char> out)
{
  if (text.size() % 2 != 0 || text.size() / 2 > out.size()) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i / 2] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return text.size() / 2;
}

std::optional<std::string> hex_decode(std::string_view text)
{
  std::string out(text.size() / 2, '\0');
  auto n = hex_decode_into(text, std::span(reinterpret_cast<unsigned char*>(out.data()), out.size()));
  if (!n) return std::nullopt;
  return out;
}

std::string url_decode(std::string_view text, PlusIs plus)
{
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus == PlusIs::space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) << 4 | hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += k_hex[u >> 4];
      out += k_hex[u & 15];
    }
  }
  return out;
}

} // namespace centrali::encoding

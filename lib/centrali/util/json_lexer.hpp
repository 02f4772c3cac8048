#pragma once
// The lexical rules of JSON (RFC 8259) exactly as nlohmann::json applies
// them, for the hand-written scanners that read bodies without building a
// document (ingest/json_peek at ingestion, query/json_find for content
// queries): one definition of a valid string, number and literal, so every
// scanner accepts what the parser accepts. Header-only: the scanners run on
// every request and over every stored body, and these steps must inline.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace centrali::json_lexer {

// A read position in a text. Each step advances past what it accepted and
// returns false, leaving `p` somewhere inside, on the first byte it refuses.
struct Cursor {
  const unsigned char* p;
  const unsigned char* end;

  explicit Cursor(std::string_view text)
      : p(reinterpret_cast<const unsigned char*>(text.data())), end(p + text.size())
  {
  }

  bool at_end() const { return p >= end; }

  // nlohmann::json skips a UTF-8 byte-order mark at the start; so do we.
  void skip_bom()
  {
    if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;
  }

  void skip_ws()
  {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  }

  bool literal(std::string_view word)
  {
    if (static_cast<std::size_t>(end - p) < word.size()) return false;
    if (std::string_view(reinterpret_cast<const char*>(p), word.size()) != word) return false;
    p += word.size();
    return true;
  }

  bool number()
  {
    const auto* start = p;
    if (p < end && *p == '-') ++p;
    if (p >= end) return false;
    if (*p == '0') ++p;
    else if (!(*p >= '1' && *p <= '9') || !digits()) return false;
    bool is_float = false;
    if (p < end && *p == '.') {
      ++p;
      is_float = true;
      if (!digits()) return false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      ++p;
      is_float = true;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      if (!digits()) return false;
    }
    // nlohmann::json refuses a number that overflows a double (1e400, or a
    // few hundred digits), and the rest of centrali parses bodies with it;
    // integers past 64 bits are read as doubles there too.
    if (is_float || p - start > 18) {
      std::string token(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p - start));
      if (!std::isfinite(std::strtod(token.c_str(), nullptr))) return false;
    }
    return true;
  }

  // The rest of a string after its opening quote, up to and past its
  // closing quote; decoded into `out` when given.
  bool string(std::string* out)
  {
    while (true) {
      const auto* run = p;
      // Eight plain bytes at a time: bodies are mostly ASCII text, and a
      // byte at a time over every stored body is most of a content
      // query's time.
      while (end - p >= 8 && !has_special(load8(p))) p += 8;
      while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') ++p;
      if (out) out->append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
      if (p >= end) return false;
      const unsigned char c = *p;
      if (c == '"') {
        ++p;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        auto n = utf8_sequence();
        if (n == 0) return false;
        if (out) out->append(reinterpret_cast<const char*>(p), n);
        p += n;
        continue;
      }
      // A backslash escape.
      if (++p >= end) return false;
      const unsigned char e = *p++;
      char simple = 0;
      switch (e) {
      case '"': simple = '"'; break;
      case '\\': simple = '\\'; break;
      case '/': simple = '/'; break;
      case 'b': simple = '\b'; break;
      case 'f': simple = '\f'; break;
      case 'n': simple = '\n'; break;
      case 'r': simple = '\r'; break;
      case 't': simple = '\t'; break;
      case 'u': break;
      default: return false;
      }
      if (simple) {
        if (out) *out += simple;
        continue;
      }
      int cp = hex4();
      if (cp < 0) return false;
      std::uint32_t code = static_cast<std::uint32_t>(cp);
      if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate first
      if (code >= 0xD800 && code <= 0xDBFF) {
        if (end - p < 2 || p[0] != '\\' || p[1] != 'u') return false;
        p += 2;
        int low = hex4();
        if (low < 0xDC00 || low > 0xDFFF) return false;
        code = 0x10000 + ((code - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
      }
      if (out) append_utf8(*out, code);
    }
  }

  // A scalar value at `p` (string, number, true, false, null).
  bool scalar(std::string* out = nullptr)
  {
    if (p >= end) return false;
    switch (*p) {
    case '"':
      ++p;
      return string(out);
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: return number();
    }
  }

private:
  static std::uint64_t load8(const unsigned char* at)
  {
    std::uint64_t w;
    std::memcpy(&w, at, 8);
    return w;
  }

  // Whether any byte of `w` ends a plain run of string bytes: a control
  // byte (< 0x20), a non-ASCII byte (checked as UTF-8 one at a time), '"'
  // or '\\'. Exact for "any" (the usual zero-byte tricks on 64 bits).
  static bool has_special(std::uint64_t w)
  {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & high; };
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & high;
    return ((w & high) | below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) != 0;
  }

  bool digits()
  {
    const auto* start = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    return p != start;
  }

  int hex4()
  {
    if (end - p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned char c = p[i];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    p += 4;
    return v;
  }

  static void append_utf8(std::string& s, std::uint32_t cp)
  {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
  // forms, no surrogates, nothing past U+10FFFF), or 0.
  std::size_t utf8_sequence() const
  {
    const auto left = end - p;
    const unsigned char c = p[0];
    auto cont = [&](int i) { return i < left && (p[i] & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3 || !cont(2)) return 0;
      const unsigned char c1 = p[1];
      if (c == 0xE0) return c1 >= 0xA0 && c1 <= 0xBF ? 3 : 0;
      if (c == 0xED) return c1 >= 0x80 && c1 <= 0x9F ? 3 : 0;
      return cont(1) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4 || !cont(2) || !cont(3)) return 0;
      const unsigned char c1 = p[1];
      if (c == 0xF0) return c1 >= 0x90 && c1 <= 0xBF ? 4 : 0;
      if (c == 0xF4) return c1 >= 0x80 && c1 <= 0x8F ? 4 : 0;
      return cont(1) ? 4 : 0;
    }
    return 0;
  }
};

} // namespace centrali::json_lexer

#pragma once
// The lexical rules of JSON (RFC 8259) exactly as nlohmann::json applies
// them, for the hand-written scanners that read bodies without building a
// document (ingest/json_peek at ingestion, query/json_find for content
// queries): one definition of a valid string, number and literal, so every
// scanner accepts what the parser accepts. Header-only: the scanners run on
// every request and over every stored body, and these steps must inline.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
      // Sixteen bytes at a time to the next byte that is not plain: bodies
      // are mostly ASCII text, and reading it a byte at a time was most of
      // a content query's time.
      skip_plain();
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
  // Bytes that go on a plain run of string bytes: printable ASCII but '"'
  // and '\\' (one table load per byte instead of four comparisons).
  static constexpr auto k_plain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return t;
  }();

  // Past the plain bytes at `p`: printable ASCII but '"' and '\\'. What
  // ends the run (a quote, an escape, a control byte, a UTF-8 sequence) is
  // for the caller to judge.
  void skip_plain()
  {
#ifdef __SSE2__
    // As signed bytes, everything below 0x20 or from 0x80 up is less than
    // 0x20: one comparison finds control and non-ASCII bytes alike.
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i special = _mm_or_si128(_mm_cmplt_epi8(v, space),
                                           _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
      if (const int mask = _mm_movemask_epi8(special)) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p += 16;
    }
#endif
    while (p < end && k_plain[*p]) ++p;
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

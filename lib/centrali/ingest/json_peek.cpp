#include "centrali/ingest/json_peek.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace centrali::ingest {
namespace {

// A hand-written RFC 8259 validator: every request body goes through it, and
// a general-purpose SAX parser (callbacks, a std::string per key and value)
// cost several times as much. It accepts exactly what nlohmann::json does
// (a test checks the two against each other), decodes only the few strings
// it keeps, and uses an explicit stack, so deep nesting cannot overflow ours.
class Scanner {
public:
  Scanner(std::string_view text, JsonPeek& out)
      : m_p(reinterpret_cast<const unsigned char*>(text.data())), m_end(m_p + text.size()), m_out(out)
  {
  }

  bool run()
  {
    // nlohmann::json skips a UTF-8 byte-order mark; so do we.
    if (m_end - m_p >= 3 && m_p[0] == 0xEF && m_p[1] == 0xBB && m_p[2] == 0xBF) m_p += 3;
    skip_ws();
    if (m_p < m_end && *m_p == '{') m_out.is_object = true;
    bool need_value = true;
    while (true) {
      if (need_value) {
        skip_ws();
        if (m_p >= m_end) return false;
        const unsigned char c = *m_p;
        if (c != '{' && c != '[') {
          if (!scalar()) return false;
          need_value = false;
          continue;
        }
        ++m_p;
        const bool event_object = c == '{' && m_stack.size() == 1 && m_key == "event";
        m_stack.push_back(static_cast<char>(c));
        if (m_stack.size() > m_out.depth) m_out.depth = m_stack.size();
        if (event_object) m_event_depth = m_stack.size();
        skip_ws();
        if (m_p < m_end && *m_p == (c == '{' ? '}' : ']')) {
          ++m_p;
          close();
          need_value = false;  // an empty container is a whole value
        } else if (c == '{' && !key()) {
          return false;
        }
        continue;
      }
      if (m_stack.empty()) break;
      skip_ws();
      if (m_p >= m_end) return false;
      const bool in_object = m_stack.back() == '{';
      if (*m_p == (in_object ? '}' : ']')) {
        ++m_p;
        close();
        continue;
      }
      if (*m_p != ',') return false;
      ++m_p;
      if (in_object && !key()) return false;
      need_value = true;
    }
    skip_ws();
    return m_p == m_end;
  }

private:
  void skip_ws()
  {
    while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) ++m_p;
  }

  bool scalar()
  {
    switch (*m_p) {
    case '"':
      ++m_p;
      return string(capture());
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: return number();
    }
  }

  // `"name" :` of an object member.
  bool key()
  {
    skip_ws();
    if (m_p >= m_end || *m_p != '"') return false;
    ++m_p;
    std::string* into = nullptr;
    if (m_stack.size() == 1) into = &m_key;
    else if (m_event_depth != 0 && m_stack.size() == m_event_depth) into = &m_event_key;
    if (into) into->clear();
    if (!string(into)) return false;
    if (into == &m_key) forget_previous();
    else if (into == &m_event_key && m_event_key == "type") m_out.event_type.clear();
    skip_ws();
    if (m_p >= m_end || *m_p != ':') return false;
    ++m_p;
    return true;
  }

  // A repeated top-level key replaces the earlier member, as in a parsed
  // document: drop what the earlier one gave.
  void forget_previous()
  {
    if (m_key == "type") m_out.type.clear();
    else if (m_key == "id") m_out.id.clear();
    else if (m_key == "action") m_out.action.clear();
    else if (m_key == "event_id") m_out.event_id.clear();
    else if (m_key == "event") m_out.event_type.clear();
  }

  void close()
  {
    if (m_stack.size() == m_event_depth) m_event_depth = 0;
    m_stack.pop_back();
  }

  // Where the string value about to be read is kept, if anywhere.
  std::string* capture()
  {
    if (m_stack.size() == 1 && m_stack.back() == '{') {
      if (m_key == "type") return fresh(m_out.type);
      if (m_key == "id") return fresh(m_out.id);
      if (m_key == "action") return fresh(m_out.action);
      if (m_key == "event_id") return fresh(m_out.event_id);
    } else if (m_event_depth != 0 && m_stack.size() == m_event_depth && m_event_key == "type") {
      return fresh(m_out.event_type);
    }
    return nullptr;
  }

  static std::string* fresh(std::string& s)
  {
    s.clear();  // a repeated key: the last one wins
    return &s;
  }

  bool literal(std::string_view word)
  {
    if (static_cast<std::size_t>(m_end - m_p) < word.size()) return false;
    if (std::string_view(reinterpret_cast<const char*>(m_p), word.size()) != word) return false;
    m_p += word.size();
    return true;
  }

  bool digits()
  {
    const auto* start = m_p;
    while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
    return m_p != start;
  }

  bool number()
  {
    const auto* start = m_p;
    if (m_p < m_end && *m_p == '-') ++m_p;
    if (m_p >= m_end) return false;
    if (*m_p == '0') ++m_p;
    else if (!(*m_p >= '1' && *m_p <= '9') || !digits()) return false;
    bool is_float = false;
    if (m_p < m_end && *m_p == '.') {
      ++m_p;
      is_float = true;
      if (!digits()) return false;
    }
    if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
      ++m_p;
      is_float = true;
      if (m_p < m_end && (*m_p == '+' || *m_p == '-')) ++m_p;
      if (!digits()) return false;
    }
    // nlohmann::json refuses a number that overflows a double (1e400, or a
    // few hundred digits), and the rest of centrali parses bodies with it;
    // integers past 64 bits are read as doubles there too.
    if (is_float || m_p - start > 18) {
      std::string token(reinterpret_cast<const char*>(start), static_cast<std::size_t>(m_p - start));
      if (!std::isfinite(std::strtod(token.c_str(), nullptr))) return false;
    }
    return true;
  }

  int hex4()
  {
    if (m_end - m_p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned char c = m_p[i];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    m_p += 4;
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

  // Length of the well-formed UTF-8 sequence at m_p (RFC 3629: no overlong
  // forms, no surrogates, nothing past U+10FFFF), or 0.
  std::size_t utf8_sequence() const
  {
    const auto left = m_end - m_p;
    const unsigned char c = m_p[0];
    auto cont = [&](int i) { return i < left && (m_p[i] & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3 || !cont(2)) return 0;
      const unsigned char c1 = m_p[1];
      if (c == 0xE0) return c1 >= 0xA0 && c1 <= 0xBF ? 3 : 0;
      if (c == 0xED) return c1 >= 0x80 && c1 <= 0x9F ? 3 : 0;
      return cont(1) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4 || !cont(2) || !cont(3)) return 0;
      const unsigned char c1 = m_p[1];
      if (c == 0xF0) return c1 >= 0x90 && c1 <= 0xBF ? 4 : 0;
      if (c == 0xF4) return c1 >= 0x80 && c1 <= 0x8F ? 4 : 0;
      return cont(1) ? 4 : 0;
    }
    return 0;
  }

  // The rest of a string after its opening quote; decoded into `out` when
  // given.
  bool string(std::string* out)
  {
    while (true) {
      const auto* run = m_p;
      while (m_p < m_end && *m_p >= 0x20 && *m_p < 0x80 && *m_p != '"' && *m_p != '\\') ++m_p;
      if (out) out->append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(m_p - run));
      if (m_p >= m_end) return false;
      const unsigned char c = *m_p;
      if (c == '"') {
        ++m_p;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        auto n = utf8_sequence();
        if (n == 0) return false;
        if (out) out->append(reinterpret_cast<const char*>(m_p), n);
        m_p += n;
        continue;
      }
      // A backslash escape.
      if (++m_p >= m_end) return false;
      const unsigned char e = *m_p++;
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
        if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') return false;
        m_p += 2;
        int low = hex4();
        if (low < 0xDC00 || low > 0xDFFF) return false;
        code = 0x10000 + ((code - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
      }
      if (out) append_utf8(*out, code);
    }
  }

  const unsigned char* m_p;
  const unsigned char* m_end;
  JsonPeek& m_out;
  std::vector<char> m_stack;      // open containers, '{' or '['
  std::string m_key;              // the current top-level key
  std::string m_event_key;        // the current key inside the top-level "event" object
  std::size_t m_event_depth = 0;  // stack depth of that object while open, else 0
};

} // namespace

JsonPeek peek_json(std::string_view body)
{
  JsonPeek out;
  Scanner scanner(body, out);
  out.valid = scanner.run();
  if (!out.valid) {
    const auto depth = out.depth;
    out = JsonPeek{};
    out.depth = depth;
  }
  return out;
}

} // namespace centrali::ingest

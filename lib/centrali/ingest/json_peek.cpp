#include "centrali/ingest/json_peek.hpp"

#include <vector>

#include "centrali/util/json_lexer.hpp"

namespace centrali::ingest {
namespace {

// A hand-written RFC 8259 validator: every request body goes through it, and
// a general-purpose SAX parser (callbacks, a std::string per key and value)
// cost several times as much. It accepts exactly what nlohmann::json does
// (util/json_lexer.hpp holds the lexical rules; a test checks the two
// against each other), decodes only the few strings it keeps, and uses an
// explicit stack, so deep nesting cannot overflow ours.
class Scanner {
public:
  Scanner(std::string_view text, JsonPeek& out)
      : m_in(text), m_end(m_in.end), m_out(out)
  {
  }

  bool run()
  {
    m_in.skip_bom();
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
  void skip_ws() { m_in.skip_ws(); }

  bool scalar()
  {
    if (*m_p == '"') {
      ++m_p;
      return m_in.string(capture());
    }
    return m_in.scalar();
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
    if (!m_in.string(into)) return false;
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

  json_lexer::Cursor m_in;
  const unsigned char*& m_p = m_in.p;  // the scanner's own steps read the cursor directly
  const unsigned char* const m_end;
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

#include "centrali/query/json_find.hpp"

#include <cstdint>

#include "centrali/util/json_bounded.hpp"
#include "centrali/util/json_lexer.hpp"
#include "centrali/util/json_path.hpp"

namespace centrali::query {
namespace {

using Mask = std::uint32_t;  // one bit per path
static_assert(sizeof(Mask) * 8 >= k_max_paths);

// An open object or array.
struct Frame {
  bool object;
  Mask live;                  // paths that go on into this container's members or elements
  Mask target;                // paths whose value is this whole container
  const unsigned char* start; // its opening bracket
  std::size_t index;          // arrays: the index of the element being read
};

// The validating pass of json_peek (same structure, same lexer), which
// follows the paths as it goes: at each member or element it works out
// which paths lead into the value that follows (`cont`) or end at it
// (`target`). Most containers lie on no path, and their keys are not
// even compared.
class Finder {
public:
  Finder(std::string_view text, const std::vector<JsonPath>& paths, Found& out)
      : m_in(text), m_paths(paths), m_out(out)
  {
  }

  bool run()
  {
    m_in.skip_bom();
    // The root value lies on every path (paths are never empty).
    Mask target = 0;
    Mask cont = m_paths.size() >= k_max_paths ? ~Mask(0) : (Mask(1) << m_paths.size()) - 1;
    bool need_value = true;
    while (true) {
      if (need_value) {
        m_in.skip_ws();
        if (m_in.at_end()) return false;
        const unsigned char c = *m_in.p;
        // A value replaces any earlier member of the same name, with all
        // that was found inside it (the last of repeated keys counts).
        forget(target | cont);
        if (c != '{' && c != '[') {
          const auto* start = m_in.p;
          if (!m_in.scalar()) return false;
          if (target) record(target, start);
          need_value = false;
          continue;
        }
        if (m_depth == m_stack.size()) return false;  // deeper than parse_json accepts
        m_stack[m_depth++] = Frame{c == '{', cont, target, m_in.p, 0};
        ++m_in.p;
        m_in.skip_ws();
        if (!m_in.at_end() && *m_in.p == (c == '{' ? '}' : ']')) {
          ++m_in.p;
          close();
          need_value = false;  // an empty container is a whole value
        } else if (c == '{') {
          if (!member(target, cont)) return false;
        } else {
          element(target, cont);
        }
        continue;
      }
      if (m_depth == 0) break;
      m_in.skip_ws();
      if (m_in.at_end()) return false;
      auto& frame = m_stack[m_depth - 1];
      if (*m_in.p == (frame.object ? '}' : ']')) {
        ++m_in.p;
        close();
        continue;
      }
      if (*m_in.p != ',') return false;
      ++m_in.p;
      if (frame.object) {
        if (!member(target, cont)) return false;
      } else {
        ++frame.index;
        element(target, cont);
      }
      need_value = true;
    }
    m_in.skip_ws();
    return m_in.at_end();
  }

private:
  void forget(Mask paths) { m_out.present &= ~std::bitset<k_max_paths>(paths); }

  void record(Mask paths, const unsigned char* start)
  {
    const std::string_view bytes(reinterpret_cast<const char*>(start), static_cast<std::size_t>(m_in.p - start));
    for (std::size_t i = 0; paths != 0; ++i, paths >>= 1)
      if (paths & 1) {
        m_out.values[i] = bytes;
        m_out.present.set(i);
      }
  }

  void close()
  {
    const auto& frame = m_stack[--m_depth];
    if (frame.target) record(frame.target, frame.start);
  }

  // `"name" :` of an object member, and the paths its value lies on.
  bool member(Mask& target, Mask& cont)
  {
    target = cont = 0;
    m_in.skip_ws();
    if (m_in.at_end() || *m_in.p != '"') return false;
    ++m_in.p;
    const auto& frame = m_stack[m_depth - 1];
    if (frame.live == 0) {
      if (!m_in.string(nullptr)) return false;
    } else {
      // Keys are compared undecoded unless they hold an escape.
      const auto* start = m_in.p;
      if (!m_in.string(nullptr)) return false;
      std::string_view key(reinterpret_cast<const char*>(start), static_cast<std::size_t>(m_in.p - 1 - start));
      if (key.find('\\') != std::string_view::npos) {
        m_key.clear();
        json_lexer::Cursor again(std::string_view(reinterpret_cast<const char*>(start),
                                                  static_cast<std::size_t>(m_in.end - start)));
        again.string(&m_key);
        key = m_key;
      }
      const std::size_t depth = m_depth - 1;
      Mask live = frame.live;
      for (std::size_t i = 0; live != 0; ++i, live >>= 1) {
        if (!(live & 1)) continue;
        const auto& segments = m_paths[i].segments;
        if (segments[depth] != key) continue;
        (segments.size() == depth + 1 ? target : cont) |= Mask(1) << i;
      }
    }
    m_in.skip_ws();
    if (m_in.at_end() || *m_in.p != ':') return false;
    ++m_in.p;
    return true;
  }

  // The paths the array element about to be read lies on.
  void element(Mask& target, Mask& cont)
  {
    target = cont = 0;
    const auto& frame = m_stack[m_depth - 1];
    const std::size_t depth = m_depth - 1;
    Mask live = frame.live;
    for (std::size_t i = 0; live != 0; ++i, live >>= 1) {
      if (!(live & 1)) continue;
      const auto& index = m_paths[i].indexes[depth];
      if (!index || *index != frame.index) continue;
      (m_paths[i].segments.size() == depth + 1 ? target : cont) |= Mask(1) << i;
    }
  }

  json_lexer::Cursor m_in;
  const std::vector<JsonPath>& m_paths;
  Found& m_out;
  std::array<Frame, k_max_json_depth> m_stack;
  std::size_t m_depth = 0;
  std::string m_key;  // a key with escapes, decoded
};

// Past one whole value at `in.p` of text already known to be JSON.
void skip_value(json_lexer::Cursor& in)
{
  int depth = 0;
  do {
    in.skip_ws();
    if (in.at_end()) return;
    const unsigned char c = *in.p;
    if (c == '{' || c == '[') {
      ++depth;
      ++in.p;
    } else if (c == '}' || c == ']') {
      --depth;
      ++in.p;
    } else if (c == ',' || c == ':') {
      ++in.p;
    } else {
      in.scalar();
    }
  } while (depth > 0 && !in.at_end());
}

} // namespace

JsonPath::JsonPath(std::vector<std::string> s) : segments(std::move(s))
{
  for (const auto& segment : segments) indexes.push_back(json_path_index(segment));
}

Found find_json(std::string_view text, const std::vector<JsonPath>& paths)
{
  Found out;
  if (paths.size() > k_max_paths) return out;
  Finder finder(text, paths, out);
  out.valid = finder.run();
  if (!out.valid) out.present.reset();
  return out;
}

JsonKind json_kind(std::string_view value)
{
  switch (value.empty() ? 'n' : value.front()) {
  case '"': return JsonKind::string;
  case '{': return JsonKind::object;
  case '[': return JsonKind::array;
  case 't':
  case 'f': return JsonKind::boolean;
  case 'n': return JsonKind::null;
  default: return JsonKind::number;
  }
}

std::string json_string_content(std::string_view value)
{
  std::string out;
  if (value.size() < 2 || value.front() != '"') return out;
  if (value.find('\\') == std::string_view::npos) return std::string(value.substr(1, value.size() - 2));
  json_lexer::Cursor in(value.substr(1));
  in.string(&out);
  return out;
}

std::vector<std::string_view> json_elements(std::string_view array)
{
  std::vector<std::string_view> out;
  if (array.size() < 2 || array.front() != '[') return out;
  json_lexer::Cursor in(array.substr(1, array.size() - 2));
  while (true) {
    in.skip_ws();
    if (in.at_end()) break;
    const auto* start = in.p;
    skip_value(in);
    out.emplace_back(reinterpret_cast<const char*>(start), static_cast<std::size_t>(in.p - start));
    in.skip_ws();
    if (in.at_end() || *in.p != ',') break;
    ++in.p;
  }
  return out;
}

} // namespace centrali::query

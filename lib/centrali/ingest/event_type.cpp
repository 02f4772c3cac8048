#include "centrali/ingest/event_type.hpp"

namespace centrali::ingest {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s` (no
// overlongs, surrogates or code points past U+10FFFF); 0 when there is none.
std::size_t utf8_sequence(std::string_view s)
{
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  std::size_t n = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (n == 0 || s.size() < n) return 0;
  const auto b1 = static_cast<unsigned char>(s[1]);
  unsigned char lo = 0x80, hi = 0xbf;
  if (b0 == 0xe0) lo = 0xa0;
  else if (b0 == 0xed) hi = 0x9f;
  else if (b0 == 0xf0) lo = 0x90;
  else if (b0 == 0xf4) hi = 0x8f;
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0;
  return n;
}

// Whether the character of `n` bytes at the start of `s` may appear in a
// type: not a space, C0 control, DEL or C1 control (U+0080-U+009F).
bool allowed(std::string_view s, std::size_t n)
{
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (n == 1) return b0 > 0x20 && b0 != 0x7f;
  return !(n == 2 && b0 == 0xc2 && static_cast<unsigned char>(s[1]) < 0xa0);
}

} // namespace

std::string event_type_problem(std::string_view type)
{
  if (type.empty() || type.size() > k_max_event_type) return "must be 1-200 characters";
  for (std::size_t i = 0; i < type.size();) {
    const auto n = utf8_sequence(type.substr(i));
    if (n == 0) return "must be UTF-8";
    if (!allowed(type.substr(i), n)) return "must not contain spaces or control characters";
    i += n;
  }
  return {};
}

std::string sanitize_event_type(std::string_view type)
{
  std::string out;
  out.reserve(std::min(type.size(), k_max_event_type));
  for (std::size_t i = 0; i < type.size();) {
    const auto n = utf8_sequence(type.substr(i));
    const std::size_t take = n == 0 ? 1 : n;
    const bool keep = n != 0 && allowed(type.substr(i), n);
    if (out.size() + (keep ? take : 1) > k_max_event_type) break;
    if (keep) out.append(type.substr(i, take));
    else out += '_';
    i += take;
  }
  return out;
}

} // namespace centrali::ingest

#pragma once
// Type and reason globs in SQL. Ours know `*` and `?` only (the rule fan-out
// matches with, dispatch/routing); SQLite's GLOB also reads `[…]` as a
// character class, so a `[` is written `[[]` for it, and an event type such
// as `a[1]` lists as itself.
#include <string>
#include <string_view>

namespace centrali::store {

inline bool is_glob(std::string_view pattern)
{
  return pattern.find_first_of("*?") != std::string_view::npos;
}

inline std::string sqlite_glob(std::string_view pattern)
{
  std::string out;
  out.reserve(pattern.size());
  for (char c : pattern) {
    if (c == '[') out += "[[]";
    else out += c;
  }
  return out;
}

} // namespace centrali::store

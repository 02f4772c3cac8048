#pragma once
// Type and reason globs in SQL. Ours know `*` and `?` only (the rule fan-out
// matches with, dispatch/routing). SQLite matches them with GLOB, which also
// reads `[…]` as a character class, so a `[` is written `[[]` for it, and an
// event type such as `a[1]` lists as itself. PostgreSQL has no GLOB: there
// they become LIKE patterns (case-sensitive there, unlike SQLite's LIKE).
#include <string>
#include <string_view>

#include "centrali/store/connection.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/sqlite/sql.hpp"

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

// `*` → `%`, `?` → `_`, and LIKE's own `%`, `_` and `\` escaped.
inline std::string like_pattern(std::string_view pattern)
{
  std::string out;
  out.reserve(pattern.size());
  for (char c : pattern) {
    if (c == '*') out += '%';
    else if (c == '?') out += '_';
    else {
      if (c == '%' || c == '_' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

// ` AND column matches :param`, for a pattern bound with glob_pattern.
inline std::string glob_condition(Backend backend, std::string_view column, std::string_view param)
{
  return backend == Backend::sqlite ? sqlite::glob_condition(column, param) : postgres::glob_condition(column, param);
}

inline std::string glob_pattern(Backend backend, std::string_view pattern)
{
  return backend == Backend::sqlite ? sqlite_glob(pattern) : like_pattern(pattern);
}

} // namespace centrali::store

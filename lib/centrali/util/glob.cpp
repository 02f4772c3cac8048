#include "centrali/util/glob.hpp"

namespace centrali {

bool glob_match(std::string_view pattern, std::string_view text)
{
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool glob_match_any(std::string_view patterns, std::string_view text, std::string_view only_prefixed)
{
  std::size_t start = 0;
  while (start <= patterns.size()) {
    auto end = patterns.find(',', start);
    if (end == std::string_view::npos) end = patterns.size();
    auto one = patterns.substr(start, end - start);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty() && one.starts_with(only_prefixed) && glob_match(one, text)) return true;
    start = end + 1;
  }
  return false;
}

} // namespace centrali

#include "centrali/store/postgres/placeholders.hpp"

#include <regex>

#include <algorithm>
#include <cctype>

#include "centrali/store/connection.hpp"

namespace centrali::store::postgres {
namespace {

// SQLite's own limit on a parameter's number.
constexpr std::size_t k_max_parameter = 32766;

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The end of the quoted text or comment starting at `i`, or `i` when none
// starts there. A doubled quote inside quotes ends one run and starts the
// next, which copies the same text.
std::size_t skip_literal(std::string_view sql, std::size_t i)
{
  auto to_after = [&](std::string_view end, std::size_t from) {
    const auto p = sql.find(end, from);
    return p == std::string_view::npos ? sql.size() : p + end.size();
  };
  const char c = sql[i];
  const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
  if (c == '\'' || c == '"') return to_after(std::string_view(&sql[i], 1), i + 1);
  if (c == '-' && next == '-') return to_after("\n", i + 2);
  if (c == '/' && next == '*') return to_after("*/", i + 2);
  return i;
}

} // namespace

std::string number_placeholders(std::string_view sql, std::vector<std::string>& names)
{
  names.clear();
  std::string out;
  out.reserve(sql.size() + 16);
  std::size_t i = 0;
  while (i < sql.size()) {
    if (auto end = skip_literal(sql, i); end != i) {
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == ':' && next == ':') {  // a cast (`x::int`), never a parameter
      out += "::";
      i += 2;
      continue;
    }
    std::size_t number = 0;
    if (c == '?') {
      auto end = i + 1;
      while (end < sql.size() && is_digit(sql[end])) ++end;
      if (end == i + 1) {
        number = names.size() + 1;
      } else {
        const auto digits = sql.substr(i + 1, end - i - 1);
        number = digits.size() > 5 ? k_max_parameter + 1 : std::stoul(std::string(digits));
      }
      if (number == 0 || number > k_max_parameter)
        throw DatabaseError("parameter " + std::string(sql.substr(i, end - i)) + " is out of range", StoreFault::none);
      i = end;
    } else if (c == ':' && is_name_start(next)) {
      auto end = i + 1;
      while (end < sql.size() && is_name_char(sql[end])) ++end;
      const auto name = sql.substr(i, end - i);
      const auto known = std::find(names.begin(), names.end(), name);
      number = known != names.end() ? static_cast<std::size_t>(known - names.begin()) + 1 : names.size() + 1;
      if (number > names.size()) names.resize(number);
      names[number - 1] = name;
      i = end;
    } else {
      out += c;
      ++i;
      continue;
    }
    if (number > names.size()) names.resize(number);
    out += '$';
    out += std::to_string(number);
  }
  return out;
}

std::string without_index_hints(std::string_view sql)
{
  static const std::regex hint(R"( INDEXED BY [A-Za-z_][A-Za-z0-9_]*)");
  return std::regex_replace(std::string(sql), hint, "");
}

} // namespace centrali::store::postgres

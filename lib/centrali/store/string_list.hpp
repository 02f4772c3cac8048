#pragma once
// A list of strings kept in one TEXT column as a JSON array (a webhook's
// filter conditions, a trigger's): the column's one spelling, read and
// written here.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/util/json_bounded.hpp"

namespace centrali::store {

inline std::string string_list_text(const std::vector<std::string>& list)
{
  return nlohmann::json(list).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The strings of a stored list; anything else in it is skipped.
inline std::vector<std::string> string_list_from_text(std::string_view text)
{
  std::vector<std::string> out;
  if (text == "[]") return out;  // the common case, without a parse
  auto list = parse_json(text);
  if (list.is_array())
    for (const auto& v : list)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

} // namespace centrali::store

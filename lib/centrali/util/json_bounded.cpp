#include "centrali/util/json_bounded.hpp"

namespace centrali {

int json_depth(std::string_view text, int limit)
{
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

namespace {

// Text parse_json refuses before nlohmann sees it: too deep to print, or
// holding a NUL, where nlohmann stops reading as at the end of the input
// (it would accept `{}` followed by a NUL and anything at all).
bool refused(std::string_view text)
{
  return text.find('\0') != std::string_view::npos || json_too_deep(text);
}

} // namespace

nlohmann::json parse_json(std::string_view text)
{
  if (refused(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text, nullptr, false);
}

nlohmann::ordered_json parse_ordered_json(std::string_view text)
{
  if (refused(text)) return nlohmann::ordered_json(nlohmann::ordered_json::value_t::discarded);
  return nlohmann::ordered_json::parse(text, nullptr, false);
}

std::string json_refusal(std::string_view text)
{
  if (json_too_deep(text)) return "is nested deeper than " + std::to_string(k_max_json_depth) + " levels";
  return "is not valid JSON";
}

} // namespace centrali

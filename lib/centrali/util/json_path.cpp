#include "centrali/util/json_path.hpp"

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "centrali/util/json_bounded.hpp"

namespace centrali {
namespace {

using ojson = nlohmann::ordered_json;

const char* type_name(const ojson& j)
{
  switch (j.type()) {
  case ojson::value_t::object: return "an object";
  case ojson::value_t::array: return "an array";
  case ojson::value_t::string: return "a string";
  case ojson::value_t::boolean: return "a boolean";
  case ojson::value_t::null: return "null";
  default: return "a number";
  }
}

} // namespace

Result<std::vector<std::string>> parse_json_path(std::string_view path)
{
  if (path.empty()) return fail(ErrorKind::usage, "empty path: name a field, e.g. data.object.amount");
  const std::string quoted = "path '" + std::string(path) + "'";
  // jq's `.data` and JSONPath's `$.data`, written from habit.
  if (path.front() == '.' || path == "$" || path.starts_with("$."))
    return fail(ErrorKind::usage, quoted + " starts with '" + path.front() +
                                      "': paths start at the body's top level, e.g. data.object.amount");
  if (auto bracket = path.find_first_of("[]"); bracket != std::string_view::npos)
    return fail(ErrorKind::usage, quoted + " has a bracket: array elements are segments too, e.g. items.0.sku");
  std::vector<std::string> out;
  while (true) {
    auto dot = path.find('.');
    auto segment = path.substr(0, dot);
    if (segment.empty()) return fail(ErrorKind::usage, quoted + " has an empty segment");
    out.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return out;
}

std::optional<std::size_t> json_path_index(std::string_view segment)
{
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), n);
  if (segment.empty() || ec != std::errc() || end != segment.data() + segment.size()) return std::nullopt;
  return n;
}

Result<void> set_json_path(ojson& document, std::string_view path, ojson value)
{
  auto parsed = parse_json_path(path);
  if (!parsed) return std::unexpected(parsed.error());
  const auto& segments = *parsed;
  ojson* at = &document;
  std::string walked;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& segment = segments[i];
    const bool last = i + 1 == segments.size();
    const std::string where = walked.empty() ? "the document" : walked;
    if (at->is_null() && !walked.empty()) *at = ojson::object();  // made on the way
    if (at->is_array()) {
      auto index = json_path_index(segment);
      if (!index) return fail(ErrorKind::usage, where + " is an array: '" + segment + "' is not an index");
      if (*index > at->size())
        return fail(ErrorKind::usage, "index " + segment + " is past the end of " + where + " (" +
                                          std::to_string(at->size()) + " elements)");
      if (*index == at->size()) at->push_back(nullptr);
      at = &(*at)[*index];
    } else if (at->is_object()) {
      at = &(*at)[segment];
    } else {
      return fail(ErrorKind::usage, where + " is " + type_name(*at) + ", not an object or array: cannot set '" +
                                        segment + "' in it");
    }
    if (last) *at = std::move(value);
    walked += (walked.empty() ? "" : ".") + segment;
  }
  return {};
}

Result<void> apply_json_assignment(ojson& document, std::string_view assignment)
{
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos)
    return fail(ErrorKind::usage, "--set '" + std::string(assignment) + "' has no '=': write it as path=value");
  const auto path = assignment.substr(0, eq);
  const auto text = assignment.substr(eq + 1);
  auto parsed = parse_ordered_json(text);
  ojson value = parsed.is_discarded() ? ojson(std::string(text)) : std::move(parsed);
  if (auto r = set_json_path(document, path, std::move(value)); !r)
    return fail(ErrorKind::usage, "--set " + std::string(path) + ": " + r.error().message);
  return {};
}

} // namespace centrali

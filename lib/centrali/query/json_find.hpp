#pragma once
// Finding the values at a few dotted paths in a JSON text, in one pass over
// its bytes and without building a document: content queries read every
// stored body they consider (a million of them for a query that matches
// nothing), where parsing each with nlohmann::json would cost ten times as
// much. The pass also validates: a text nlohmann::json would refuse, or one
// nested deeper than k_max_json_depth, finds nothing.
#include <array>
#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace centrali::query {

// One path as parse_json_path splits it, with each segment's array index
// when it is one (a segment names a member of an object, or an element of
// an array when it is an index).
struct JsonPath {
  std::vector<std::string> segments;
  std::vector<std::optional<std::size_t>> indexes;

  explicit JsonPath(std::vector<std::string> segments);
};

// How many paths one pass looks for at most.
inline constexpr std::size_t k_max_paths = 32;

// What a pass found: for each path, the exact bytes of its value (a
// string's with its quotes), when the path leads to one.
struct Found {
  bool valid = false;  // the text is JSON (else nothing is found)
  std::array<std::string_view, k_max_paths> values{};
  std::bitset<k_max_paths> present;

  std::optional<std::string_view> at(std::size_t path) const
  {
    if (!present[path]) return std::nullopt;
    return values[path];
  }
};

// Looks for every path in `paths` in `text`. As in a parsed document, a
// member repeated in an object is the last one given. More than
// k_max_paths paths find nothing.
Found find_json(std::string_view text, const std::vector<JsonPath>& paths);

// What a value's bytes hold, from their first byte.
enum class JsonKind { string, number, boolean, null, object, array };
JsonKind json_kind(std::string_view value);

// A string value's content, unescaped; `value` must be a string as
// find_json returns it.
std::string json_string_content(std::string_view value);

// The bytes of each element of an array value as find_json returns it.
std::vector<std::string_view> json_elements(std::string_view array);

} // namespace centrali::query

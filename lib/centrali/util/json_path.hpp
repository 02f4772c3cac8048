#pragma once
// Dotted paths into JSON documents: `data.object.amount`, `items.0.sku`.
// Each segment names an object member, or an array element by index. One
// spelling for every place that takes a path (`--set` edits, `--where`
// content queries), so a path that works in one works in the other.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/util/error.hpp"

namespace centrali {

// The segments of `path`. A usage error (to end a sentence, e.g. "path
// 'a..b' has an empty segment") for an empty path, an empty segment, or
// brackets (`items[0]`, which would silently name a member "items[0]").
Result<std::vector<std::string>> parse_json_path(std::string_view path);

// The array index a segment names ("0", "12"), if it is one.
std::optional<std::size_t> json_path_index(std::string_view segment);

// Sets the member or element `path` leads to. Missing members are created
// (with empty objects on the way); an index may name an existing element or
// the one just past the end (appended). A usage error says which segment
// could not be followed, e.g. "'amount' of data.object is a number, not an
// object".
Result<void> set_json_path(nlohmann::ordered_json& document, std::string_view path, nlohmann::ordered_json value);

// `path=value` as given to --set: the value is JSON when it parses (5000,
// true, null, {"a":1}, "quoted"), else the text itself. Applied in order.
Result<void> apply_json_assignment(nlohmann::ordered_json& document, std::string_view assignment);

} // namespace centrali

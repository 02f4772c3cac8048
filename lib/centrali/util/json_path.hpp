#pragma once
// Editing a JSON document by a dotted path, as `--set data.object.amount=5000`
// does: each segment names an object member, or an array element by index.
#include <string_view>

#include <nlohmann/json.hpp>

#include "centrali/util/error.hpp"

namespace centrali {

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

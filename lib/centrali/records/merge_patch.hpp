#pragma once
// JSON Merge Patch (RFC 7386): how `records update --data` changes a record.
#include <nlohmann/json.hpp>

namespace centrali::records {

// `target` with `patch` applied: an object patch merges member by member
// (null removes a member, nested objects merge recursively); any other
// patch replaces the target whole.
nlohmann::json merge_patch(nlohmann::json target, const nlohmann::json& patch);

} // namespace centrali::records

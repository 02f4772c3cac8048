#pragma once
// The record operations behind `centrali records`: input checks, merge
// patches and `--where` conditions on top of store/records.hpp.
#include <string>
#include <string_view>
#include <vector>

#include "centrali/store/records.hpp"

namespace centrali::records {

// Collection names: 1-64 letters, digits, '-', '_', '.'.
Result<void> check_collection(std::string_view name);

// Parses `--data` text that must be a JSON object; usage error otherwise.
Result<nlohmann::json> parse_object(std::string_view text, std::string_view what = "--data");

// `field=value` or `a.b=value`: the value is JSON when it parses as a scalar
// (10, true, null, "quoted"), else the literal text. Usage error when malformed.
Result<store::FieldMatch> parse_where(std::string_view text);

// Creates a record in `collection` from JSON object text.
Result<store::Record> create(store::Store& store, const std::string& collection, std::string_view data_text,
                             std::int64_t now_ms);

// Applies a JSON merge patch (object text) to record `id`; version + 1.
// The patched data must still be an object.
Result<store::RecordChange> update(store::Store& store, const std::string& id, std::string_view patch_text,
                                   std::int64_t now_ms);

} // namespace centrali::records

#pragma once
// What a function receives on stdin: one JSON document
//   {"triggerParams": {...the trigger's --param values...},
//    "executionParams": {...this run's data...}}
// executionParams by origin:
//   event     {"event": {id, type, source, receivedAt, data, headers}}
//             plus "record": {collection, id, version, data[, before, after]} for record events
//   schedule  {"scheduledAt": RFC 3339, "firedAt": RFC 3339}
//   demand    {"data": the --data of `triggers fire`, or null}
//   endpoint  {"request": {method, path, query, headers, body}}
// Bodies are parsed JSON when they parse, else the text; bytes that are not
// UTF-8 come as base64 with "dataEncoding"/"bodyEncoding": "base64".
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "centrali/store/events.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::triggers {

// executionParams of a run started by `event`.
nlohmann::json event_params(const store::Event& event);

// executionParams of a schedule tick due at `scheduled_ms`, fired at `fired_ms`.
nlohmann::json schedule_params(std::int64_t scheduled_ms, std::int64_t fired_ms);

// executionParams of `triggers fire --data`.
nlohmann::json demand_params(nlohmann::json data);

// executionParams of an endpoint request. `sub_path` is the path below
// /endpoints; `target` the raw path and query as sent.
nlohmann::json request_params(std::string_view method, std::string_view sub_path, std::string_view target,
                              const HeaderList& headers, std::string_view body);

// Headers as an object with lower-case names; repeated headers are joined
// with ", " as HTTP allows.
nlohmann::json headers_object(const HeaderList& headers);

// The stdin document for a run.
std::string stdin_document(const nlohmann::json& trigger_params, const nlohmann::json& execution_params);

// JSON text that never throws on invalid UTF-8 (bytes are replaced).
std::string dump_json(const nlohmann::json& value);

} // namespace centrali::triggers

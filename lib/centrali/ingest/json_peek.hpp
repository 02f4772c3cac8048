#pragma once
// A single streaming pass over a JSON body that validates it and picks out
// the few top-level fields ingestion needs (type, id, action...), without
// building a document: ingestion is a hot path.
#include <cstddef>
#include <string>
#include <string_view>

namespace centrali::ingest {

struct JsonPeek {
  bool valid = false;
  bool is_object = false;
  std::size_t depth = 0;    // deepest [ / { nesting reached (also when not valid)
  std::string type;         // top-level "type" when a string
  std::string id;           // top-level "id" when a string
  std::string action;       // top-level "action" (GitHub)
  std::string event_id;     // top-level "event_id" (Slack Events API)
  std::string event_type;   // "event": {"type": ...} (Slack Events API)
};

JsonPeek peek_json(std::string_view body);

} // namespace centrali::ingest

#pragma once
// JSON text written directly, for hot paths where building an nlohmann
// document only to serialise it would cost more than the work itself.
#include <string>
#include <string_view>

namespace centrali {

// Appends `text` as a JSON string. Invalid UTF-8 goes through nlohmann's
// replacing dump (U+FFFD), so the result always parses back.
void append_json_string(std::string& out, std::string_view text);

} // namespace centrali

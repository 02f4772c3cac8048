#pragma once
// UTF-8 validation, to decide whether stored bytes can be shown as text.
#include <string_view>

namespace centrali {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view text);

} // namespace centrali

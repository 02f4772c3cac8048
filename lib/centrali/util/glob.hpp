#pragma once
// Shell-style globs for event types: `*` matches any run of characters
// (dots included, so `invoice.*` matches `invoice.payment.failed`), `?` one.
#include <string_view>

namespace centrali {

bool glob_match(std::string_view pattern, std::string_view text);

// True when any comma-separated pattern in `patterns` matches; with
// `only_prefixed`, only patterns that start with it count.
bool glob_match_any(std::string_view patterns, std::string_view text, std::string_view only_prefixed = {});

} // namespace centrali

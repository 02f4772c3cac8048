#pragma once
// Clock and time-text helpers shared by every command: durations such as
// `30s`, `2m`, `100ms`, instants such as `2026-11-27T10:00:00Z`, and the
// human "3m ago" form.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"

namespace centrali::timeutil {

using Millis = std::chrono::milliseconds;

// Milliseconds since the Unix epoch, from the system clock.
std::int64_t now_ms();

// `1500ms`, `30s`, `2m`, `1h`, `1d`, `1h30m`. A bare number (`5`) is refused
// with "give a unit": whether it meant seconds or minutes cannot be told.
Result<Millis> parse_duration(std::string_view text);

// RFC 3339 UTC (`2026-11-27T10:00:00Z`, optional fraction, `+hh:mm` offsets)
// or a bare Unix time in seconds; returns milliseconds since the epoch.
Result<std::int64_t> parse_instant(std::string_view text);

// For `--since`: a duration means "that long before now", else an instant.
Result<std::int64_t> parse_since(std::string_view text, std::int64_t now);

// `2026-11-27T10:00:00.123Z` (milliseconds shown only when non-zero).
std::string format_rfc3339(std::int64_t unix_ms);

// `12s ago`, `3m ago`, `5h ago`, `2d ago`, `in 30s`.
std::string relative(std::int64_t unix_ms, std::int64_t now);

// `250ms`, `1.5s`, `2m`, `1h` — a duration as people read it (rounded).
std::string format_duration(Millis d);
// The same duration in the largest unit that holds it exactly (`1500ms`,
// `90s`, `2m`, `120h`): what parse_duration reads back unchanged, for text
// that is stored or exported.
std::string format_duration_exact(Millis d);

} // namespace centrali::timeutil

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

// Milliseconds since the Unix epoch: the system clock plus how far this
// process has jumped it (see jump_clock_to). Every time-based decision
// (retries, jitter, Retry-After, leases, schedules, delays) reads this one
// clock; real waiting (socket and process timeouts) uses steady_clock.
std::int64_t now_ms();

// Moves this process's clock forward so that now_ms() reads `unix_ms` (for
// `dispatch --fast-forward`); never backwards: an earlier time is ignored.
void jump_clock_to(std::int64_t unix_ms);
// How far now_ms() is ahead of the system clock (0 unless jumped).
std::int64_t clock_offset_ms();

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

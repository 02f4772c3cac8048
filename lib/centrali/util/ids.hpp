#pragma once
// Prefixed, time-sortable, unique ids: `evt_01JDQ5...` = prefix + 26 Crockford
// base32 characters (48-bit millisecond time, 80 random bits, ULID layout).
// Ids made by one process are strictly increasing even within one millisecond.
#include <cstdint>
#include <string>
#include <string_view>

namespace centrali::ids {

inline constexpr std::string_view k_event = "evt";
inline constexpr std::string_view k_record = "rec";
inline constexpr std::string_view k_run = "run";
inline constexpr std::string_view k_webhook = "whk";
inline constexpr std::string_view k_delivery = "dlv";
inline constexpr std::string_view k_attempt = "att";
inline constexpr std::string_view k_message = "msg";
inline constexpr std::string_view k_automation_run = "arun";

// A new id `<prefix>_<26 chars>`; thread-safe.
std::string make(std::string_view prefix);

// Same, at a given time (milliseconds since the epoch); for tests and imports.
std::string make_at(std::string_view prefix, std::uint64_t unix_ms);

// True when `id` is `<prefix>_` followed by 26 valid Crockford base32 chars.
bool is_valid(std::string_view id, std::string_view prefix);

// The millisecond timestamp encoded in a valid id.
std::uint64_t timestamp_ms(std::string_view id);

} // namespace centrali::ids

#pragma once
// What an event type may be, wherever one comes from: at most 200 bytes of
// UTF-8 with no spaces or control characters. Types are shown in terminals
// and logs, sent as the Centrali-Event-Type header and passed to functions
// in CENTRALI_EVENT_TYPE, so a type from the network must not carry escape
// sequences, line breaks, NULs or hundreds of kilobytes into any of them.
#include <cstddef>
#include <string>
#include <string_view>

namespace centrali::ingest {

inline constexpr std::size_t k_max_event_type = 200;

// Why `type` is not a valid event type, as the end of a sentence ("must be
// 1-200 characters"); empty when it is valid. For types people type.
std::string event_type_problem(std::string_view type);

// A type from the network made valid: every space, control character
// (C0, DEL, C1) and byte that is not UTF-8 becomes '_', and the result is
// cut to 200 bytes on a character boundary. Empty stays empty.
std::string sanitize_event_type(std::string_view type);

} // namespace centrali::ingest

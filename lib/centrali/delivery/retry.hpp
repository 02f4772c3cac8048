#pragma once
// When to try again: the webhook's schedule with ±20 % jitter (so a burst
// of failures does not retry in lockstep), and the receiver's Retry-After.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace centrali::delivery {

// `base` scaled by a random factor in [1 - jitter, 1 + jitter].
std::int64_t jittered(std::int64_t base_ms, double jitter = 0.2);

// Retry-After as delay-seconds or an HTTP date; nullopt when unparsable.
std::optional<std::int64_t> parse_retry_after_ms(std::string_view value, std::int64_t now_ms);

// The delay before the next try: the receiver's Retry-After when given,
// clamped to [base, max(2 × base, 1 h)], else the jittered base.
std::int64_t next_delay_ms(std::int64_t base_ms, std::optional<std::int64_t> retry_after_ms);

// "30s,2m,10m,30m" -> milliseconds; usage error on a bad entry.
std::vector<std::int64_t> default_retry_schedule_ms();

} // namespace centrali::delivery

#pragma once
// When to try again: the webhook's schedule with ±20 % jitter (so a burst
// of failures does not retry in lockstep), and the receiver's Retry-After.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace centrali::delivery {

// A uniform draw in [0, 1): the randomness behind the jitter. A plain
// function pointer, so a test can pin the draw and a retry allocates nothing.
using UniformDraw = double (*)();
// The default: a per-thread generator seeded from std::random_device.
double uniform_draw();

// The schedule's spread: ±20 % (README, "Retries").
inline constexpr double k_retry_jitter = 0.2;

// `base` scaled by a factor in [1 - jitter, 1 + jitter], chosen by `draw`.
std::int64_t jittered(std::int64_t base_ms, double jitter = k_retry_jitter, UniformDraw draw = uniform_draw);

// Retry-After as delay-seconds (at most 7 days) or an IMF-fixdate HTTP date
// counted from `now_ms` (0 once past); nullopt when unparsable or negative.
std::optional<std::int64_t> parse_retry_after_ms(std::string_view value, std::int64_t now_ms);

// The delay before the next try: the receiver's Retry-After when given,
// clamped to [base, max(2 × base, 1 h)], else the base jittered by `draw`.
std::int64_t next_delay_ms(std::int64_t base_ms, std::optional<std::int64_t> retry_after_ms,
                           UniformDraw draw = uniform_draw);

// 30s, 2m, 10m, 30m in milliseconds: a new webhook's schedule.
std::vector<std::int64_t> default_retry_schedule_ms();

} // namespace centrali::delivery

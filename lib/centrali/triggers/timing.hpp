#pragma once
// When schedule triggers fire: 5-field cron in a time zone, a fixed
// interval, or once at an instant.
#include <cstdint>
#include <optional>
#include <vector>

#include "centrali/store/triggers.hpp"

namespace centrali::triggers {

// The first fire time strictly after `after_ms`; none when the schedule
// never fires again (a past `at`, an impossible cron).
Result<std::optional<std::int64_t>> next_fire_after(const store::Trigger& trigger, std::int64_t after_ms);

// After the tick due at `due_ms` fired at `now_ms`: the next tick, skipping
// any that are already past (missed ticks are not replayed). Intervals keep
// their phase: `every 5m` stays on the same seconds.
Result<std::optional<std::int64_t>> following_fire(const store::Trigger& trigger, std::int64_t due_ms,
                                                   std::int64_t now_ms);

// Up to `count` upcoming fire times after `now_ms`, starting from the stored
// next fire time when it is still ahead; for `triggers show`.
Result<std::vector<std::int64_t>> upcoming_fires(const store::Trigger& trigger, std::int64_t now_ms, int count);

} // namespace centrali::triggers

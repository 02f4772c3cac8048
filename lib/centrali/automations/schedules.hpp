#pragma once
// Schedule-triggered automations: one pass of the scheduler over them. A
// tick starts a run only in the process that moves the schedule past it,
// so several listeners on one store start each tick once.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "centrali/store/automations.hpp"
#include "centrali/store/group_commit.hpp"

namespace centrali::automations {

struct ScheduleTick {
  int started = 0;                        // runs started by this pass
  std::optional<std::int64_t> earliest;   // the next tick of any schedule
};

// Starts a run for each schedule tick due by `now_ms` and moves each
// schedule to its next tick; with `restart`, first recomputes every next
// tick from now (missed ticks are not replayed). `reader` reads the
// automations; writes go through `writer`.
Result<ScheduleTick> tick_schedules(store::Store& reader, store::GroupCommitter& writer, std::int64_t now_ms,
                                    bool restart, const std::function<void(const std::string&)>& log);

// The first tick strictly after `after_ms` of a schedule automation; none
// when it never fires again.
Result<std::optional<std::int64_t>> next_tick_after(const store::Automation& automation, std::int64_t after_ms);

} // namespace centrali::automations

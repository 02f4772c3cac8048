#include "centrali/automations/schedules.hpp"

#include <vector>

#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/timing.hpp"
#include "centrali/util/ids.hpp"

namespace centrali::automations {
namespace {

// The timing rules are the triggers' (triggers/timing.hpp): one rule for
// when a cron, an interval or an instant fires.
store::Trigger as_schedule(const store::Automation& a)
{
  store::Trigger t;
  t.name = a.name;
  t.kind = "schedule";
  t.cron = a.cron;
  t.tz = a.tz;
  t.every_ms = a.every_ms;
  t.at_ms = a.at_ms;
  t.next_fire_ms = a.next_fire_ms;
  return t;
}

} // namespace

Result<std::optional<std::int64_t>> next_tick_after(const store::Automation& automation, std::int64_t after_ms)
{
  return triggers::next_fire_after(as_schedule(automation), after_ms);
}

Result<ScheduleTick> tick_schedules(store::Store& reader, store::GroupCommitter& writer, std::int64_t now_ms,
                                    bool restart, const std::function<void(const std::string&)>& log)
{
  auto all = store::list_automations(reader);
  if (!all) return std::unexpected(all.error());
  struct Fire {
    const store::Automation* automation;
    std::int64_t due_ms;
    std::optional<std::int64_t> next_ms;
    bool reset_only;
  };
  std::vector<Fire> fires;
  ScheduleTick tick;
  auto consider = [&](std::optional<std::int64_t> next) {
    if (next && (!tick.earliest || *next < *tick.earliest)) tick.earliest = next;
  };
  for (const auto& a : *all) {
    if (a.trigger != "schedule" || a.paused) continue;
    const auto t = as_schedule(a);
    if (restart || (!a.next_fire_ms && !a.at_ms)) {
      auto next = triggers::next_fire_after(t, now_ms);
      if (!next) {
        log("automation schedule " + a.name + ": " + next.error().message);
        continue;
      }
      if (*next != a.next_fire_ms) fires.push_back({&a, 0, *next, true});
      consider(*next);
      continue;
    }
    if (!a.next_fire_ms) continue;
    if (*a.next_fire_ms > now_ms) {
      consider(a.next_fire_ms);
      continue;
    }
    auto next = triggers::following_fire(t, *a.next_fire_ms, now_ms);
    if (!next) {
      log("automation schedule " + a.name + ": " + next.error().message);
      continue;
    }
    fires.push_back({&a, *a.next_fire_ms, *next, false});
    consider(*next);
  }
  if (fires.empty()) return tick;
  auto done = writer
                  .submit([&](store::Store& s) -> Result<void> {
                    tick.started = 0;
                    for (const auto& f : fires) {
                      if (f.reset_only) {
                        auto r = store::set_automation_next_fire(s, f.automation->name, f.next_ms);
                        if (!r && r.error().kind != ErrorKind::not_found) return r;
                        continue;
                      }
                      auto moved = store::advance_automation_schedule(s, f.automation->name, f.due_ms, f.next_ms);
                      if (!moved) return std::unexpected(moved.error());
                      if (!*moved) continue;  // another process fired this tick
                      store::AutomationRun run;
                      run.id = ids::make(ids::k_automation_run);
                      run.automation = f.automation->name;
                      run.definition = f.automation->definition;
                      run.status = "running";
                      run.origin = "schedule";
                      run.input = triggers::dump_json(triggers::schedule_params(f.due_ms, now_ms));
                      run.due_ms = run.created_ms = run.updated_ms = now_ms;
                      if (auto ins = store::insert_automation_run(s, run); !ins) return ins;
                      ++tick.started;
                    }
                    return {};
                  })
                  .get();
  if (!done) return std::unexpected(done.error());
  return tick;
}

} // namespace centrali::automations

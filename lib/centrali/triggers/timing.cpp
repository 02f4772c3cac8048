#include "centrali/triggers/timing.hpp"

#include "centrali/schedule/cron.hpp"
#include "centrali/schedule/zone.hpp"

namespace centrali::triggers {
namespace {

Result<schedule::Zone> zone_of(const store::Trigger& t)
{
  if (t.tz.empty()) return schedule::Zone::utc();
  return schedule::Zone::locate(t.tz);
}

} // namespace

Result<std::optional<std::int64_t>> next_fire_after(const store::Trigger& t, std::int64_t after_ms)
{
  if (!t.cron.empty()) {
    auto cron = schedule::Cron::parse(t.cron);
    if (!cron) return std::unexpected(cron.error());
    auto zone = zone_of(t);
    if (!zone) return std::unexpected(zone.error());
    return cron->next_after(after_ms, *zone);
  }
  if (t.every_ms && *t.every_ms > 0) return after_ms + *t.every_ms;
  if (t.at_ms) return *t.at_ms > after_ms ? std::optional<std::int64_t>(*t.at_ms) : std::nullopt;
  return std::optional<std::int64_t>();
}

Result<std::optional<std::int64_t>> following_fire(const store::Trigger& t, std::int64_t due_ms, std::int64_t now_ms)
{
  if (t.every_ms && *t.every_ms > 0) {
    std::int64_t every = *t.every_ms;
    std::int64_t next = due_ms + every;
    if (next <= now_ms) next += ((now_ms - next) / every + 1) * every;
    return next;
  }
  return next_fire_after(t, std::max(due_ms, now_ms));
}

Result<std::vector<std::int64_t>> upcoming_fires(const store::Trigger& t, std::int64_t now_ms, int count)
{
  std::vector<std::int64_t> out;
  std::optional<std::int64_t> next;
  if (t.next_fire_ms && *t.next_fire_ms > now_ms) {
    next = t.next_fire_ms;
  } else {
    auto first = next_fire_after(t, now_ms);
    if (!first) return std::unexpected(first.error());
    next = *first;
  }
  while (next && static_cast<int>(out.size()) < count) {
    out.push_back(*next);
    auto after = next_fire_after(t, *next);
    if (!after) return std::unexpected(after.error());
    next = *after;
  }
  return out;
}

} // namespace centrali::triggers

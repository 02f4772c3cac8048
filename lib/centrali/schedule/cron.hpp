#pragma once
// Cron schedules: standard 5-field expressions evaluated in a time zone.
//
// Syntax (as Vixie cron / cronie): `minute hour day-of-month month day-of-week`,
// each field `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`
// (a through the field's maximum), or a comma list of those. Months take
// JAN–DEC and weekdays SUN–SAT, in any case; weekday 0 and 7 are both Sunday.
// Macros: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually.
//
// Day rule (Vixie): when both day-of-month and day-of-week are restricted (the
// field does not start with `*`), a day matches if EITHER matches —
// `0 0 1 * MON` fires on the 1st and on every Monday. When either starts with
// `*` (including `*/2`), both must match.
//
// Daylight saving time. Fire times are local wall-clock times in the zone,
// handled much as cronie does (cronie also treats a `*` minute field as
// "follows real time"; here only the hour field decides, so `*/30 2 * * *`
// still runs on the spring-forward day):
// - Jobs whose hour field is fixed (`30 2 * * *`, `0 9-17 * * *`) are
//   "fixed-time" jobs. A wall time that does not exist (spring-forward gap)
//   fires once, at the first instant after the gap: `30 2 * * *` in
//   Europe/Berlin on 2026-03-29 fires at 03:00 CEST. Several missing times of
//   one gap collapse into that single fire. A wall time that happens twice
//   (fall-back overlap) fires once, at its first occurrence.
// - Jobs whose hour field starts with `*` (`0 * * * *`, `*/5 * * * *`,
//   `0 */2 * * *`) follow real time: a missing wall time is skipped and a
//   repeated one fires at both occurrences, so `0 * * * *` fires at every real
//   hour across both transitions, never twice at one instant, never skipping one.
// Zone data comes from zone.hpp; see there for its post-2037 limit.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/schedule/zone.hpp"
#include "centrali/util/error.hpp"

namespace centrali::schedule {

// The expanded value sets of a cron expression; bit i set means value i matches.
struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bits 1–31
  std::bitset<13> months;         // bits 1–12
  std::bitset<7> days_of_week;    // bit 0 = Sunday
  bool dom_star = false;          // day-of-month field starts with `*`
  bool dow_star = false;          // day-of-week field starts with `*`
  bool hour_star = false;         // hour field starts with `*` (real-time DST handling)
};

// A parsed 5-field cron expression (minute hour day-of-month month day-of-week) or @macro.
class Cron {
public:
  // Parses `expr`; errors are ErrorKind::usage naming the bad field and why, e.g.
  // "invalid cron '0 25 * * *': hour field '25' is out of range 0-23".
  static Result<Cron> parse(std::string_view expr);

  // The first fire time strictly after `after_ms` (Unix ms), evaluated in zone
  // `tz`; a whole minute (or, inside a gap, the instant the gap ends). nullopt
  // when nothing matches within about eight years (e.g. `0 0 30 2 *`).
  std::optional<std::int64_t> next_after(std::int64_t after_ms, const Zone& tz) const;

  // The expression as given (trimmed).
  const std::string& text() const { return m_text; }

  // The expanded fields, for display and tests.
  const CronFields& fields() const { return m_fields; }

private:
  Cron(std::string text, CronFields fields) : m_text(std::move(text)), m_fields(fields) {}

  bool day_matches(int month, int day_of_month, int day_of_week) const;
  std::optional<std::int64_t> first_on_day(std::int64_t day, std::int64_t after_ms, const Zone& tz, bool& alone) const;

  std::string m_text;
  CronFields m_fields;
};

// The next `count` fire times after `after_ms`, ascending; fewer when the
// schedule runs out (an impossible expression gives none).
std::vector<std::int64_t> next_fires(const Cron& cron, const Zone& tz, std::int64_t after_ms, int count);

} // namespace centrali::schedule

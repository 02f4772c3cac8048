#pragma once
// Time zones for schedules: which real instants a local wall-clock time names.
// Backed by the system tz database (/usr/share/zoneinfo) through Howard
// Hinnant's date/tz library, because g++ 12's <chrono> has no time zones.
//
// Known limit: that library reads the transitions listed in the TZif files and
// ignores their POSIX-rule footer. Debian's tzdata lists transitions up to
// 2037, so wall times after 2037 are mapped with the zone's last listed offset
// (standard time) rather than the DST rule.
#include <cstdint>
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"

namespace date {
class time_zone;
}

namespace centrali::schedule {

// How one local wall-clock time maps to real instants (seconds since the epoch).
struct LocalMapping {
  enum class Kind {
    unique,    // exists once: `first`
    skipped,   // falls in a spring-forward gap: `first` is the instant the gap ends
    repeated,  // falls in a fall-back overlap: `first`, then again at `second`
  };
  Kind kind = Kind::unique;
  std::int64_t first = 0;
  std::int64_t second = 0;
};

// A stretch of real time with one UTC offset: [begin, end) in Unix seconds.
struct OffsetSpan {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t offset = 0;  // seconds east of UTC
};

// A named time zone. Cheap to copy; the underlying rules live for the whole
// program. Safe to use from many threads at once.
class Zone {
public:
  // "UTC" (any case; needs no tz database), or an IANA name such as
  // "Europe/Berlin". Unknown names are ErrorKind::usage "unknown time zone 'X'".
  static Result<Zone> locate(std::string_view name);

  // The UTC zone, which never fails.
  static Zone utc();

  // The name as given to locate ("UTC" for utc()).
  const std::string& name() const { return m_name; }

  // Where a local wall time (seconds since 1970-01-01T00:00 on the wall clock)
  // falls in real time.
  LocalMapping resolve(std::int64_t local_s) const;

  // The offset in force at a real instant and how long it lasts around it.
  OffsetSpan span_at(std::int64_t unix_s) const;

  // Seconds east of UTC at a real instant (3600 for Berlin in winter).
  std::int64_t offset_at(std::int64_t unix_s) const { return span_at(unix_s).offset; }

  // RFC 3339 in this zone's local time: `2026-03-29T03:00:00+02:00`, or with
  // `Z` for the UTC zone; milliseconds shown only when non-zero.
  std::string format_local(std::int64_t unix_ms) const;

private:
  Zone(const date::time_zone* tz, std::string name) : m_tz(tz), m_name(std::move(name)) {}

  const date::time_zone* m_tz = nullptr;  // nullptr means UTC
  std::string m_name;
};

} // namespace centrali::schedule

#include "centrali/schedule/zone.hpp"

#include <date/tz.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace centrali::schedule {
namespace {

using std::chrono::seconds;

date::sys_seconds to_sys(std::int64_t unix_s) { return date::sys_seconds(seconds(unix_s)); }
std::int64_t from_sys(date::sys_seconds t) { return t.time_since_epoch().count(); }

bool is_utc_name(std::string_view name)
{
  if (name.size() != 3) return false;
  auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  return up(name[0]) == 'U' && up(name[1]) == 'T' && up(name[2]) == 'C';
}

// Floor division, so instants before 1970 land on the right day and second.
std::int64_t floor_div(std::int64_t a, std::int64_t b)
{
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

} // namespace

Result<Zone> Zone::locate(std::string_view name)
{
  // UTC needs no database, so schedules in UTC work even without tzdata.
  if (is_utc_name(name)) return Zone(nullptr, std::string(name));
  auto unknown = [&] { return fail(ErrorKind::usage, "unknown time zone '" + std::string(name) + "'"); };
  // Names are paths under /usr/share/zoneinfo; refuse anything that could
  // step outside it before the library touches the file system.
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) return unknown();
  try {
    date::get_tzdb();
  } catch (const std::exception& e) {
    // No tzdata installed (common in slim containers): say so, not "unknown".
    return fail(ErrorKind::usage, "cannot use time zone '" + std::string(name) +
                                      "': the time zone database (/usr/share/zoneinfo) cannot be read: " + e.what());
  }
  try {
    return Zone(date::locate_zone(name), std::string(name));
  } catch (const std::exception&) {
    return unknown();
  }
}

Zone Zone::utc() { return Zone(nullptr, "UTC"); }

LocalMapping Zone::resolve(std::int64_t local_s) const
{
  if (!m_tz) return {LocalMapping::Kind::unique, local_s, 0};
  auto info = m_tz->get_info(date::local_seconds(seconds(local_s)));
  switch (info.result) {
  case date::local_info::nonexistent:
    return {LocalMapping::Kind::skipped, from_sys(info.first.end), 0};
  case date::local_info::ambiguous:
    return {LocalMapping::Kind::repeated, local_s - info.first.offset.count(),
            local_s - info.second.offset.count()};
  default:
    return {LocalMapping::Kind::unique, local_s - info.first.offset.count(), 0};
  }
}

OffsetSpan Zone::span_at(std::int64_t unix_s) const
{
  if (!m_tz) return {INT64_MIN, INT64_MAX, 0};
  auto info = m_tz->get_info(to_sys(unix_s));
  return {from_sys(info.begin), from_sys(info.end), info.offset.count()};
}

std::string Zone::format_local(std::int64_t unix_ms) const
{
  std::int64_t unix_s = floor_div(unix_ms, 1000);
  int ms = static_cast<int>(unix_ms - unix_s * 1000);
  std::int64_t offset = offset_at(unix_s);
  std::int64_t local_s = unix_s + offset;
  std::int64_t day = floor_div(local_s, 86400);
  std::int64_t sod = local_s - day * 86400;
  date::year_month_day ymd{date::sys_days(date::days(static_cast<int>(day)))};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", ms);
    out += buf;
  }
  if (!m_tz) return out + "Z";
  std::int64_t a = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', static_cast<int>(a / 3600),
                static_cast<int>(a / 60 % 60));
  return out + buf;
}

} // namespace centrali::schedule

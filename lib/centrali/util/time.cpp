#include "centrali/util/time.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>

namespace centrali::timeutil {
namespace {

bool parse_int(std::string_view s, std::int64_t& out)
{
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// Days since the epoch for a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The civil date of a day count since the epoch (the same algorithm, inverted).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d)
{
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

void put_digits(char* at, unsigned value, int width)
{
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// How far `dispatch --fast-forward` has moved this process's clock ahead
// of the system's. Only ever grows, so now_ms() never goes back.
std::atomic<std::int64_t> g_offset_ms{0};

std::int64_t system_now_ms()
{
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

std::int64_t now_ms()
{
  return system_now_ms() + g_offset_ms.load(std::memory_order_relaxed);
}

std::int64_t clock_offset_ms()
{
  return g_offset_ms.load(std::memory_order_relaxed);
}

void jump_clock_to(std::int64_t unix_ms)
{
  const std::int64_t wanted = unix_ms - system_now_ms();
  auto offset = g_offset_ms.load();
  // Forward only: a concurrent jump that went further wins.
  while (wanted > offset && !g_offset_ms.compare_exchange_weak(offset, wanted)) {
  }
}

Result<Millis> parse_duration(std::string_view text)
{
  auto bad = [&] {
    return fail(ErrorKind::usage, "invalid duration '" + std::string(text) +
                                      "' (expected e.g. 500ms, 30s, 2m, 1h, 1d)");
  };
  if (text.empty()) return bad();
  // A bare number is refused rather than read as seconds: `--disable-after 5`
  // meant as minutes or days would quietly be five seconds. This is the one
  // place the rule lives, for every flag and file that takes a duration.
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    const std::string n(text);
    return fail(ErrorKind::usage, "duration '" + n + "' has no unit; give a unit, e.g. " + n + "s or " + n + "m");
  }
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    std::int64_t n = 0;
    if (!parse_int(text.substr(start, i - start), n) || n > 1'000'000'000) return bad();
    std::size_t ustart = i;
    while (i < text.size() && !(text[i] >= '0' && text[i] <= '9')) ++i;
    auto unit = text.substr(ustart, i - ustart);
    std::int64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else return bad();
    total += n * scale;
  }
  return Millis(total);
}

Result<std::int64_t> parse_instant(std::string_view text)
{
  auto bad = [&] {
    return fail(ErrorKind::usage, "invalid time '" + std::string(text) +
                                      "' (expected RFC 3339 like 2026-11-27T10:00:00Z, a date like 2026-11-27, or Unix seconds)");
  };
  std::int64_t unix_s = 0;
  if (parse_int(text, unix_s)) return unix_s * 1000;
  // A date alone (YYYY-MM-DD) is its midnight, UTC: `--since 2026-11-29`.
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    std::string midnight(text);
    midnight += "T00:00:00Z";
    auto r = parse_instant(midnight);
    if (!r) return bad();
    return r;
  }
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|±hh:mm)
  if (text.size() < 20) return bad();
  std::int64_t y, mo, d, h, mi, s;
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':')
    return bad();
  if (!parse_int(text.substr(0, 4), y) || !parse_int(text.substr(5, 2), mo) ||
      !parse_int(text.substr(8, 2), d) || !parse_int(text.substr(11, 2), h) ||
      !parse_int(text.substr(14, 2), mi) || !parse_int(text.substr(17, 2), s))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  std::size_t i = 19;
  std::int64_t frac_ms = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return bad();
    for (; digits < 3; ++digits) frac_ms *= 10;
  }
  std::int64_t offset_s = 0;
  auto zone = text.substr(i);
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    std::int64_t oh, om;
    if (!parse_int(zone.substr(1, 2), oh) || !parse_int(zone.substr(4, 2), om)) return bad();
    offset_s = (oh * 3600 + om * 60) * (zone[0] == '+' ? 1 : -1);
  } else {
    return bad();
  }
  auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + s) - offset_s) * 1000 + frac_ms;
}

Result<std::int64_t> parse_since(std::string_view text, std::int64_t now)
{
  if (!text.empty() && text.find_first_not_of("0123456789") != std::string_view::npos &&
      text.find('-') == std::string_view::npos) {
    auto d = parse_duration(text);
    if (!d) return std::unexpected(d.error());
    return now - d->count();
  }
  return parse_instant(text);
}

std::string format_rfc3339(std::int64_t unix_ms)
{
  // Digits by hand: snprintf, and gmtime_r (which takes glibc's time zone
  // lock), cost more than the rest of building a webhook envelope, which
  // carries one of these per event. The year is written as %04d would,
  // also outside 0–9999.
  auto floor_div = [](std::int64_t a, std::int64_t b) { return a / b - (a % b < 0 ? 1 : 0); };
  const std::int64_t secs = floor_div(unix_ms, 1000);
  const auto ms = static_cast<unsigned>(unix_ms - secs * 1000);
  const std::int64_t days = floor_div(secs, 86400);
  const auto day_secs = static_cast<unsigned>(secs - days * 86400);
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  std::string out;
  if (year >= 0 && year <= 9999) {
    out.resize(4);
    put_digits(out.data(), static_cast<unsigned>(year), 4);
  } else {
    auto digits = std::to_string(year < 0 ? -year : year);
    const std::size_t width = year < 0 ? 3 : 4;  // %04d counts the sign
    if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
    out = (year < 0 ? "-" : "") + digits;
  }
  char rest[] = "-00-00T00:00:00.000Z";
  put_digits(rest + 1, month, 2);
  put_digits(rest + 4, day, 2);
  put_digits(rest + 7, day_secs / 3600, 2);
  put_digits(rest + 10, day_secs / 60 % 60, 2);
  put_digits(rest + 13, day_secs % 60, 2);
  if (ms == 0) {
    rest[15] = 'Z';
    out.append(rest, 16);
  } else {
    put_digits(rest + 16, ms, 3);
    out.append(rest, 20);
  }
  return out;
}

std::string relative(std::int64_t unix_ms, std::int64_t now)
{
  // Past times round down (`0s ago`: it just happened); future ones round
  // up, so a retry 80 ms away reads `in 1s`, never `0s ago`.
  const bool future = unix_ms > now;
  const std::int64_t ms = future ? unix_ms - now : now - unix_ms;
  const std::int64_t a = future ? (ms + 999) / 1000 : ms / 1000;
  std::string amount;
  if (a < 60) amount = std::to_string(a) + "s";
  else if (a < 3600) amount = std::to_string(a / 60) + "m";
  else if (a < 86400) amount = std::to_string(a / 3600) + "h";
  else amount = std::to_string(a / 86400) + "d";
  return future ? "in " + amount : amount + " ago";
}

std::string format_duration_exact(Millis d)
{
  const auto ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_duration(Millis d)
{
  auto ms = d.count();
  char buf[32];
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  // Beyond a minute: the two largest units, rounded to the smaller
  // (`1m30s`, `47h59m`; a jumped clock's 172799988ms reads `48h`).
  if (ms < 3'600'000) {
    const auto s = (ms + 500) / 1000;
    if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  }
  const auto m = (ms + 30'000) / 60'000;
  return std::to_string(m / 60) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
}

} // namespace centrali::timeutil

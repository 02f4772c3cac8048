#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "centrali/schedule/cron.hpp"
#include "centrali/util/time.hpp"

using namespace centrali;
using namespace centrali::schedule;

namespace {

std::int64_t at(const char* rfc3339) { return *timeutil::parse_instant(rfc3339); }

Cron cron(const char* expr)
{
  auto c = Cron::parse(expr);
  INFO(expr << ": " << (c ? "" : c.error().message));
  REQUIRE(c);
  return *c;
}

Zone zone(const char* name)
{
  auto z = Zone::locate(name);
  REQUIRE(z);
  return *z;
}

// Fire times as RFC 3339 UTC, so a failing check shows readable times.
std::vector<std::string> fires(const char* expr, const char* tz, const char* after, int count)
{
  std::vector<std::string> out;
  for (auto t : next_fires(cron(expr), zone(tz), at(after), count)) out.push_back(timeutil::format_rfc3339(t));
  return out;
}

std::string next(const char* expr, const char* after, const char* tz = "UTC")
{
  auto t = cron(expr).next_after(at(after), zone(tz));
  return t ? timeutil::format_rfc3339(*t) : "none";
}

std::string parse_error(const char* expr)
{
  auto c = Cron::parse(expr);
  if (c) return "(parsed)";
  CHECK(c.error().kind == ErrorKind::usage);
  return c.error().message;
}

template <std::size_t N>
std::vector<int> bits(const std::bitset<N>& b)
{
  std::vector<int> out;
  for (std::size_t i = 0; i < N; ++i)
    if (b[i]) out.push_back(static_cast<int>(i));
  return out;
}

using V = std::vector<int>;
using S = std::vector<std::string>;

} // namespace

TEST_CASE("schedule::Cron::parse expands lists, ranges, steps and names", "[cron]")
{
  auto c = cron("5,10-12 */6 1-31/10 JAN-MAR/2 mon-fri");
  CHECK(bits(c.fields().minutes) == V{5, 10, 11, 12});
  CHECK(bits(c.fields().hours) == V{0, 6, 12, 18});
  CHECK(bits(c.fields().days_of_month) == V{1, 11, 21, 31});
  CHECK(bits(c.fields().months) == V{1, 3});
  CHECK(bits(c.fields().days_of_week) == V{1, 2, 3, 4, 5});
  CHECK(c.text() == "5,10-12 */6 1-31/10 JAN-MAR/2 mon-fri");

  CHECK(bits(cron("0/15 * * * *").fields().minutes) == V{0, 15, 30, 45});
  CHECK(bits(cron("30/15 * * * *").fields().minutes) == V{30, 45});
  CHECK(bits(cron("* 22/1 * * *").fields().hours) == V{22, 23});
  CHECK(cron("* * * * *").fields().minutes.count() == 60);
  CHECK(bits(cron("0 0 * dec,Jan *").fields().months) == V{1, 12});
  // Weekday 0 and 7 are both Sunday; ranges may end at 7 or at SUN.
  CHECK(bits(cron("0 0 * * 0").fields().days_of_week) == V{0});
  CHECK(bits(cron("0 0 * * 7").fields().days_of_week) == V{0});
  CHECK(bits(cron("0 0 * * 5-7").fields().days_of_week) == V{0, 5, 6});
  CHECK(bits(cron("0 0 * * FRI-SUN").fields().days_of_week) == V{0, 5, 6});
  CHECK(bits(cron("0 0 * * *").fields().days_of_week) == V{0, 1, 2, 3, 4, 5, 6});
  CHECK(bits(cron("0 0 * * */2").fields().days_of_week) == V{0, 2, 4, 6});
  // Surrounding and repeated whitespace is not significant.
  CHECK(cron("  0\t0  * * *  ").text() == "0\t0  * * *");
}

TEST_CASE("schedule::Cron::parse records which fields start with a star", "[cron]")
{
  auto daily = cron("30 2 * * *").fields();
  CHECK(daily.dom_star);
  CHECK(daily.dow_star);
  CHECK_FALSE(daily.hour_star);
  auto both = cron("0 0 1 * MON").fields();
  CHECK_FALSE(both.dom_star);
  CHECK_FALSE(both.dow_star);
  CHECK(cron("0 */2 */3 * *").fields().hour_star);
  CHECK(cron("0 */2 */3 * *").fields().dom_star);
}

TEST_CASE("schedule::Cron::parse expands the @ macros", "[cron]")
{
  CHECK(next("@hourly", "2026-11-27T10:00:00Z") == "2026-11-27T11:00:00Z");
  CHECK(next("@daily", "2026-11-27T10:00:00Z") == "2026-11-28T00:00:00Z");
  CHECK(next("@midnight", "2026-11-27T10:00:00Z") == "2026-11-28T00:00:00Z");
  CHECK(next("@weekly", "2026-11-27T10:00:00Z") == "2026-11-29T00:00:00Z");  // Sunday
  CHECK(next("@monthly", "2026-11-27T10:00:00Z") == "2026-12-01T00:00:00Z");
  CHECK(next("@yearly", "2026-11-27T10:00:00Z") == "2027-01-01T00:00:00Z");
  CHECK(next("@annually", "2026-11-27T10:00:00Z") == "2027-01-01T00:00:00Z");
  CHECK(next("@DAILY", "2026-11-27T10:00:00Z") == "2026-11-28T00:00:00Z");
  CHECK(cron("@daily").text() == "@daily");
}

TEST_CASE("schedule::Cron::parse names the bad field and why", "[cron]")
{
  CHECK(parse_error("0 25 * * *") == "invalid cron '0 25 * * *': hour field '25' is out of range 0-23");
  CHECK(parse_error("60 * * * *") == "invalid cron '60 * * * *': minute field '60' is out of range 0-59");
  CHECK(parse_error("* * 0 * *") == "invalid cron '* * 0 * *': day-of-month field '0' is out of range 1-31");
  CHECK(parse_error("* * 32 * *") == "invalid cron '* * 32 * *': day-of-month field '32' is out of range 1-31");
  CHECK(parse_error("* * * 13 *") == "invalid cron '* * * 13 *': month field '13' is out of range 1-12");
  CHECK(parse_error("* * * * 8") == "invalid cron '* * * * 8': day-of-week field '8' is out of range 0-7");
  CHECK(parse_error("1-70 * * * *") == "invalid cron '1-70 * * * *': minute field '70' is out of range 0-59");
  CHECK(parse_error("99999999999 * * * *").find("out of range 0-59") != std::string::npos);

  CHECK(parse_error("* * * *") ==
        "invalid cron '* * * *': expected 5 fields (minute hour day-of-month month day-of-week) or a @macro, got 4");
  CHECK(parse_error("0 * * * * *").find("got 6 (seconds and year fields are not supported)") != std::string::npos);
  CHECK(parse_error("").find("got 0") != std::string::npos);
  CHECK(parse_error("   ").find("got 0") != std::string::npos);

  CHECK(parse_error("*/0 * * * *") ==
        "invalid cron '*/0 * * * *': minute field '*/0' has step 0 (a step must be at least 1)");
  CHECK(parse_error("* 1-10/0 * * *").find("hour field '1-10/0' has step 0") != std::string::npos);
  CHECK(parse_error("*/ * * * *").find("minute field '*/' has an empty step") != std::string::npos);
  CHECK(parse_error("*/x * * * *").find("minute field '*/x' has a step that is not a number") != std::string::npos);
  CHECK(parse_error("*/61 * * * *").find("step larger than the field's range") != std::string::npos);

  CHECK(parse_error("5-1 * * * *") ==
        "invalid cron '5-1 * * * *': minute field range '5-1' is reversed (write it low-high)");
  CHECK(parse_error("0 0 * * FRI-MON").find("day-of-week field range 'FRI-MON' is reversed") != std::string::npos);
  CHECK(parse_error("-5 * * * *").find("minute field range '-5' needs a value on both sides") != std::string::npos);
  CHECK(parse_error("5- * * * *").find("needs a value on both sides") != std::string::npos);

  CHECK(parse_error("x * * * *") == "invalid cron 'x * * * *': minute field 'x' is not a number");
  CHECK(parse_error("MON * * * *").find("minute field 'MON' is not a number") != std::string::npos);
  CHECK(parse_error("* * * FOO *") ==
        "invalid cron '* * * FOO *': month field 'FOO' is not a number or a name (JAN-DEC)");
  CHECK(parse_error("* * * * sunday").find("day-of-week field 'sunday' is not a number or a name (SUN-SAT)") !=
        std::string::npos);
  CHECK(parse_error("? * * * *").find("minute field '?' is not a number") != std::string::npos);
  CHECK(parse_error("1.5 * * * *").find("minute field '1.5' is not a number") != std::string::npos);

  CHECK(parse_error("1,,2 * * * *") == "invalid cron '1,,2 * * * *': minute field '1,,2' has an empty list item");
  CHECK(parse_error("1, * * * *").find("has an empty list item") != std::string::npos);
  CHECK(parse_error(",1 * * * *").find("has an empty list item") != std::string::npos);

  CHECK(parse_error("@reboot").find("invalid cron '@reboot': unknown macro (expected @hourly") != std::string::npos);
  CHECK(parse_error("@fortnightly").find("unknown macro") != std::string::npos);
  CHECK(parse_error("@daily 5").find("unknown macro") != std::string::npos);
}

TEST_CASE("schedule::Cron::next_after finds the next fire for common expressions in UTC", "[cron]")
{
  // 2026-11-27 is a Friday.
  CHECK(next("* * * * *", "2026-11-27T10:00:00Z") == "2026-11-27T10:01:00Z");
  CHECK(next("* * * * *", "2026-11-27T10:00:59.999Z") == "2026-11-27T10:01:00Z");
  CHECK(next("*/15 * * * *", "2026-11-27T10:00:00Z") == "2026-11-27T10:15:00Z");
  CHECK(next("*/15 * * * *", "2026-11-27T10:07:30Z") == "2026-11-27T10:15:00Z");
  CHECK(next("*/15 * * * *", "2026-11-27T23:50:00Z") == "2026-11-28T00:00:00Z");
  CHECK(next("30 9 * * *", "2026-11-27T09:29:00Z") == "2026-11-27T09:30:00Z");
  CHECK(next("30 9 * * *", "2026-11-27T09:30:00Z") == "2026-11-28T09:30:00Z");  // strictly after
  CHECK(next("0 9 * * MON-FRI", "2026-11-27T10:00:00Z") == "2026-11-30T09:00:00Z");
  CHECK(next("0 0 * * 7", "2026-11-27T10:00:00Z") == "2026-11-29T00:00:00Z");
  CHECK(next("0 12 * JAN,jul *", "2026-11-27T10:00:00Z") == "2027-01-01T12:00:00Z");
  CHECK(next("0 0 31 * *", "2026-11-27T10:00:00Z") == "2026-12-31T00:00:00Z");
  CHECK(next("0 0 29 2 *", "2026-11-27T10:00:00Z") == "2028-02-29T00:00:00Z");
  // 2100 is not a leap year: the next Feb 29 after 2096 is in 2104.
  CHECK(next("0 0 29 2 *", "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z");
  CHECK(next("59 23 31 12 *", "2026-12-31T23:59:00Z") == "2027-12-31T23:59:00Z");

  CHECK(fires("*/20 9-10 * * *", "UTC", "2026-11-27T09:30:00Z", 5) ==
        S{"2026-11-27T09:40:00Z", "2026-11-27T10:00:00Z", "2026-11-27T10:20:00Z", "2026-11-27T10:40:00Z",
          "2026-11-28T09:00:00Z"});
}

TEST_CASE("schedule::Cron::next_after uses the Vixie day rule: restricted day fields match with OR", "[cron]")
{
  // Both restricted: the 1st of the month OR any Monday.
  CHECK(fires("0 0 1 * MON", "UTC", "2026-11-27T10:00:00Z", 4) ==
        S{"2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"});
  // A day field starting with `*` makes it AND: odd days that are Mondays.
  CHECK(fires("0 0 */2 * MON", "UTC", "2026-11-27T10:00:00Z", 2) ==
        S{"2026-12-07T00:00:00Z", "2026-12-21T00:00:00Z"});
  // Only one restricted: that one decides.
  CHECK(next("0 0 13 * *", "2026-11-27T10:00:00Z") == "2026-12-13T00:00:00Z");
  CHECK(next("0 0 * * FRI", "2026-11-27T10:00:00Z") == "2026-12-04T00:00:00Z");
}

TEST_CASE("schedule::next_fires returns the requested count in order", "[cron]")
{
  auto c = cron("0 */6 * * *");
  auto z = Zone::utc();
  auto list = next_fires(c, z, at("2026-11-27T10:00:00Z"), 5);
  REQUIRE(list.size() == 5);
  CHECK(timeutil::format_rfc3339(list.front()) == "2026-11-27T12:00:00Z");
  CHECK(timeutil::format_rfc3339(list.back()) == "2026-11-28T12:00:00Z");
  CHECK(std::is_sorted(list.begin(), list.end()));
  CHECK(next_fires(c, z, 0, 0).empty());
}

// How fast these are is measured by bench/timings.sh; here, what they answer.
TEST_CASE("schedule::Cron::next_after gives up on impossible expressions", "[cron]")
{
  CHECK(next("0 0 30 2 *", "2026-01-01T00:00:00Z") == "none");
  CHECK(next("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z") == "none");
  CHECK(next("0 0 30 2 *", "2026-01-01T00:00:00Z", "Europe/Berlin") == "none");
  CHECK(next_fires(cron("0 0 31 2 *"), Zone::utc(), at("2026-01-01T00:00:00Z"), 5).empty());
  // A possible-but-rare date still beats an impossible one: Feb 30 OR Mondays in Feb.
  CHECK(next("0 0 30 2 MON", "2026-01-01T00:00:00Z") == "2026-02-02T00:00:00Z");
}

TEST_CASE("schedule::Cron::next_after walks dense and sparse schedules", "[cron]")
{
  auto z = zone("Europe/Berlin");
  auto every_minute = next_fires(cron("* * * * *"), z, at("2026-03-28T00:00:00Z"), 3000);
  CHECK(every_minute.size() == 3000);
  for (std::size_t i = 1; i < every_minute.size(); ++i) REQUIRE(every_minute[i] - every_minute[i - 1] == 60'000);
  auto yearly = next_fires(cron("0 0 29 2 *"), z, at("2026-01-01T00:00:00Z"), 5);
  CHECK(yearly.size() == 5);
  for (auto when : yearly) CHECK(timeutil::format_rfc3339(when).substr(4) == "-02-28T23:00:00Z");  // Feb 29, 00:00 in Berlin
}

TEST_CASE("schedule::Cron::next_after in Europe/Berlin spring-forward fires a missing time once after the gap",
          "[cron]")
{
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
  CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 3) ==
        S{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"});
  CHECK(zone("Europe/Berlin").format_local(at("2026-03-29T01:00:00Z")) == "2026-03-29T03:00:00+02:00");
  // Several missing times of one gap, and a time right after it, are one fire.
  CHECK(fires("0,30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 2) ==
        S{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"});
  CHECK(fires("0 2,3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 3) ==
        S{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T01:00:00Z"});
  // Times around the gap are unaffected.
  CHECK(fires("30 1,3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 2) ==
        S{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"});
}

TEST_CASE("schedule::Cron::next_after in Europe/Berlin keeps hourly jobs on every real hour across DST", "[cron]")
{
  // Spring: 01:00 CET, then 03:00 CEST one real hour later; no extra fire for 02:00.
  CHECK(fires("0 * * * *", "Europe/Berlin", "2026-03-28T23:30:00Z", 3) ==
        S{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"});
  CHECK(fires("30 * * * *", "Europe/Berlin", "2026-03-28T23:45:00Z", 3) ==
        S{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"});
  CHECK(fires("*/30 * * * *", "Europe/Berlin", "2026-03-28T23:45:00Z", 4) ==
        S{"2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"});
  // Autumn: 02:00 happens twice (CEST at 00:00Z, CET at 01:00Z); both are real hours.
  CHECK(fires("0 * * * *", "Europe/Berlin", "2026-10-24T22:30:00Z", 4) ==
        S{"2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"});
  CHECK(fires("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:45:00Z", 5) ==
        S{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z",
          "2026-10-25T02:00:00Z"});
  // Starting inside the repeated hour still finds the second pass.
  CHECK(next("0 * * * *", "2026-10-25T00:10:00Z", "Europe/Berlin") == "2026-10-25T01:00:00Z");
  CHECK(next("0 * * * *", "2026-10-25T01:10:00Z", "Europe/Berlin") == "2026-10-25T02:00:00Z");
}

TEST_CASE("schedule::Cron::next_after in Europe/Berlin fall-back fires a repeated time once", "[cron]")
{
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 happens twice.
  CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 3) ==
        S{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"});
  // Not even when asked from between the two occurrences.
  CHECK(next("30 2 * * *", "2026-10-25T00:30:00Z", "Europe/Berlin") == "2026-10-26T01:30:00Z");
  CHECK(next("30 2 * * *", "2026-10-25T01:00:00Z", "Europe/Berlin") == "2026-10-26T01:30:00Z");
  CHECK(zone("Europe/Berlin").format_local(at("2026-10-26T01:30:00Z")) == "2026-10-26T02:30:00+01:00");
}

TEST_CASE("schedule::Cron::next_after in America/New_York handles both transitions", "[cron]")
{
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z).
  CHECK(fires("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2) ==
        S{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
  CHECK(fires("0 * * * *", "America/New_York", "2026-03-08T05:30:00Z", 3) ==
        S{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"});
  // 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00Z); 01:30 happens twice.
  CHECK(fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2) ==
        S{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
  CHECK(fires("0 * * * *", "America/New_York", "2026-11-01T04:30:00Z", 3) ==
        S{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"});
  // Weekday and date are the local ones: Monday 00:00 in New York is Monday 05:00Z.
  CHECK(next("0 0 * * MON", "2026-11-27T10:00:00Z", "America/New_York") == "2026-11-30T05:00:00Z");
  CHECK(zone("America/New_York").format_local(at("2026-11-30T05:00:00Z")) == "2026-11-30T00:00:00-05:00");
}

TEST_CASE("schedule::Zone::locate knows UTC and IANA names and rejects others", "[cron]")
{
  CHECK(Zone::locate("UTC")->name() == "UTC");
  CHECK(Zone::locate("utc"));
  CHECK(Zone::locate("Etc/UTC"));
  CHECK(Zone::locate("Europe/Berlin")->name() == "Europe/Berlin");
  CHECK(Zone::utc().format_local(at("2026-11-27T10:00:00.250Z")) == "2026-11-27T10:00:00.250Z");
  for (auto bad : {"Mars/Olympus", "", "europe/berlin", "../etc/passwd", "/etc/localtime"}) {
    auto z = Zone::locate(bad);
    REQUIRE_FALSE(z);
    CHECK(z.error().kind == ErrorKind::usage);
    CHECK(z.error().message == std::string("unknown time zone '") + bad + "'");
  }
}

namespace {

// An independent reference for the DST rules: walk real time minute by minute
// and decide for each instant whether the schedule fires there.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool wall_matches(const CronFields& f, std::int64_t wall_s)
{
  std::int64_t day = floor_div(wall_s, 86400);
  std::int64_t sod = wall_s - day * 86400;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  std::int64_t z = day + 719468;
  std::int64_t era = floor_div(z, 146097);
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  auto dom = static_cast<std::size_t>(doy - (153 * mp + 2) / 5 + 1);
  auto month = static_cast<std::size_t>(mp < 10 ? mp + 3 : mp - 9);
  auto dow = static_cast<std::size_t>(floor_div(day + 4, 7) * -7 + day + 4);  // 1970-01-01 was a Thursday
  bool day_ok = f.dom_star || f.dow_star ? f.days_of_month[dom] && f.days_of_week[dow]
                                         : f.days_of_month[dom] || f.days_of_week[dow];
  return f.months[month] && day_ok && f.hours[static_cast<std::size_t>(sod / 3600)] &&
         f.minutes[static_cast<std::size_t>(sod / 60 % 60)];
}

std::vector<std::int64_t> reference_fires(const Cron& c, const Zone& z, std::int64_t from_s, std::int64_t to_s)
{
  const auto& f = c.fields();
  std::vector<std::int64_t> out;
  for (std::int64_t t = floor_div(from_s, 60) * 60 + 60; t <= to_s; t += 60) {
    auto span = z.span_at(t);
    std::int64_t before = span.begin == INT64_MIN ? span.offset : z.offset_at(span.begin - 1);
    bool fires = false;
    // A wall time seen again after a fall-back: only real-time jobs fire twice.
    bool second_pass = before > span.offset && t - span.begin < before - span.offset;
    if (wall_matches(f, t + span.offset) && (f.hour_star || !second_pass)) fires = true;
    // The instant a spring-forward gap ends: fixed-time jobs fire for any wall
    // time the gap swallowed.
    if (t == span.begin && before < span.offset && !f.hour_star)
      for (std::int64_t w = span.begin + before; w < span.begin + span.offset; w += 60)
        if (wall_matches(f, w)) fires = true;
    if (fires) out.push_back(t * 1000);
  }
  return out;
}

} // namespace

TEST_CASE("schedule::Cron::next_after agrees with a minute-by-minute walk around every 2026 transition", "[cron]")
{
  const char* zones[] = {"Europe/Berlin",   "America/New_York", "Australia/Lord_Howe", "America/Havana",
                         "America/Santiago", "Asia/Kolkata",     "UTC"};
  const char* exprs[] = {"30 2 * * *", "0 * * * *",     "*/7 * * * *", "0,30 0-3 * * *", "15 0 * * *",
                         "* 2 * * *",  "0 0 * * *",     "45 23 * * *", "0 1 1,15 * SUN", "*/20 */2 * * *",
                         "5 0,1,23 * * *"};
  const std::int64_t year_start = at("2026-01-01T00:00:00Z") / 1000;
  const std::int64_t year_end = at("2027-01-01T00:00:00Z") / 1000;
  int transitions = 0;
  for (auto name : zones) {
    auto z = zone(name);
    std::vector<std::int64_t> points;
    for (auto span = z.span_at(year_start); span.end < year_end; span = z.span_at(span.end)) points.push_back(span.end);
    if (points.empty()) points.push_back(at("2026-06-01T00:00:00Z") / 1000);  // no DST: any day will do
    for (auto point : points) {
      ++transitions;
      for (auto expr : exprs) {
        INFO(name << " around " << timeutil::format_rfc3339(point * 1000) << ": " << expr);
        auto c = cron(expr);
        std::int64_t from = point - 2 * 86400;
        std::int64_t to = point + 2 * 86400;
        auto expected = reference_fires(c, z, from, to);
        std::vector<std::int64_t> actual;
        for (auto t : next_fires(c, z, from * 1000, 2000))
          if (t <= to * 1000) actual.push_back(t);
        REQUIRE(actual == expected);
        // Starting anywhere near the transition, not only at fire times.
        for (std::int64_t start = point - 26 * 3600; start <= point + 26 * 3600; start += 3 * 60 + 7) {
          auto next = c.next_after(start * 1000, z);
          auto want = std::upper_bound(expected.begin(), expected.end(), start * 1000);
          if (want == expected.end()) REQUIRE((!next || *next > to * 1000));  // beyond the window
          else REQUIRE(next == std::optional<std::int64_t>(*want));
        }
      }
    }
  }
  CHECK(transitions >= 9);
}

TEST_CASE("schedule::Cron::next_after gives the same answers from many threads at once", "[cron]")
{
  // Zones load lazily; several threads may be the first to touch one.
  auto c = cron("30 2 * * *");
  std::vector<std::vector<std::int64_t>> results(8);
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back([&c, &r] {
      auto z = Zone::locate("Pacific/Auckland");
      if (z) r = next_fires(c, *z, at("2026-04-01T00:00:00Z"), 50);
    });
  for (auto& t : threads) t.join();
  REQUIRE(results[0].size() == 50);
  for (auto& r : results) CHECK(r == results[0]);
}

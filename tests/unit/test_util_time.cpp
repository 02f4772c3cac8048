#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "centrali/util/glob.hpp"
#include "centrali/util/time.hpp"

using namespace centrali;
using namespace centrali::timeutil;

TEST_CASE("parse_duration reads the units people write", "[time]")
{
  CHECK(parse_duration("100ms")->count() == 100);
  CHECK(parse_duration("30s")->count() == 30'000);
  CHECK(parse_duration("2m")->count() == 120'000);
  CHECK(parse_duration("1h30m")->count() == 5'400'000);
  CHECK(parse_duration("1d")->count() == 86'400'000);
  for (auto bad : {"", "abc", "10x", "-5s", "s", "1.5s"}) {
    auto r = parse_duration(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find("invalid duration") != std::string::npos);
  }
}

TEST_CASE("parse_duration refuses a bare number: it must say its unit", "[time]")
{
  for (auto bare : {"15", "0", "300"}) {
    auto r = parse_duration(bare);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message == "duration '" + std::string(bare) + "' has no unit; give a unit, e.g. " + bare + "s or " +
                                   bare + "m");
  }
  CHECK(parse_duration("0s")->count() == 0);
  CHECK(parse_duration("15s")->count() == 15'000);
}

TEST_CASE("parse_instant reads RFC 3339 and Unix seconds", "[time]")
{
  CHECK(*parse_instant("1970-01-01T00:00:00Z") == 0);
  CHECK(*parse_instant("2026-11-27T10:00:00Z") == 1795773600000LL);
  CHECK(*parse_instant("2026-11-27T11:00:00+01:00") == 1795773600000LL);
  CHECK(*parse_instant("2026-11-27T10:00:00.250Z") == 1795773600250LL);
  CHECK(*parse_instant("1795773600") == 1795773600000LL);
  CHECK_FALSE(parse_instant("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parse_instant("yesterday"));
}

TEST_CASE("parse_since takes a duration back from now or an instant", "[time]")
{
  CHECK(*parse_since("2h", 10'000'000) == 10'000'000 - 7'200'000);
  CHECK(*parse_since("2026-11-27T10:00:00Z", 0) == 1795773600000LL);
  // A date alone is its midnight UTC; a malformed one is still refused.
  CHECK(*parse_since("2026-11-27", 0) == 1795773600000LL - 10 * 3600 * 1000);
  CHECK_FALSE(parse_since("2026-13-27", 0));
  CHECK_FALSE(parse_since("2026-11-2x", 0));
}

TEST_CASE("format_rfc3339 and relative render times for people", "[time]")
{
  CHECK(format_rfc3339(1795773600000LL) == "2026-11-27T10:00:00Z");
  CHECK(format_rfc3339(1795773600123LL) == "2026-11-27T10:00:00.123Z");
  CHECK(relative(0, 5'000) == "5s ago");
  CHECK(relative(0, 180'000) == "3m ago");
  CHECK(relative(0, 7'200'000) == "2h ago");
  CHECK(relative(30'000, 0) == "in 30s");
  // Less than a second either way: what is still to come is never "ago".
  CHECK(relative(80, 0) == "in 1s");
  CHECK(relative(0, 80) == "0s ago");
  CHECK(format_duration(Millis(250)) == "250ms");
  CHECK(format_duration(Millis(1500)) == "1.5s");
  CHECK(format_duration(Millis(120'000)) == "2m");
  CHECK(format_duration(Millis(90'000)) == "1m30s");
  CHECK(format_duration(Millis(3'660'000)) == "1h1m");
  CHECK(format_duration(Millis(7'200'000)) == "2h");
  CHECK(format_duration(Millis(172'799'988)) == "48h");  // a 48h jump less the real time it took
}

TEST_CASE("format_rfc3339 agrees with the C library on any instant", "[time]")
{
  // The reference: gmtime_r and snprintf, as the formatter was written first.
  auto reference = [](std::int64_t unix_ms) {
    std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
    int ms = static_cast<int>(unix_ms % 1000);
    if (ms < 0) { ms += 1000; --secs; }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    if (ms != 0)
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    else
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return std::string(buf);
  };
  std::vector<std::int64_t> instants = {0, -1, 1, 999, 1000, -1000, -1001, 951782400000LL /* 2000-02-29 */,
                                        4107542400000LL /* 2100-03-01 */, 253402300799999LL /* 9999-12-31 */,
                                        253402300800000LL /* 10000-01-01 */, -62167219200000LL /* 0000-01-01 */,
                                        -62167219200001LL};
  std::mt19937_64 rng(20261127);
  std::uniform_int_distribution<std::int64_t> any(-70'000'000'000'000LL, 300'000'000'000'000LL);
  std::uniform_int_distribution<std::int64_t> recent(0, 4'102'444'800'000LL);  // 1970 to 2100
  for (int i = 0; i < 20'000; ++i) instants.push_back(i % 2 ? any(rng) : recent(rng));
  for (auto t : instants) {
    INFO(t);
    REQUIRE(format_rfc3339(t) == reference(t));
  }
}

TEST_CASE("glob_match matches event types with * and ?", "[glob]")
{
  CHECK(glob_match("*", "anything.at.all"));
  CHECK(glob_match("invoice.*", "invoice.paid"));
  CHECK(glob_match("invoice.*", "invoice.payment.failed"));
  CHECK_FALSE(glob_match("invoice.*", "invoices"));
  CHECK(glob_match("record_?reated", "record_created"));
  CHECK(glob_match("push", "push"));
  CHECK_FALSE(glob_match("push", "pushed"));
  CHECK(glob_match_any("order.*, record_created", "record_created"));
  CHECK_FALSE(glob_match_any("order.*,customer.*", "record_created"));
}

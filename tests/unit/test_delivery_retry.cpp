// When a failed delivery is tried again (README, "Retries"): the schedule
// with ±20 % jitter, and the receiver's Retry-After, clamped to between the
// scheduled delay and max(2× that delay, 1 h).
#include <catch2/catch.hpp>

#include <cmath>

#include "centrali/delivery/retry.hpp"

using namespace centrali;

namespace {

constexpr std::int64_t k_second = 1000;
constexpr std::int64_t k_minute = 60 * k_second;
constexpr std::int64_t k_hour = 60 * k_minute;
constexpr std::int64_t k_day = 24 * k_hour;

double lowest_draw() { return 0.0; }
double middle_draw() { return 0.5; }
// The largest value a uniform draw in [0, 1) can give.
double highest_draw() { return std::nextafter(1.0, 0.0); }

// "Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110's example, as Unix milliseconds.
constexpr std::int64_t k_rfc_example_ms = 784'111'777 * k_second;

} // namespace

TEST_CASE("delivery::jittered stays within ±20 % at both ends of the draw", "[delivery][retry]")
{
  const std::int64_t base = 30 * k_second;
  CHECK(delivery::jittered(base, delivery::k_retry_jitter, lowest_draw) == 24 * k_second);
  CHECK(delivery::jittered(base, delivery::k_retry_jitter, middle_draw) == base);
  auto top = delivery::jittered(base, delivery::k_retry_jitter, highest_draw);
  CHECK(top <= 36 * k_second);
  CHECK(top >= 36 * k_second - 1);  // the draw never reaches 1, so neither does the factor 1.2
  // The schedule's own path, next_delay_ms without a Retry-After, jitters the same way.
  CHECK(delivery::next_delay_ms(base, std::nullopt, lowest_draw) == 24 * k_second);
  CHECK(delivery::next_delay_ms(base, std::nullopt, highest_draw) >= 36 * k_second - 1);
  CHECK(delivery::next_delay_ms(base, std::nullopt, highest_draw) <= 36 * k_second);
}

TEST_CASE("delivery::next_delay_ms with the real random source spreads over ±20 % and never beyond", "[delivery][retry]")
{
  const std::int64_t base = 120 * k_second;
  int below = 0, above = 0;
  for (int i = 0; i < 2000; ++i) {
    auto d = delivery::next_delay_ms(base, std::nullopt);
    INFO("sample " << i << ": " << d);
    REQUIRE(d >= base * 8 / 10);
    REQUIRE(d <= base * 12 / 10);
    below += d < base * 9 / 10;
    above += d > base * 11 / 10;
  }
  // Each is a quarter of the range: missing either in 2000 draws would take
  // odds of 0.75^2000, so a zero here means the jitter is not spread.
  CHECK(below > 0);
  CHECK(above > 0);
  for (int i = 0; i < 1000; ++i) {
    auto u = delivery::uniform_draw();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("delivery::parse_retry_after_ms reads delay-seconds, capped at 7 days", "[delivery][retry]")
{
  const std::int64_t now = k_rfc_example_ms;
  CHECK(delivery::parse_retry_after_ms("120", now) == 120 * k_second);
  CHECK(delivery::parse_retry_after_ms("0", now) == 0);
  CHECK(delivery::parse_retry_after_ms("  90 ", now) == 90 * k_second);
  CHECK(delivery::parse_retry_after_ms("604800", now) == 7 * k_day);
  CHECK(delivery::parse_retry_after_ms("604801", now) == 7 * k_day);
  CHECK(delivery::parse_retry_after_ms("31536000", now) == 7 * k_day);
}

TEST_CASE("delivery::parse_retry_after_ms reads an IMF-fixdate from the given now, and a past date as 0", "[delivery][retry]")
{
  const std::string date = "Sun, 06 Nov 1994 08:49:37 GMT";
  CHECK(delivery::parse_retry_after_ms(date, k_rfc_example_ms - 90 * k_second) == 90 * k_second);
  CHECK(delivery::parse_retry_after_ms(date, k_rfc_example_ms - 2 * k_hour) == 2 * k_hour);
  CHECK(delivery::parse_retry_after_ms(date, k_rfc_example_ms) == 0);
  CHECK(delivery::parse_retry_after_ms(date, k_rfc_example_ms + 5 * k_second) == 0);
  CHECK(delivery::parse_retry_after_ms(date, k_rfc_example_ms + 30 * k_day) == 0);
}

TEST_CASE("delivery::parse_retry_after_ms gives nothing for garbage and negative values", "[delivery][retry]")
{
  const std::int64_t now = k_rfc_example_ms;
  for (const char* bad : {"", " ", "-1", "-120", "soon", "1.5", "12s", "120 seconds", "0x10",
                          "Sun, 06 Nov 1994 08:49:37", "Sunday, 06-Nov-94 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT trailing", "2026-12-01T00:00:00Z"}) {
    INFO("Retry-After: '" << bad << "'");
    CHECK_FALSE(delivery::parse_retry_after_ms(bad, now).has_value());
  }
}

TEST_CASE("delivery::next_delay_ms clamps Retry-After to [base, max(2 × base, 1 h)]", "[delivery][retry]")
{
  SECTION("below the scheduled delay: the scheduled delay")
  {
    CHECK(delivery::next_delay_ms(30 * k_second, 0, lowest_draw) == 30 * k_second);
    CHECK(delivery::next_delay_ms(30 * k_second, 29 * k_second, lowest_draw) == 30 * k_second);
    CHECK(delivery::next_delay_ms(2 * k_hour, 1 * k_hour, lowest_draw) == 2 * k_hour);
  }
  SECTION("within the range: as asked, with no jitter")
  {
    CHECK(delivery::next_delay_ms(30 * k_second, 30 * k_second, lowest_draw) == 30 * k_second);
    CHECK(delivery::next_delay_ms(30 * k_second, 45 * k_second, highest_draw) == 45 * k_second);
    CHECK(delivery::next_delay_ms(30 * k_second, 1 * k_hour, lowest_draw) == 1 * k_hour);
    CHECK(delivery::next_delay_ms(2 * k_hour, 3 * k_hour, lowest_draw) == 3 * k_hour);
  }
  SECTION("above: 1 h while twice the delay is shorter, else twice the delay")
  {
    CHECK(delivery::next_delay_ms(30 * k_second, 1 * k_hour + 1, lowest_draw) == 1 * k_hour);
    CHECK(delivery::next_delay_ms(30 * k_second, 7 * k_day, lowest_draw) == 1 * k_hour);
    CHECK(delivery::next_delay_ms(30 * k_minute, 7 * k_day, lowest_draw) == 1 * k_hour);
    CHECK(delivery::next_delay_ms(2 * k_hour, 4 * k_hour + 1, lowest_draw) == 4 * k_hour);
    CHECK(delivery::next_delay_ms(2 * k_hour, 7 * k_day, lowest_draw) == 4 * k_hour);
  }
}

TEST_CASE("delivery::default_retry_schedule_ms is 30s, 2m, 10m, 30m", "[delivery][retry]")
{
  CHECK(delivery::default_retry_schedule_ms() ==
        std::vector<std::int64_t>{30 * k_second, 120 * k_second, 600 * k_second, 1800 * k_second});
}

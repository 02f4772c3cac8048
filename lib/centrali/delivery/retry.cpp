#include "centrali/delivery/retry.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <random>
#include <string>

namespace centrali::delivery {

double uniform_draw()
{
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return unit(rng);
}

std::int64_t jittered(std::int64_t base_ms, double jitter, UniformDraw draw)
{
  const double low = 1.0 - jitter;
  const double high = 1.0 + jitter;
  const double factor = low + (high - low) * draw();
  return static_cast<std::int64_t>(static_cast<double>(base_ms) * factor);
}

std::optional<std::int64_t> parse_retry_after_ms(std::string_view value, std::int64_t now_ms)
{
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  std::int64_t seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc{} && p == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::min<std::int64_t>(seconds, 7 * 86400) * 1000;
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  auto at = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  return std::max<std::int64_t>(0, at - now_ms);
}

std::int64_t next_delay_ms(std::int64_t base_ms, std::optional<std::int64_t> retry_after_ms, UniformDraw draw)
{
  if (!retry_after_ms) return jittered(base_ms, k_retry_jitter, draw);
  auto upper = std::max<std::int64_t>(2 * base_ms, 3'600'000);
  return std::clamp(*retry_after_ms, base_ms, upper);
}

std::vector<std::int64_t> default_retry_schedule_ms()
{
  return {30'000, 120'000, 600'000, 1'800'000};
}

} // namespace centrali::delivery

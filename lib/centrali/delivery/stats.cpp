#include "centrali/delivery/stats.hpp"

#include <algorithm>
#include <cmath>

namespace centrali::delivery {
namespace {

// Nearest-rank percentile of sorted values: the smallest value with at
// least p % of them at or below it.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p)
{
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

WebhookStats webhook_stats(const std::vector<store::AttemptOutcome>& attempts)
{
  WebhookStats s;
  std::vector<std::int64_t> durations;
  durations.reserve(attempts.size());
  for (const auto& a : attempts) {
    ++s.attempts;
    durations.push_back(a.duration_ms);
    const bool ok = a.response_status && *a.response_status >= 200 && *a.response_status < 300;
    if (ok) {
      ++s.succeeded;
    } else if (s.last_error.empty()) {  // newest first: the first failure seen is the last one
      s.last_error = a.response_status ? "HTTP " + std::to_string(*a.response_status) : a.error;
      s.last_error_ms = a.started_ms;
    }
  }
  if (s.attempts == 0) return s;
  s.success_rate = static_cast<double>(s.succeeded) / static_cast<double>(s.attempts);
  std::sort(durations.begin(), durations.end());
  s.p50_ms = percentile(durations, 50);
  s.p95_ms = percentile(durations, 95);
  return s;
}

} // namespace centrali::delivery

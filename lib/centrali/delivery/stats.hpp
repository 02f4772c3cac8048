#pragma once
// A webhook's health over a window, from its attempt log: how often it
// answered 2xx, how fast, and what it said last when it did not.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrali/store/deliveries.hpp"

namespace centrali::delivery {

struct WebhookStats {
  std::int64_t attempts = 0;
  std::int64_t succeeded = 0;
  std::optional<double> success_rate;   // succeeded / attempts; none without attempts
  std::optional<std::int64_t> p50_ms;   // attempt duration, nearest rank
  std::optional<std::int64_t> p95_ms;
  std::string last_error;               // of the newest attempt that was not 2xx
  std::optional<std::int64_t> last_error_ms;
};

// `attempts` newest first, all of one webhook.
WebhookStats webhook_stats(const std::vector<store::AttemptOutcome>& attempts);

} // namespace centrali::delivery

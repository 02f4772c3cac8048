#pragma once
// A webhook's settings as people give them (`webhooks add|update` flags,
// the `webhooks` entries of a project file), checked and applied in one
// place. Each caller names fields its own way: `label("retry_schedule")`
// is "--retry-schedule" for the CLI, "webhooks[0].retry_schedule" for a file.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/store/webhooks.hpp"
#include "centrali/util/error.hpp"

namespace centrali::delivery {

using FieldLabel = std::function<std::string(std::string_view field)>;

struct WebhookSettings {
  std::optional<std::string> name;
  std::optional<std::string> url;
  std::optional<std::string> events;          // comma-separated globs
  std::optional<std::vector<std::string>> filter;  // content conditions (query/where.hpp); replaces all
  std::optional<HeaderList> headers;          // replaces all custom headers
  std::optional<std::string> retry_schedule;  // "30s,2m,10m" or "none"
  std::optional<std::string> timeout;         // "15s"
  std::optional<std::string> disable_after;   // "5d"
  std::optional<bool> insecure;
};

// Checks each given setting and writes it into `webhook`; a usage error
// names the field by `label` and changes nothing it has not checked yet.
Result<void> apply_settings(const WebhookSettings& settings, store::Webhook& webhook, const FieldLabel& label);

// "30s,2m,10m" (or "none") as milliseconds, at most 50 steps.
Result<std::vector<std::int64_t>> parse_retry_schedule(const std::string& text, const std::string& label);
// The schedule as it is written: "30s,2m,10m", or "none".
std::string retry_schedule_text(const std::vector<std::int64_t>& schedule_ms);

// Whether a secret is given by reference (env:NAME, file:PATH).
bool is_secret_reference(const std::string& given);
// The signing secret `given` names (a whsec_ value, env:NAME or file:PATH,
// read now): errors name the reference, never the value.
Result<std::string> resolve_webhook_secret(const std::string& given, const std::string& label);
// A new random whsec_ secret.
Result<std::string> new_webhook_secret();

} // namespace centrali::delivery

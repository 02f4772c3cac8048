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

// A webhook name people can type: letters, digits, '.', '-', '_' (empty:
// no name), not like an id.
Result<void> check_webhook_name(const std::string& name, const std::string& label);

// Writes `webhook` and, when its retry schedule is not `previous_schedule_ms`
// any more, re-plans its pending deliveries on the new one: the next retry
// of one tried k times by the schedule is due k-th step after its last
// attempt; one with more tries than the new schedule has steps fails.
// Run inside the caller's write transaction.
Result<void> save_webhook(store::Store& store, const store::Webhook& webhook,
                          const std::vector<std::int64_t>& previous_schedule_ms, std::int64_t now_ms);

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

// Makes `secret` the webhook's signing secret. The old one keeps signing
// beside it for 24 h from `now_ms`, so receivers can switch without
// refusing a delivery (`webhooks rotate-secret`, a project file's new secret).
void rotate_secret(store::Webhook& webhook, std::string secret, std::int64_t now_ms);

} // namespace centrali::delivery

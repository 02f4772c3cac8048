#include "centrali/delivery/webhook_settings.hpp"

#include <cctype>

#include "centrali/delivery/webhook_request.hpp"
#include "centrali/ingest/event_type.hpp"
#include "centrali/ingest/secrets.hpp"
#include "centrali/delivery/retry.hpp"
#include "centrali/query/where.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"

namespace centrali::delivery {
namespace {

Result<void> validate_globs(const std::string& globs, const std::string& label)
{
  if (globs.find_first_not_of(", ") == std::string::npos)
    return fail(ErrorKind::usage, label + " needs at least one event type or glob (e.g. 'invoice.*' or '*')");
  std::size_t start = 0;
  while (start <= globs.size()) {
    auto end = std::min(globs.find(',', start), globs.size());
    auto glob = globs.substr(start, end - start);
    const auto first = glob.find_first_not_of(' ');
    if (first == std::string::npos) return fail(ErrorKind::usage, label + " '" + globs + "' has an empty entry between commas");
    glob = glob.substr(first, glob.find_last_not_of(' ') - first + 1);
    if (auto problem = ingest::event_type_problem(glob); !problem.empty())
      return fail(ErrorKind::usage, label + " entry '" + glob + "' " + problem);
    start = end + 1;
  }
  return {};
}

} // namespace

Result<void> check_webhook_name(const std::string& name, const std::string& label)
{
  // A name stands for the webhook on command lines (`webhooks show billing`)
  // and in project files: keep it to what needs no quoting, and unlike an id.
  if (name.empty()) return {};  // no name: known by its id
  if (name.size() > 100) return fail(ErrorKind::usage, label + " is longer than 100 characters");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return fail(ErrorKind::usage,
                  label + ": use letters, digits, '.', '-' and '_' (it names the webhook on the command line)");
  if (name.starts_with("whk_")) return fail(ErrorKind::usage, label + " '" + name + "' looks like a webhook id; pick another");
  return {};
}

Result<std::vector<std::int64_t>> parse_retry_schedule(const std::string& text, const std::string& label)
{
  std::vector<std::int64_t> out;
  // Empty is refused rather than read as "none": an unset shell variable
  // must not turn retries off.
  if (text.empty()) return fail(ErrorKind::usage, label + " is empty: give delays (e.g. 30s,2m,10m) or 'none'");
  if (text == "none") return out;  // no retries
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    auto step = timeutil::parse_duration(text.substr(start, end - start));
    if (!step) return fail(ErrorKind::usage, label + ": " + step.error().message);
    out.push_back(step->count());
    start = end + 1;
  }
  if (out.size() > 50) return fail(ErrorKind::usage, label + ": at most 50 retries");
  return out;
}

std::string retry_schedule_text(const std::vector<std::int64_t>& schedule)
{
  if (schedule.empty()) return "none";
  std::string out;
  for (auto ms : schedule) out += (out.empty() ? "" : ",") + timeutil::format_duration_exact(std::chrono::milliseconds(ms));
  return out;
}

Result<void> apply_settings(const WebhookSettings& s, store::Webhook& w, const FieldLabel& label)
{
  if (s.url) {
    if (auto u = parse_url(*s.url); !u) return fail(ErrorKind::usage, label("url") + ": " + u.error().message);
    w.url = *s.url;
  }
  if (s.events) {
    if (auto r = validate_globs(*s.events, label("events")); !r) return r;
    w.events = *s.events;
  }
  if (s.filter) {
    auto where = query::Where::parse(*s.filter, label("filter"));
    if (!where) return std::unexpected(where.error());
    w.filter.clear();
    for (const auto& c : where->conditions()) w.filter.push_back(c.text);
  }
  if (s.name) {
    if (auto r = check_webhook_name(*s.name, label("name")); !r) return r;
    w.name = *s.name;
  }
  if (s.headers) {
    for (const auto& h : *s.headers) {
      if (!is_sendable_header(h.name, h.value))
        return fail(ErrorKind::usage, label("headers") + ": '" + h.name + "' is not a header that can be sent");
      if (auto why = reserved_header_reason(h.name); !why.empty())
        return fail(ErrorKind::usage, label("headers") + ": " + why + " and it cannot be overridden");
    }
    w.headers = *s.headers;
  }
  if (s.retry_schedule) {
    auto schedule = parse_retry_schedule(*s.retry_schedule, label("retry_schedule"));
    if (!schedule) return std::unexpected(schedule.error());
    w.retry_schedule_ms = *schedule;
  }
  if (s.timeout) {
    auto t = timeutil::parse_duration(*s.timeout);
    if (!t) return fail(ErrorKind::usage, label("timeout") + ": " + t.error().message);
    if (t->count() < 1 || t->count() > 300'000) return fail(ErrorKind::usage, label("timeout") + " must be between 1ms and 5m");
    w.timeout_ms = t->count();
  }
  if (s.disable_after) {
    auto t = timeutil::parse_duration(*s.disable_after);
    if (!t) return fail(ErrorKind::usage, label("disable_after") + ": " + t.error().message);
    w.disable_after_ms = t->count();
  }
  if (s.insecure) w.insecure = *s.insecure;
  return {};
}

bool is_secret_reference(const std::string& given)
{
  return given.starts_with("env:") || given.starts_with("file:");
}

Result<std::string> resolve_webhook_secret(const std::string& given, const std::string& label)
{
  auto secret = ingest::resolve_secret(given);
  if (!secret) return fail(ErrorKind::usage, label + ": " + secret.error().message);
  const std::string what = is_secret_reference(given) ? label + " " + given + ": its value" : label;
  if (!secret->starts_with("whsec_"))
    return fail(ErrorKind::usage, what + " must be a Standard Webhooks secret: whsec_ followed by base64");
  if (auto r = sig::standard_v1_signature(*secret, "msg_probe", 1, ""); !r)
    return fail(ErrorKind::usage, what + ": " + r.error().message);
  return secret;
}

Result<std::string> new_webhook_secret()
{
  auto key = sig::generate_key(sig::Scheme::standard);
  if (!key) return std::unexpected(key.error());
  return key->secret;
}

Result<void> save_webhook(store::Store& store, const store::Webhook& webhook,
                          const std::vector<std::int64_t>& previous_schedule_ms, std::int64_t now_ms)
{
  if (auto r = store::update_webhook(store, webhook); !r) return r;
  if (webhook.retry_schedule_ms == previous_schedule_ms) return {};
  auto pending = store::pending_deliveries_of(store, webhook.id);
  if (!pending) return std::unexpected(pending.error());
  const auto& schedule = webhook.retry_schedule_ms;
  for (const auto& d : *pending) {
    // Never tried: due as planned. In flight: planned when it is recorded.
    if (d.auto_attempts == 0 || (d.lease_until_ms && d.lease_until_ms > now_ms)) continue;
    std::optional<std::int64_t> due;
    if (d.auto_attempts <= static_cast<int>(schedule.size()))
      due = d.updated_ms + schedule[static_cast<std::size_t>(d.auto_attempts - 1)];
    const std::string failure = (d.last_error.empty() ? std::string() : d.last_error + "; ") +
                                "no retries left under the new retry schedule (" + retry_schedule_text(schedule) + ")";
    if (auto r = store::reschedule_delivery(store, d, due, failure, now_ms); !r) return r;
  }
  return {};
}

void rotate_secret(store::Webhook& webhook, std::string secret, std::int64_t now_ms)
{
  constexpr std::int64_t k_rotation_grace_ms = 24LL * 3600 * 1000;
  webhook.previous_secret = std::move(webhook.secret);
  webhook.previous_until_ms = now_ms + k_rotation_grace_ms;
  webhook.secret = std::move(secret);
}

} // namespace centrali::delivery

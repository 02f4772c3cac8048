// `centrali webhooks ...`: outbound subscriptions, test sends, resend and replay.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>

#include "centrali/delivery/attempt.hpp"
#include "centrali/delivery/retry.hpp"
#include "centrali/delivery/stats.hpp"
#include "centrali/delivery/webhook_request.hpp"
#include "centrali/delivery/webhook_settings.hpp"
#include "centrali/ingest/secrets.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"
#include "context.hpp"
#include "render_deliveries.hpp"
#include "webhook_ref.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct WebhookArgs {
  std::string id;
  std::optional<std::string> url;
  std::optional<std::string> events;
  std::optional<std::string> name;
  std::string secret;
  std::vector<std::string> headers;
  std::vector<std::string> filter;
  std::optional<std::string> retry_schedule;
  std::optional<std::string> timeout;
  std::optional<std::string> disable_after;
  bool insecure = false;
  bool secure = false;
  bool clear_headers = false;  // update: drop every custom header
  bool clear_filter = false;   // update: take every event its globs match again
};

// The flags `add` and `update` share, as settings; errors name the flags.
Result<delivery::WebhookSettings> settings_of(const WebhookArgs& a)
{
  delivery::WebhookSettings s;
  s.name = a.name;
  s.url = a.url;
  s.events = a.events;
  s.retry_schedule = a.retry_schedule;
  s.timeout = a.timeout;
  s.disable_after = a.disable_after;
  if (a.clear_headers && !a.headers.empty())
    return fail(ErrorKind::usage, "give --header or --clear-headers, not both (--header alone replaces the list)");
  if (a.clear_headers) s.headers = HeaderList{};
  if (!a.headers.empty()) {
    s.headers = HeaderList{};
    for (const auto& line : a.headers) {
      auto h = parse_header_line(line);
      if (!h) return fail(ErrorKind::usage, "--header: " + h.error().message);
      s.headers->push_back(*h);
    }
  }
  if (a.clear_filter && !a.filter.empty())
    return fail(ErrorKind::usage, "give --filter or --clear-filter, not both (--filter alone replaces the conditions)");
  if (a.clear_filter) s.filter = std::vector<std::string>{};
  if (!a.filter.empty()) s.filter = a.filter;
  if (a.insecure) s.insecure = true;
  if (a.secure) s.insecure = false;
  return s;
}

// "--retry-schedule" for "retry_schedule".
std::string flag_label(std::string_view field)
{
  std::string flag = "--" + std::string(field == "headers" ? "header" : field);
  for (auto& c : flag)
    if (c == '_') c = '-';
  return flag;
}

Result<void> apply_options(const WebhookArgs& a, store::Webhook& w)
{
  auto settings = settings_of(a);
  if (!settings) return std::unexpected(settings.error());
  return delivery::apply_settings(*settings, w, flag_label);
}

// Names identify webhooks on the command line, so two may not share one.
Result<void> check_name_free(store::Store& store, const store::Webhook& w)
{
  if (w.name.empty()) return {};
  auto other = store::webhook_named(store, w.name, w.id);
  if (!other) return std::unexpected(other.error());
  if (*other) return fail(ErrorKind::usage, "--name: webhook " + **other + " is already called '" + w.name + "'");
  return {};
}

using delivery::is_secret_reference;

// How a new secret is reported: a generated or literal one is shown (this is
// the only time), one read from env:/file: is not, since the user has it and
// keeping it out of sight is why it was given that way.
// Labelled for people; bare on a pipe, so a script captures the secret
// itself. Empty when there is nothing to print.
std::string secret_line(const std::string& given, const std::string& secret)
{
  const bool labelled = ::isatty(STDOUT_FILENO) != 0;
  if (is_secret_reference(given)) return labelled ? "secret: read from " + given + " and stored (not shown)" : "";
  return (labelled ? "secret: " : "") + secret;
}

// A webhook's content conditions on one line, for people.
std::string filter_text(const std::vector<std::string>& filter)
{
  if (filter.empty()) return "-";
  std::string out;
  for (const auto& c : filter) out += (out.empty() ? "" : " and ") + for_terminal(c);
  return out;
}

json webhook_json(const store::Webhook& w, bool with_secret)
{
  json headers = json::array();
  for (const auto& h : redact_credentials(w.headers)) headers.push_back({h.name, h.value});
  json j = {{"id", w.id},
            {"name", w.name},
            {"url", w.url},
            {"events", w.events},
            {"filter", w.filter},
            {"active", w.active},
            {"disabled_reason", w.disabled_reason.empty() ? json(nullptr) : json(w.disabled_reason)},
            {"failing_since", w.failing_since_ms ? json(timeutil::format_rfc3339(*w.failing_since_ms)) : json(nullptr)},
            {"headers", headers},
            {"retry_schedule", delivery::retry_schedule_text(w.retry_schedule_ms)},
            {"timeout_ms", w.timeout_ms},
            {"disable_after_ms", w.disable_after_ms},
            {"insecure", w.insecure},
            {"previous_secret_valid_until",
             w.previous_until_ms ? json(timeutil::format_rfc3339(*w.previous_until_ms)) : json(nullptr)},
            {"created_at", timeutil::format_rfc3339(w.created_ms)},
            {"updated_at", timeutil::format_rfc3339(w.updated_ms)}};
  if (with_secret) j["secret"] = w.secret;
  return j;
}

Result<void> run_add(Context& ctx, const WebhookArgs& a)
{
  if (!a.url) return fail(ErrorKind::usage, "--url is required");
  if (!a.events) return fail(ErrorKind::usage, "--events needs at least one event type or glob (e.g. 'invoice.*' or '*')");
  store::Webhook w;
  w.id = ids::make(ids::k_webhook);
  w.retry_schedule_ms = delivery::default_retry_schedule_ms();
  if (auto r = apply_options(a, w); !r) return r;
  if (!a.secret.empty()) {
    auto s = delivery::resolve_webhook_secret(a.secret, "--secret");
    if (!s) return std::unexpected(s.error());
    w.secret = std::move(*s);
  } else {
    auto s = delivery::new_webhook_secret();
    if (!s) return std::unexpected(s.error());
    w.secret = *s;
  }
  w.created_ms = w.updated_ms = timeutil::now_ms();
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (auto r = check_name_free(**store, w); !r) return r;
  if (auto r = store::insert_webhook(**store, w); !r) return r;
  if (ctx.out().json()) {
    ctx.out().json_document(webhook_json(w, !is_secret_reference(a.secret)));
  } else {
    ctx.out().line(w.id);
    if (auto line = secret_line(a.secret, w.secret); !line.empty()) ctx.out().line(line);
    ctx.out().note("created webhook " + w.id + " -> " + shown_url(w.url) + " for " + w.events +
                   (w.filter.empty() ? "" : " where " + filter_text(w.filter)) +
                   (is_secret_reference(a.secret) ? "" : " (the secret is shown only now and on rotate-secret)"));
  }
  return {};
}

Result<void> run_list(Context& ctx, const std::string& status)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto hooks = store::list_webhooks(**store);
  if (!hooks) return std::unexpected(hooks.error());
  if (!status.empty())
    std::erase_if(*hooks, [&](const store::Webhook& w) { return w.active != (status == "active"); });
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& w : *hooks) arr.push_back(webhook_json(w, false));
    ctx.out().json_document(arr);
    return {};
  }
  if (hooks->empty()) {
    ctx.out().note(status.empty() ? "no webhooks; add one with 'centrali webhooks add --url URL --events GLOB'"
                                  : "no " + status + " webhooks");
    return {};
  }
  auto now = timeutil::now_ms();
  // Why a webhook is off is the next question: shown beside it.
  const bool any_disabled = std::any_of(hooks->begin(), hooks->end(), [](const auto& w) { return !w.active; });
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : *hooks) {
    rows.push_back({w.id, w.name.empty() ? "-" : for_terminal(w.name), shown_url(w.url),
                    for_terminal(w.events + (w.filter.empty() ? "" : " where " + filter_text(w.filter))),
                    w.active ? ctx.out().paint("active", Style::green) : ctx.out().paint("disabled", Style::red),
                    timeutil::relative(w.created_ms, now)});
    if (any_disabled) rows.back().push_back(w.active || w.disabled_reason.empty() ? "-" : for_terminal(w.disabled_reason));
  }
  std::vector<std::string> head{"ID", "NAME", "URL", "EVENTS", "STATE", "CREATED"};
  if (any_disabled) head.push_back("REASON");
  ctx.out().table(head, rows);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::find_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  store::DeliveryFilter f;
  f.webhook_id = w->id;
  f.limit = 10;
  auto recent = store::list_deliveries(**store, f);
  if (!recent) return std::unexpected(recent.error());
  if (ctx.out().json()) {
    auto j = webhook_json(*w, false);
    j["recent_deliveries"] = json::array();
    for (const auto& d : *recent) j["recent_deliveries"].push_back(delivery_json(d));
    ctx.out().json_document(j);
    return {};
  }
  auto now = timeutil::now_ms();
  std::string state = w->active ? ctx.out().paint("active", Style::green)
                                : ctx.out().paint("disabled", Style::red) +
                                      (w->disabled_reason.empty() ? "" : ": " + w->disabled_reason);
  std::string headers;
  for (const auto& h : redact_credentials(w->headers)) headers += (headers.empty() ? "" : "; ") + h.name + ": " + h.value;
  ctx.out().fields({{"id", w->id},
                    {"name", w->name.empty() ? "-" : w->name},
                    {"url", shown_url(w->url)},
                    {"events", w->events},
                    {"filter", filter_text(w->filter)},
                    {"state", state},
                    {"failing since", w->failing_since_ms ? timeutil::format_rfc3339(*w->failing_since_ms) +
                                                                " (" + timeutil::relative(*w->failing_since_ms, now) + ")"
                                                          : "-"},
                    {"secret", ingest::redact_secret(w->secret) +
                                   (w->previous_until_ms && *w->previous_until_ms > now
                                        ? " (previous secret also signs until " +
                                              timeutil::format_rfc3339(*w->previous_until_ms) + ")"
                                        : "")},
                    {"retries", delivery::retry_schedule_text(w->retry_schedule_ms) + " (+/-20% jitter)"},
                    {"timeout", timeutil::format_duration(std::chrono::milliseconds(w->timeout_ms))},
                    {"disable after", timeutil::format_duration(std::chrono::milliseconds(w->disable_after_ms)) +
                                          " of continuous failure"},
                    {"headers", headers.empty() ? "-" : headers},
                    {"tls", w->insecure ? "certificate NOT verified (--insecure)" : "verified"},
                    {"created", timeutil::format_rfc3339(w->created_ms)}});
  if (!recent->empty()) {
    ctx.out().line("");
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : *recent)
      rows.push_back({d.id, for_terminal(d.event_type), d.status, std::to_string(d.attempt_count),
                      d.last_status ? std::to_string(*d.last_status)
                                    : (d.last_error.empty() ? "-" : for_terminal(d.last_error)),
                      timeutil::relative(d.created_ms, now)});
    ctx.out().table({"RECENT DELIVERY", "TYPE", "STATUS", "ATTEMPTS", "LAST", "CREATED"}, rows);
  }
  return {};
}

Result<void> run_update(Context& ctx, const WebhookArgs& a)
{
  if (!a.secret.empty())
    return fail(ErrorKind::usage, "change the secret with 'centrali webhooks rotate-secret " + a.id + "'");
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  // Read, change and write in one transaction: a running listener that
  // disables the webhook or notes a failure meanwhile is not overwritten.
  store::Webhook updated;
  auto done = store::write_transaction(**store, [&]() -> Result<void> {
    auto w = store::find_webhook(**store, a.id);
    if (!w) return std::unexpected(w.error());
    const auto previous_schedule = w->retry_schedule_ms;
    if (auto r = apply_options(a, *w); !r) return r;
    if (auto r = check_name_free(**store, *w); !r) return r;
    w->updated_ms = timeutil::now_ms();
    // A new retry schedule also re-plans the pending retries.
    if (auto r = delivery::save_webhook(**store, *w, previous_schedule, w->updated_ms); !r) return r;
    updated = std::move(*w);
    return {};
  });
  if (!done) return done;
  if (ctx.out().json()) ctx.out().json_document(webhook_json(updated, false));
  else ctx.out().line("updated " + updated.id);
  return {};
}

Result<void> set_active(Context& ctx, const std::string& id, bool active)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::find_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  w->active = active;
  w->disabled_reason = active ? "" : "disabled by 'centrali webhooks disable'";
  w->failing_since_ms.reset();  // a fresh start either way
  w->updated_ms = timeutil::now_ms();
  if (auto r = store::update_webhook(**store, *w); !r) return r;
  // What it missed while off waits as skipped deliveries: say how many,
  // and how to send them.
  store::StatusCount skipped;
  if (active) {
    auto c = store::count_webhook_deliveries(**store, w->id, "skipped", 0);
    if (!c) return std::unexpected(c.error());
    skipped = *c;
  }
  const std::string name = w->name.empty() ? w->id : w->name;
  if (ctx.out().json()) {
    auto j = webhook_json(*w, false);
    if (active) {
      j["skipped"] = skipped.count;
      j["skipped_since"] = skipped.oldest_ms ? json(timeutil::format_rfc3339(*skipped.oldest_ms)) : json(nullptr);
    }
    ctx.out().json_document(j);
    return {};
  }
  ctx.out().line((active ? "enabled " : "disabled ") + w->id);
  if (!active)
    ctx.out().note("events for it are kept as skipped deliveries; after 'centrali webhooks enable " + name +
                   "', 'centrali webhooks recover " + name + " --since TIME' sends them");
  else if (skipped.count > 0)
    ctx.out().note(count_of(static_cast<std::size_t>(skipped.count), "delivery was", "deliveries were") +
                   " skipped while it was off (the oldest made " + timeutil::format_rfc3339(*skipped.oldest_ms) +
                   "); send them with: centrali webhooks recover " + name + " --since " +
                   timeutil::format_rfc3339(*skipped.oldest_ms));
  return {};
}

Result<void> run_rm(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::find_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  if (auto r = store::remove_webhook(**store, w->id); !r) return r;
  if (ctx.out().json()) ctx.out().json_document({{"removed", w->id}});
  else ctx.out().line("removed " + w->id + " (its delivery log is kept)");
  return {};
}

Result<void> run_rotate(Context& ctx, const std::string& id, const std::string& given)
{
  std::string secret;
  if (!given.empty()) {
    auto s = delivery::resolve_webhook_secret(given, "--secret");
    if (!s) return std::unexpected(s.error());
    secret = std::move(*s);
  } else {
    auto s = delivery::new_webhook_secret();
    if (!s) return std::unexpected(s.error());
    secret = *s;
  }
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::find_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  auto now = timeutil::now_ms();
  delivery::rotate_secret(*w, secret, now);
  w->updated_ms = now;
  if (auto r = store::update_webhook(**store, *w); !r) return r;
  if (ctx.out().json()) {
    ctx.out().json_document(webhook_json(*w, !is_secret_reference(given)));
  } else {
    if (auto line = secret_line(given, secret); !line.empty()) ctx.out().line(line);
    ctx.out().note("the old secret keeps signing alongside until " + timeutil::format_rfc3339(*w->previous_until_ms));
  }
  return {};
}

// Where sending `d` again goes: its webhook's URL now, or a forward's own.
// A webhook delivery can be sent again only while its webhook exists: the
// webhook holds the secret that signs it. Refused before anything is sent
// or recorded, so the delivery's log and state stay as they were.
Result<std::string> send_target(store::Store& store, const store::Delivery& d)
{
  if (d.kind != "webhook") return d.url;
  if (!d.webhook_id.empty()) {
    auto w = store::get_webhook(store, d.webhook_id);
    if (w) return w->url;
    if (w.error().kind != ErrorKind::not_found) return std::unexpected(w.error());
  }
  return fail(ErrorKind::not_found, "cannot send " + d.id + " again: its webhook " +
                                        (d.webhook_id.empty() ? std::string() : d.webhook_id + " ") +
                                        "was removed, and with it the secret that signs it (its log is kept)");
}

// Prints one manual attempt; the error (if any) decides the exit code:
// 1 for a non-2xx answer, 5 when the endpoint could not be reached.
Result<void> report_attempt(Context& ctx, const delivery::AttemptResult& r, json extra = json::object())
{
  if (ctx.out().json()) {
    auto j = attempt_json(r.attempt);
    for (auto& [k, v] : extra.items()) j[k] = v;
    j["ok"] = r.ok;
    if (!r.disabled_webhook.empty()) j["webhook_disabled"] = r.disabled_webhook;
    ctx.out().json_document(j);
  } else {
    ctx.out().line(attempt_line(ctx.out(), r.attempt));
  }
  // A 410 switches the webhook off; say so where the answer is read.
  if (!r.disabled_webhook.empty() && !ctx.out().json())
    ctx.out().note("webhook " + r.webhook_id + " is now disabled: " + r.disabled_webhook +
                   " (turn it on again with 'centrali webhooks enable " + r.webhook_id + "')");
  if (r.ok) return {};
  if (!r.reached) return fail(ErrorKind::network, "no response: " + r.attempt.error);
  return fail(ErrorKind::rejected, "the endpoint answered " + attempt_outcome(r.attempt) + ", not 2xx");
}

struct TestArgs {
  std::string id;
  std::string type = "webhook.test";
  std::optional<std::string> data;
};

Result<void> run_test(Context& ctx, const TestArgs& a)
{
  if (auto r = check_event_type(a.type, "--type"); !r) return r;
  std::string body = a.data ? *a.data : R"({"message":"test event from centrali"})";
  if (body.empty()) return fail(ErrorKind::usage, "--data is empty (leave it out for the default test data)");
  if (parse_json(body).is_discarded())
    return fail(ErrorKind::usage, "--data " + json_refusal(body));
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::find_webhook(**store, a.id);
  if (!w) return std::unexpected(w.error());
  auto now = timeutil::now_ms();
  // The test event is stored like any other so its delivery can be
  // inspected and resent, but it is never fanned out.
  store::Event e;
  e.id = ids::make(ids::k_event);
  e.source = "local";
  e.type = a.type;
  e.status = "accepted";
  e.method = "TEST";
  e.body = body;
  e.received_ms = now;
  if (auto r = store::insert_event(**store, e, false); !r) return r;
  store::Delivery d;
  d.id = ids::make(ids::k_delivery);
  d.kind = "webhook";
  d.event_id = e.id;
  d.webhook_id = w->id;
  d.event_type = e.type;
  d.url = w->url;
  d.status = "failed";  // until the send below succeeds; a test is never retried
  d.created_ms = d.updated_ms = now;
  if (auto r = store::insert_delivery(**store, d); !r) return r;
  delivery::AttemptInput in;
  in.delivery = d;
  in.trigger = delivery::Trigger::test;
  in.test_event = true;
  http::ClientPool clients;
  auto result = delivery::perform_attempt(**store, clients, in, {});
  if (auto r = delivery::record_result(**store, result); !r) return r;
  return report_attempt(ctx, result, {{"event_id", e.id}});
}

Result<void> run_resend(Context& ctx, const std::string& id, const std::string& to)
{
  if (!to.empty())
    if (auto u = parse_url(to); !u) return fail(ErrorKind::usage, "--to: " + u.error().message);
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto d = store::get_delivery(**store, id);
  if (!d) return std::unexpected(d.error());
  if (auto r = send_target(**store, *d); !r) return std::unexpected(r.error());
  delivery::AttemptInput in;
  in.delivery = *d;
  in.trigger = delivery::Trigger::resend;
  in.url_override = to;
  http::ClientPool clients;
  auto result = delivery::perform_attempt(**store, clients, in, {});
  if (auto r = delivery::record_result(**store, result); !r) return r;
  return report_attempt(ctx, result);
}

// What sending a list of deliveries again came to.
struct SentAgain {
  std::size_t done = 0, ok = 0, retrying = 0;
  std::string disabled;  // set when an answer (410) turned the webhook off: the rest stayed unsent
  json attempts = json::array();
};

// Sends each delivery once more, in order, as `trigger` (to `to` instead
// when given), recording every attempt. Stops early when an answer turns
// the webhook off.
Result<SentAgain> send_again(Context& ctx, store::Store& store, const std::vector<store::Delivery>& deliveries,
                             delivery::Trigger trigger, const std::string& to, const char* progress_label)
{
  http::ClientPool clients;
  SentAgain s;
  for (const auto& d : deliveries) {
    delivery::AttemptInput in;
    in.delivery = d;
    in.trigger = trigger;
    in.url_override = to;
    auto result = delivery::perform_attempt(store, clients, in, {});
    if (auto r = delivery::record_result(store, result); !r) return std::unexpected(r.error());
    s.ok += result.ok ? 1 : 0;
    s.retrying += !result.ok && result.update.status == "pending" && d.status != "pending" ? 1 : 0;
    ++s.done;
    if (ctx.out().json()) s.attempts.push_back(attempt_json(result.attempt));
    else if (!::isatty(STDERR_FILENO) || ctx.out().verbosity() > 0) ctx.out().line(attempt_line(ctx.out(), result.attempt));
    ctx.out().progress(s.done, deliveries.size(), progress_label);
    if (!result.disabled_webhook.empty()) {
      s.disabled = result.disabled_webhook;
      if (!ctx.out().json()) ctx.out().note("webhook " + result.webhook_id + " is now disabled: " + result.disabled_webhook);
      if (trigger == delivery::Trigger::recover) break;  // it said it is gone: send it nothing more
    }
  }
  return s;
}

// Where each delivery would go (for --dry-run), leaving out those of removed
// webhooks (nothing signs them). Returns how many were left out.
Result<std::size_t> keep_sendable(store::Store& store, std::vector<store::Delivery>& deliveries)
{
  std::size_t orphaned = 0;
  std::map<std::string, std::optional<std::string>> webhook_url;  // nullopt: removed
  std::vector<store::Delivery> sendable;
  for (auto& d : deliveries) {
    if (d.kind == "webhook") {
      auto [it, fresh] = webhook_url.try_emplace(d.webhook_id);
      if (fresh) {
        auto r = send_target(store, d);
        if (!r && r.error().kind != ErrorKind::not_found) return std::unexpected(r.error());
        if (r) it->second = std::move(*r);
      }
      if (!it->second) {
        ++orphaned;
        continue;
      }
      d.url = *it->second;  // what --dry-run shows is where it would go
    }
    sendable.push_back(std::move(d));
  }
  deliveries = std::move(sendable);
  return orphaned;
}

void print_dry_run(Context& ctx, const std::vector<store::Delivery>& matched, const std::string& to, json extra,
                   const std::string& note)
{
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& d : matched) arr.push_back(delivery_json(d));
    extra["matched"] = matched.size();
    extra["dry_run"] = true;
    extra["deliveries"] = arr;
    ctx.out().json_document(extra);
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : matched)
    rows.push_back({d.id, for_terminal(d.event_type), d.status, timeutil::format_rfc3339(d.created_ms),
                    shown_url(to.empty() ? d.url : to)});
  if (!rows.empty()) ctx.out().table({"DELIVERY", "TYPE", "STATUS", "CREATED", "WOULD SEND TO"}, rows);
  ctx.out().note(count_of(matched.size(), "delivery matches", "deliveries match") + " (dry run: nothing sent)" + note);
}

struct ReplayArgs {
  std::string webhook;
  std::string status;
  std::string type;
  std::string since;
  std::string until;
  std::vector<std::string> where;
  std::string to;
  bool dry_run = false;
};

Result<void> run_replay(Context& ctx, const ReplayArgs& a)
{
  if (!a.to.empty())
    if (auto u = parse_url(a.to); !u) return fail(ErrorKind::usage, "--to: " + u.error().message);
  store::DeliveryFilter f;
  f.kind = "webhook";
  f.status = a.status;
  f.type_glob = a.type;
  f.limit = 0;
  auto since = time_option("--since", a.since);
  if (!since) return std::unexpected(since.error());
  auto until = time_option("--until", a.until);
  if (!until) return std::unexpected(until.error());
  f.since_ms = *since;
  f.until_ms = *until;
  if (*since && *until && **since >= **until)
    return fail(ErrorKind::usage, "--since " + a.since + " is not before --until " + a.until + ": nothing could match");
  auto match = where_option(a.where);
  if (!match) return std::unexpected(match.error());
  f.event_body_match = std::move(*match);
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (!a.webhook.empty()) {
    auto id = webhook_filter_id(**store, a.webhook);
    if (!id) return std::unexpected(id.error());
    f.webhook_id = *id;
  }
  auto matched = store::list_deliveries(**store, f);
  if (!matched) return std::unexpected(matched.error());
  std::reverse(matched->begin(), matched->end());  // oldest first: replay in the order things happened
  auto orphaned = keep_sendable(**store, *matched);
  if (!orphaned) return std::unexpected(orphaned.error());
  const std::string orphan_note =
      *orphaned == 0 ? ""
                     : "; " + count_of(*orphaned, "delivery", "deliveries") + " of removed webhooks left out (nothing signs them)";
  if (a.dry_run) {
    print_dry_run(ctx, *matched, a.to, {{"skipped_removed_webhook", *orphaned}}, orphan_note);
    return {};
  }
  ctx.out().note("replaying " + count_of(matched->size(), "delivery", "deliveries") + orphan_note);
  auto sent = send_again(ctx, **store, *matched, delivery::Trigger::replay, a.to, "replay");
  if (!sent) return std::unexpected(sent.error());
  if (ctx.out().json())
    ctx.out().json_document({{"matched", matched->size()},
                             {"skipped_removed_webhook", *orphaned},
                             {"succeeded", sent->ok},
                             {"failed", sent->done - sent->ok},
                             {"attempts", sent->attempts}});
  else
    ctx.out().line("replayed " + std::to_string(sent->done) + ": " + std::to_string(sent->ok) + " succeeded, " +
                   std::to_string(sent->done - sent->ok) + " failed");
  if (sent->ok < sent->done)
    return fail(ErrorKind::rejected, count_of(sent->done - sent->ok, "replay", "replays") + " did not get a 2xx answer");
  return {};
}

struct RecoverArgs {
  std::string webhook;
  std::string since;
  std::string until;
  std::vector<std::string> where;
  bool dry_run = false;
};

// Svix's recover: after an outage, send a webhook what it missed (skipped
// while it was disabled) or never got (failed for good), oldest first.
Result<void> run_recover(Context& ctx, const RecoverArgs& a)
{
  auto since = time_option("--since", a.since);
  if (!since) return std::unexpected(since.error());
  auto until = time_option("--until", a.until);
  if (!until) return std::unexpected(until.error());
  if (*since && *until && **since >= **until)
    return fail(ErrorKind::usage, "--since " + a.since + " is not before --until " + a.until + ": nothing could match");
  auto match = where_option(a.where);
  if (!match) return std::unexpected(match.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::find_webhook(**store, a.webhook);
  if (!w) return std::unexpected(w.error());
  const std::string name = w->name.empty() ? w->id : w->name;
  std::vector<store::Delivery> matched;
  for (const char* status : {"skipped", "failed"}) {
    store::DeliveryFilter f;
    f.kind = "webhook";
    f.webhook_id = w->id;
    f.status = status;
    f.since_ms = *since;
    f.until_ms = *until;
    f.event_body_match = *match;
    f.limit = 0;
    auto part = store::list_deliveries(**store, f);
    if (!part) return std::unexpected(part.error());
    for (auto& d : *part) matched.push_back(std::move(d));
  }
  std::sort(matched.begin(), matched.end(), [](const auto& x, const auto& y) { return x.seq < y.seq; });
  for (auto& d : matched) d.url = w->url;
  if (a.dry_run) {
    print_dry_run(ctx, matched, "", {{"webhook", w->id}}, "");
    return {};
  }
  if (!w->active)
    return fail(ErrorKind::rejected, "webhook " + name + " is disabled" +
                                         (w->disabled_reason.empty() ? "" : " (" + w->disabled_reason + ")") +
                                         "; enable it first: centrali webhooks enable " + name);
  ctx.out().note("recovering " + count_of(matched.size(), "delivery", "deliveries") + " for " + name);
  auto sent = send_again(ctx, **store, matched, delivery::Trigger::recover, "", "recover");
  if (!sent) return std::unexpected(sent.error());
  const std::size_t unsent = matched.size() - sent->done;
  if (ctx.out().json()) {
    ctx.out().json_document({{"webhook", w->id},
                             {"matched", matched.size()},
                             {"succeeded", sent->ok},
                             {"failed", sent->done - sent->ok},
                             {"retrying", sent->retrying},
                             {"unsent", unsent},
                             {"webhook_disabled", sent->disabled.empty() ? json(nullptr) : json(sent->disabled)},
                             {"attempts", sent->attempts}});
  } else {
    ctx.out().line("recovered " + std::to_string(sent->done) + ": " + std::to_string(sent->ok) + " succeeded, " +
                   std::to_string(sent->done - sent->ok) + " failed" +
                   (sent->retrying > 0 ? " (" + std::to_string(sent->retrying) + " of them retry on the schedule)" : "") +
                   (unsent > 0 ? "; " + std::to_string(unsent) + " not sent: the webhook was disabled again" : ""));
  }
  if (sent->ok < matched.size())
    return fail(ErrorKind::rejected,
                count_of(matched.size() - sent->ok, "delivery was", "deliveries were") + " not recovered (no 2xx answer)");
  return {};
}

json stats_json(const store::Webhook& w, const delivery::WebhookStats& s, std::int64_t since_ms)
{
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  return {{"webhook_id", w.id},
          {"name", w.name.empty() ? json(nullptr) : json(w.name)},
          {"url", w.url},
          {"state", w.active ? "active" : "disabled"},
          {"disabled_reason", w.disabled_reason.empty() ? json(nullptr) : json(w.disabled_reason)},
          {"failing_since", w.failing_since_ms ? json(timeutil::format_rfc3339(*w.failing_since_ms)) : json(nullptr)},
          {"since", timeutil::format_rfc3339(since_ms)},
          {"attempts", s.attempts},
          {"succeeded", s.succeeded},
          {"success_rate", opt(s.success_rate)},
          {"p50_ms", opt(s.p50_ms)},
          {"p95_ms", opt(s.p95_ms)},
          {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
          {"last_error_at", s.last_error_ms ? json(timeutil::format_rfc3339(*s.last_error_ms)) : json(nullptr)}};
}

// Health at a glance: for each webhook (or one), what its attempts in the
// window came to.
Result<void> run_stats(Context& ctx, const std::string& id, const std::string& since_text)
{
  auto since = time_option("--since", since_text.empty() ? "24h" : since_text);
  if (!since) return std::unexpected(since.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  std::vector<store::Webhook> hooks;
  if (!id.empty()) {
    auto w = store::find_webhook(**store, id);
    if (!w) return std::unexpected(w.error());
    hooks.push_back(std::move(*w));
  } else {
    auto all = store::list_webhooks(**store);
    if (!all) return std::unexpected(all.error());
    hooks = std::move(*all);
  }
  auto attempts = store::webhook_attempts_since(**store, **since, id.empty() ? "" : hooks.front().id);
  if (!attempts) return std::unexpected(attempts.error());
  std::map<std::string, std::vector<store::AttemptOutcome>> by_webhook;
  for (auto& a : *attempts) by_webhook[a.webhook_id].push_back(std::move(a));
  std::vector<delivery::WebhookStats> stats;
  for (const auto& w : hooks) stats.push_back(delivery::webhook_stats(by_webhook[w.id]));
  if (ctx.out().json()) {
    if (!id.empty()) {
      ctx.out().json_document(stats_json(hooks.front(), stats.front(), **since));
      return {};
    }
    auto arr = json::array();
    for (std::size_t i = 0; i < hooks.size(); ++i) arr.push_back(stats_json(hooks[i], stats[i], **since));
    ctx.out().json_document(arr);
    return {};
  }
  if (hooks.empty()) {
    ctx.out().note("no webhooks");
    return {};
  }
  auto now = timeutil::now_ms();
  auto ms = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) + "ms" : std::string("-"); };
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const auto& w = hooks[i];
    const auto& st = stats[i];
    char rate[16] = "-";
    if (st.success_rate) std::snprintf(rate, sizeof rate, "%.1f%%", *st.success_rate * 100);
    rows.push_back({w.name.empty() ? w.id : for_terminal(w.name),
                    w.active ? ctx.out().paint("active", Style::green) : ctx.out().paint("disabled", Style::red),
                    std::to_string(st.attempts), rate, ms(st.p50_ms), ms(st.p95_ms),
                    st.last_error.empty() ? "-" : for_terminal(st.last_error) + " (" + timeutil::relative(*st.last_error_ms, now) + ")",
                    w.failing_since_ms ? timeutil::relative(*w.failing_since_ms, now) : "-"});
  }
  ctx.out().table({"WEBHOOK", "STATE", "ATTEMPTS", "SUCCESS", "P50", "P95", "LAST ERROR", "FAILING SINCE"}, rows);
  ctx.out().note("attempts since " + timeutil::format_rfc3339(**since));
  return {};
}

// `add` shows the defaults a new webhook gets; `update` keeps what it has.
void add_shared_options(CLI::App* cmd, WebhookArgs& a, bool adding)
{
  auto deflt = [adding](const char* text) { return adding ? std::string(" [default: ") + text + "]" : std::string(); };
  cmd->add_option("--name", a.name, "A name for people")->type_name("NAME");
  cmd->add_option("--header", a.headers,
                  std::string("Extra header on every attempt, 'Name: value' (repeatable") +
                      (adding ? ")" : "; replaces all of them)"))
      ->type_name("'NAME: VALUE'");
  cmd->add_option("--retry-schedule", a.retry_schedule,
                  "Delays between attempts after the first ('none' for no retries)" + deflt("30s,2m,10m,30m"))
      ->type_name("D,D,...");
  cmd->add_option("--timeout", a.timeout, "Per-attempt timeout; slower counts as failure" + deflt("15s"))
      ->type_name("DURATION");
  cmd->add_option("--disable-after", a.disable_after,
                  "Disable the webhook after failing continuously this long" + deflt("5d"))
      ->type_name("DURATION");
  cmd->add_option("--filter", a.filter,
                  std::string("Only events whose body meets this condition, e.g. data.object.customer=cus_1 or "
                              "'data.amount>=100' (repeatable: all must hold") +
                      (adding ? ")" : "; replaces all of them)"))
      ->type_name("'PATH OP VALUE'")
      ->allow_extra_args(false);
  cmd->add_flag("--insecure", a.insecure, "Do not verify the TLS certificate (self-signed local servers)");
}

} // namespace

void add_webhooks_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("webhooks", "Manage outbound webhooks; test, resend, replay and recover deliveries");
  cmd->require_subcommand(1);
  cmd->footer("Examples:\n  centrali webhooks add --url http://localhost:4000/hooks --events 'order.*'\n"
              "  centrali webhooks replay --status failed --since 24h");

  auto add_args = std::make_shared<WebhookArgs>();
  auto* add = cmd->add_subcommand("add", "Subscribe a URL to event types (prints its id and secret)");
  add->add_option("--url", add_args->url, "Where to POST")->required()->type_name("URL");
  add->add_option("--events", add_args->events, "Event types or globs, comma-separated (e.g. 'order.*,record_created')")
      ->required()
      ->type_name("GLOB[,GLOB...]");
  add->add_option("--secret", add_args->secret,
                  "Signing secret: a value, env:NAME or file:PATH (read now; the value is stored, as sending needs "
                  "it) [default: generated]")
      ->type_name("whsec_...");
  add_shared_options(add, *add_args, true);
  add->footer("Examples:\n  centrali webhooks add --url http://localhost:4000/hooks --events 'order.*'\n"
              "  centrali webhooks add --url https://erp.test/in --events '*' --header 'X-Tenant: 42' --retry-schedule 5s,1m\n"
              "  centrali webhooks add --url http://localhost:4000/big --events 'invoice.*' --filter 'data.object.amount_paid>=10000'");
  add->callback([&selected, add_args] { selected.run = [add_args](Context& c) { return run_add(c, *add_args); }; });

  auto list_status = std::make_shared<std::string>();
  auto* list = cmd->add_subcommand("list", "List webhooks (and why the disabled ones are off)");
  list->add_option("--status", *list_status, "Only active or only disabled webhooks")
      ->check(CLI::IsMember({"active", "disabled"}));
  list->footer("Examples:\n  centrali webhooks list --status disabled\n  centrali webhooks list --json");
  list->callback([&selected, list_status] {
    selected.run = [list_status](Context& c) { return run_list(c, *list_status); };
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Show a webhook, why it is disabled, and its recent deliveries");
  show->add_option("id", *show_id, "Webhook id (whk_...) or name")->required();
  show->footer("Example:\n  centrali webhooks show whk_01J...");
  show->callback([&selected, show_id] { selected.run = [show_id](Context& c) { return run_show(c, *show_id); }; });

  auto update_args = std::make_shared<WebhookArgs>();
  auto* update = cmd->add_subcommand("update", "Change a webhook's URL, events or delivery settings");
  update->add_option("id", update_args->id, "Webhook id or name")->required();
  update->add_option("--url", update_args->url, "Where to POST")->type_name("URL");
  update->add_option("--events", update_args->events, "Event types or globs, comma-separated")
      ->type_name("GLOB[,GLOB...]");
  update->add_flag("--secure", update_args->secure, "Verify TLS certificates again");
  update->add_flag("--clear-headers", update_args->clear_headers, "Remove every custom header");
  update->add_flag("--clear-filter", update_args->clear_filter, "Remove every --filter condition");
  add_shared_options(update, *update_args, false);
  update->footer("A new --url also retargets the webhook's existing deliveries: pending retries,\n"
                 "resend and replay go to it (each attempt keeps the URL it was sent to).\n\n"
                 "Examples:\n  centrali webhooks update whk_01J... --events 'order.*,invoice.*'\n"
                 "  centrali webhooks update whk_01J... --retry-schedule 5s,1m --timeout 30s\n"
                 "  centrali webhooks update whk_01J... --url http://localhost:3000/hooks && \\\n"
                 "    centrali webhooks replay --webhook whk_01J... --status failed");
  update->callback([&selected, update_args] {
    selected.run = [update_args](Context& c) { return run_update(c, *update_args); };
  });

  for (auto [verb, help] : {std::pair{"rm", "Remove a webhook (its delivery log is kept)"},
                            std::pair{"enable", "Enable a webhook (clears its failure streak)"},
                            std::pair{"disable", "Disable a webhook: deliveries to it stop (test, resend, replay still send)"}}) {
    auto id = std::make_shared<std::string>();
    auto* sub = cmd->add_subcommand(verb, help);
    sub->add_option("id", *id, "Webhook id or name")->required();
    sub->footer(std::string("Example:\n  centrali webhooks ") + verb + " whk_01J...");
    std::string v = verb;
    sub->callback([&selected, id, v] {
      selected.run = [id, v](Context& c) {
        if (v == "rm") return run_rm(c, *id);
        return set_active(c, *id, v == "enable");
      };
    });
  }

  auto rotate_id = std::make_shared<std::string>();
  auto rotate_secret = std::make_shared<std::string>();
  auto* rotate = cmd->add_subcommand("rotate-secret", "New signing secret; the old one keeps signing alongside for 24 h");
  rotate->add_option("id", *rotate_id, "Webhook id or name")->required();
  rotate->add_option("--secret", *rotate_secret,
                     "Use this secret instead of a generated one: a value, env:NAME or file:PATH (read now; the "
                     "value is stored)")
      ->type_name("whsec_...");
  rotate->footer("Prints the new secret (shown only here).\nExample:\n  centrali webhooks rotate-secret whk_01J...");
  rotate->callback([&selected, rotate_id, rotate_secret] {
    selected.run = [rotate_id, rotate_secret](Context& c) { return run_rotate(c, *rotate_id, *rotate_secret); };
  });

  auto test_args = std::make_shared<TestArgs>();
  auto* test = cmd->add_subcommand("test", "Send a test event now and wait (exit 1 if not 2xx, 5 if unreachable)");
  test->add_option("id", test_args->id, "Webhook id or name")->required();
  test->add_option("--type", test_args->type, "Event type of the test event")->capture_default_str();
  test->add_option("--data", test_args->data, "Event data (JSON) [default: {\"message\":\"test event from centrali\"}]")
      ->type_name("JSON");
  test->footer("Example:\n  centrali webhooks test whk_01J... --type order.created --data '{\"id\":1}'");
  test->callback([&selected, test_args] { selected.run = [test_args](Context& c) { return run_test(c, *test_args); }; });

  auto resend_id = std::make_shared<std::string>();
  auto resend_to = std::make_shared<std::string>();
  auto* resend = cmd->add_subcommand("resend", "Send a delivery again now: same webhook-id, fresh signature");
  resend->add_option("delivery", *resend_id, "Delivery id (dlv_...)")->required();
  resend->add_option("--to", *resend_to, "Send to this URL instead of the webhook's")->type_name("URL");
  resend->footer("Exit status 1 when not answered 2xx, 5 when unreachable.\n"
                 "Examples:\n  centrali webhooks resend dlv_01J...\n  centrali webhooks resend dlv_01J... --to http://localhost:4000/hooks");
  resend->callback([&selected, resend_id, resend_to] {
    selected.run = [resend_id, resend_to](Context& c) { return run_resend(c, *resend_id, *resend_to); };
  });

  auto replay_args = std::make_shared<ReplayArgs>();
  auto* replay = cmd->add_subcommand("replay", "Resend every matching delivery (e.g. all failed since yesterday)");
  replay->add_option("--webhook", replay_args->webhook, "Only this webhook's deliveries (id or name)");
  replay->add_option("--status", replay_args->status, "Only deliveries in this state")
      ->check(CLI::IsMember({"pending", "succeeded", "failed", "cancelled", "skipped"}));
  replay->add_option("--type", replay_args->type, "Only event types matching this glob")->type_name("GLOB");
  replay->add_option("--since", replay_args->since, "Only deliveries created since")->type_name("DURATION|TIME");
  replay->add_option("--until", replay_args->until, "Only deliveries created before")->type_name("DURATION|TIME");
  add_where_option(replay, replay_args->where, "the delivered event's body");
  replay->add_option("--to", replay_args->to, "Send to this URL instead")->type_name("URL");
  replay->add_flag("--dry-run", replay_args->dry_run, "Only list what would be sent");
  replay->footer("Examples:\n  centrali webhooks replay --status failed --since 24h --dry-run\n"
                 "  centrali webhooks replay --status failed --where data.object.customer=cus_1");
  replay->callback([&selected, replay_args] {
    selected.run = [replay_args](Context& c) { return run_replay(c, *replay_args); };
  });

  auto stats_id = std::make_shared<std::string>();
  auto stats_since = std::make_shared<std::string>();
  auto* stats = cmd->add_subcommand("stats", "Health at a glance: attempts, success rate, latency, last error");
  stats->add_option("id", *stats_id, "Webhook id or name [default: every webhook]");
  stats->add_option("--since", *stats_since, "Count attempts started since [default: 24h]")->type_name("DURATION|TIME");
  stats->footer("Examples:\n  centrali webhooks stats\n  centrali webhooks stats billing --since 1h --json");
  stats->callback([&selected, stats_id, stats_since] {
    selected.run = [stats_id, stats_since](Context& c) { return run_stats(c, *stats_id, *stats_since); };
  });

  auto recover_args = std::make_shared<RecoverArgs>();
  auto* recover = cmd->add_subcommand(
      "recover", "Send a webhook what it missed since a time: skipped while disabled, or failed for good");
  recover->add_option("id", recover_args->webhook, "Webhook id or name")->required();
  recover->add_option("--since", recover_args->since, "Deliveries made since")->required()->type_name("DURATION|TIME");
  recover->add_option("--until", recover_args->until, "Deliveries made before")->type_name("DURATION|TIME");
  add_where_option(recover, recover_args->where, "the delivered event's body");
  recover->add_flag("--dry-run", recover_args->dry_run, "Only list what would be sent");
  recover->footer("Oldest first, each recorded as a 'recover' attempt; one that fails retries on the\n"
                  "webhook's schedule if it was skipped. Stops if the endpoint answers 410 again.\n"
                  "Exit status 1 when a delivery got no 2xx answer.\n"
                  "Examples:\n  centrali webhooks enable billing && centrali webhooks recover billing --since 24h\n"
                  "  centrali webhooks recover whk_01J... --since 2026-12-01T00:00:00Z --dry-run");
  recover->callback([&selected, recover_args] {
    selected.run = [recover_args](Context& c) { return run_recover(c, *recover_args); };
  });
}

} // namespace centrali::cli

// `centrali webhooks ...`: outbound subscriptions, test sends, resend and replay.
#include <unistd.h>

#include <map>
#include <optional>

#include <CLI/CLI.hpp>

#include "centrali/delivery/attempt.hpp"
#include "centrali/delivery/retry.hpp"
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

namespace centrali::cli {
namespace {

using json = nlohmann::json;
constexpr std::int64_t k_rotation_grace_ms = 24LL * 3600 * 1000;

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

Result<void> run_list(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto hooks = store::list_webhooks(**store);
  if (!hooks) return std::unexpected(hooks.error());
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& w : *hooks) arr.push_back(webhook_json(w, false));
    ctx.out().json_document(arr);
    return {};
  }
  if (hooks->empty()) {
    ctx.out().note("no webhooks; add one with 'centrali webhooks add --url URL --events GLOB'");
    return {};
  }
  auto now = timeutil::now_ms();
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : *hooks)
    rows.push_back({w.id, w.name.empty() ? "-" : w.name, shown_url(w.url),
                    w.events + (w.filter.empty() ? "" : " where " + filter_text(w.filter)),
                    w.active ? ctx.out().paint("active", Style::green) : ctx.out().paint("disabled", Style::red),
                    timeutil::relative(w.created_ms, now)});
  ctx.out().table({"ID", "NAME", "URL", "EVENTS", "STATE", "CREATED"}, rows);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto w = store::get_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  store::DeliveryFilter f;
  f.webhook_id = id;
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
    auto w = store::get_webhook(**store, a.id);
    if (!w) return std::unexpected(w.error());
    if (auto r = apply_options(a, *w); !r) return r;
    w->updated_ms = timeutil::now_ms();
    if (auto r = store::update_webhook(**store, *w); !r) return r;
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
  auto w = store::get_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  w->active = active;
  w->disabled_reason = active ? "" : "disabled by 'centrali webhooks disable'";
  w->failing_since_ms.reset();  // a fresh start either way
  w->updated_ms = timeutil::now_ms();
  if (auto r = store::update_webhook(**store, *w); !r) return r;
  if (ctx.out().json()) ctx.out().json_document(webhook_json(*w, false));
  else ctx.out().line((active ? "enabled " : "disabled ") + id);
  return {};
}

Result<void> run_rm(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (auto r = store::remove_webhook(**store, id); !r) return r;
  if (ctx.out().json()) ctx.out().json_document({{"removed", id}});
  else ctx.out().line("removed " + id + " (its delivery log is kept)");
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
  auto w = store::get_webhook(**store, id);
  if (!w) return std::unexpected(w.error());
  auto now = timeutil::now_ms();
  w->previous_secret = w->secret;
  w->previous_until_ms = now + k_rotation_grace_ms;
  w->secret = secret;
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
  auto w = store::get_webhook(**store, a.id);
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
  f.webhook_id = a.webhook;
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
  auto matched = store::list_deliveries(**store, f);
  if (!matched) return std::unexpected(matched.error());
  // A mistyped --webhook matches nothing; say so rather than replay nothing
  // quietly. (A removed webhook's id still finds its deliveries.)
  if (!a.webhook.empty() && matched->empty()) {
    auto w = store::get_webhook(**store, a.webhook);
    if (!w) return std::unexpected(w.error());
  }
  std::reverse(matched->begin(), matched->end());  // oldest first: replay in the order things happened
  // Deliveries of removed webhooks cannot be signed: they are left out, and
  // said so, rather than recorded as failed attempts.
  std::size_t orphaned = 0;
  {
    std::map<std::string, std::optional<std::string>> webhook_url;  // nullopt: removed
    std::vector<store::Delivery> sendable;
    for (auto& d : *matched) {
      if (d.kind == "webhook") {
        auto [it, fresh] = webhook_url.try_emplace(d.webhook_id);
        if (fresh) {
          auto r = send_target(**store, d);
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
    *matched = std::move(sendable);
  }
  const std::string orphan_note =
      orphaned == 0 ? ""
                    : "; " + count_of(orphaned, "delivery", "deliveries") + " of removed webhooks left out (nothing signs them)";
  if (a.dry_run) {
    if (ctx.out().json()) {
      auto arr = json::array();
      for (const auto& d : *matched) arr.push_back(delivery_json(d));
      ctx.out().json_document(
          {{"matched", matched->size()}, {"skipped_removed_webhook", orphaned}, {"dry_run", true}, {"deliveries", arr}});
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& d : *matched)
        rows.push_back({d.id, for_terminal(d.event_type), d.status, shown_url(a.to.empty() ? d.url : a.to)});
      if (!rows.empty()) ctx.out().table({"DELIVERY", "TYPE", "STATUS", "WOULD SEND TO"}, rows);
      ctx.out().note(count_of(matched->size(), "delivery matches", "deliveries match") + " (dry run: nothing sent)" +
                     orphan_note);
    }
    return {};
  }
  http::ClientPool clients;
  std::size_t ok = 0, done = 0;
  auto results = json::array();
  ctx.out().note("replaying " + count_of(matched->size(), "delivery", "deliveries") + orphan_note);
  for (const auto& d : *matched) {
    delivery::AttemptInput in;
    in.delivery = d;
    in.trigger = delivery::Trigger::replay;
    in.url_override = a.to;
    auto result = delivery::perform_attempt(**store, clients, in, {});
    if (auto r = delivery::record_result(**store, result); !r) return r;
    ok += result.ok ? 1 : 0;
    ++done;
    if (!result.disabled_webhook.empty() && !ctx.out().json())
      ctx.out().note("webhook " + result.webhook_id + " is now disabled: " + result.disabled_webhook);
    if (ctx.out().json()) results.push_back(attempt_json(result.attempt));
    else if (!::isatty(STDERR_FILENO) || ctx.out().verbosity() > 0) ctx.out().line(attempt_line(ctx.out(), result.attempt));
    ctx.out().progress(done, matched->size(), "replay");
  }
  if (ctx.out().json())
    ctx.out().json_document({{"matched", matched->size()},
                             {"skipped_removed_webhook", orphaned},
                             {"succeeded", ok},
                             {"failed", done - ok},
                             {"attempts", results}});
  else
    ctx.out().line("replayed " + std::to_string(done) + ": " + std::to_string(ok) + " succeeded, " +
                   std::to_string(done - ok) + " failed");
  if (ok < done)
    return fail(ErrorKind::rejected, count_of(done - ok, "replay", "replays") + " did not get a 2xx answer");
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
  auto* cmd = app.add_subcommand("webhooks", "Manage outbound webhooks; test, resend and replay deliveries");
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

  auto* list = cmd->add_subcommand("list", "List webhooks");
  list->footer("Example:\n  centrali webhooks list --json");
  list->callback([&selected] { selected.run = run_list; });

  auto show_id = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Show a webhook, why it is disabled, and its recent deliveries");
  show->add_option("id", *show_id, "Webhook id (whk_...)")->required();
  show->footer("Example:\n  centrali webhooks show whk_01J...");
  show->callback([&selected, show_id] { selected.run = [show_id](Context& c) { return run_show(c, *show_id); }; });

  auto update_args = std::make_shared<WebhookArgs>();
  auto* update = cmd->add_subcommand("update", "Change a webhook's URL, events or delivery settings");
  update->add_option("id", update_args->id, "Webhook id")->required();
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
    sub->add_option("id", *id, "Webhook id")->required();
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
  rotate->add_option("id", *rotate_id, "Webhook id")->required();
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
  test->add_option("id", test_args->id, "Webhook id")->required();
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
  replay->add_option("--webhook", replay_args->webhook, "Only this webhook's deliveries");
  replay->add_option("--status", replay_args->status, "Only deliveries in this state")
      ->check(CLI::IsMember({"pending", "succeeded", "failed", "cancelled"}));
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
}

} // namespace centrali::cli

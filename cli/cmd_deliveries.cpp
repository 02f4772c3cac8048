// `centrali deliveries list|show|tail|cancel`: the outbound delivery log.
#include <map>
#include <thread>

#include <CLI/CLI.hpp>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"
#include "list_limit.hpp"
#include "render_deliveries.hpp"
#include "webhook_ref.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct ListArgs {
  std::string webhook;
  std::string status;
  std::string event;
  std::string type;
  std::string since;
  std::string until;
  std::string reason;
  std::string kind;
  std::vector<std::string> where;
  int limit = 50;
  bool limit_given = false;
};

// Where a delivery goes, as people know it: its webhook's name, else the URL.
std::string target_of(const store::Delivery& d, const std::map<std::string, store::Webhook>& webhooks)
{
  if (d.kind == "webhook") {
    auto w = webhooks.find(d.webhook_id);
    if (w != webhooks.end() && !w->second.name.empty()) return for_terminal(w->second.name);
    if (w == webhooks.end() && !d.webhook_id.empty()) return d.webhook_id + " (removed)";
  } else {
    return "forward " + shown_url(d.url);
  }
  return shown_url(d.url);
}

// The last answer or error, short enough for a table row.
std::string last_of(const store::Delivery& d)
{
  std::string last = !d.last_error.empty() ? d.last_error : d.last_status ? "HTTP " + std::to_string(*d.last_status) : "-";
  if (last.size() > 60) last = last.substr(0, 57) + "...";
  return for_terminal(last);
}

Result<void> run_list(Context& ctx, const ListArgs& a)
{
  store::DeliveryFilter f;
  f.status = a.status;
  f.event_id = a.event;
  f.type_glob = a.type;
  f.kind = a.kind;
  f.reason_glob = a.reason;
  const ListLimit limit{a.limit, a.limit_given};
  f.limit = fetch_limit(limit);
  if (a.limit < 0) return fail(ErrorKind::usage, "--limit must be 0 or more");
  auto since = time_option("--since", a.since);
  if (!since) return std::unexpected(since.error());
  auto until = time_option("--until", a.until);
  if (!until) return std::unexpected(until.error());
  if (*since && *until && **since >= **until)
    return fail(ErrorKind::usage, "--since " + a.since + " is not before --until " + a.until + ": nothing could match");
  f.active_since_ms = *since;
  f.active_until_ms = *until;
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
  auto rows = store::list_deliveries(**store, f);
  if (!rows) return std::unexpected(rows.error());
  auto hooks = store::list_webhooks(**store);
  if (!hooks) return std::unexpected(hooks.error());
  std::map<std::string, store::Webhook> webhooks;
  for (auto& w : *hooks) webhooks.emplace(w.id, std::move(w));
  // A mistyped --event matches nothing: "not found" (exit 3), not an empty
  // list. (Pruning an event removes its deliveries too.)
  if (rows->empty() && !a.event.empty())
    if (auto e = store::get_event(**store, a.event); !e) {
      if (e.error().kind != ErrorKind::not_found) return std::unexpected(e.error());
      return fail(ErrorKind::not_found, "--event: no event " + a.event);
    }
  const bool cut = cut_to_limit(*rows, limit);
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& d : *rows) {
      auto j = delivery_json(d);
      auto w = webhooks.find(d.webhook_id);
      j["webhook_name"] = w != webhooks.end() && !w->second.name.empty() ? json(w->second.name) : json(nullptr);
      arr.push_back(std::move(j));
    }
    ctx.out().json_document(arr);
    note_if_cut(ctx.out(), limit, cut, "newest");
    return {};
  }
  if (rows->empty()) {
    ctx.out().note("no deliveries match");
    return {};
  }
  auto now = timeutil::now_ms();
  std::vector<std::vector<std::string>> table;
  for (const auto& d : *rows) {
    auto status = d.status == "succeeded" ? ctx.out().paint(d.status, Style::green)
                  : d.status == "failed"  ? ctx.out().paint(d.status, Style::red)
                  : d.status == "pending" ? ctx.out().paint(d.status, Style::yellow)
                                          : d.status;
    std::string next = d.next_attempt_ms ? timeutil::relative(*d.next_attempt_ms, now) : "-";
    table.push_back({d.id, target_of(d, webhooks), for_terminal(d.event_type), status,
                     std::to_string(d.attempt_count), last_of(d), next, timeutil::relative(d.updated_ms, now)});
  }
  ctx.out().table({"ID", "TO", "TYPE", "STATUS", "ATTEMPTS", "LAST", "NEXT", "UPDATED"}, table);
  note_if_cut(ctx.out(), limit, cut, "newest");
  return {};
}

// A body in the terminal: escaped, and cut after 2,000 bytes (--json has it whole).
std::string shown_body(const std::string& body)
{
  return for_terminal(body.size() > 2000 ? body.substr(0, 2000) + "…" : body, true);
}

Result<void> run_show(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto d = store::get_delivery(**store, id);
  if (!d) return std::unexpected(d.error());
  auto attempts = store::list_attempts(**store, id);
  if (!attempts) return std::unexpected(attempts.error());
  // A removed webhook's deliveries keep its id; say that it is gone. A
  // disabled one says why (a 410 from this delivery's endpoint, say).
  bool webhook_removed = false;
  std::string webhook_disabled;
  if (d->kind == "webhook" && !d->webhook_id.empty()) {
    auto w = store::get_webhook(**store, d->webhook_id);
    if (!w && w.error().kind != ErrorKind::not_found) return std::unexpected(w.error());
    webhook_removed = !w;
    if (w && !w->active) webhook_disabled = w->disabled_reason.empty() ? "disabled" : "disabled: " + w->disabled_reason;
  }
  if (ctx.out().json()) {
    auto j = delivery_json(*d);
    if (d->kind == "webhook") j["webhook_removed"] = webhook_removed || d->webhook_id.empty();
    j["attempt_log"] = json::array();
    for (const auto& a : *attempts) j["attempt_log"].push_back(attempt_json(a));
    ctx.out().json_document(j);
    return {};
  }
  auto now = timeutil::now_ms();
  std::vector<std::pair<std::string, std::string>> fields{
      {"id", d->id},
      {"kind", d->kind},
      {"webhook", d->webhook_id.empty() ? (d->kind == "webhook" ? "- (removed)" : "-")
                                        : d->webhook_id + (webhook_removed ? " (removed)"
                                                           : webhook_disabled.empty()
                                                               ? ""
                                                               : " (" + for_terminal(webhook_disabled) + ")")},
      {"event", d->event_id + " (" + for_terminal(d->event_type) + ")"},
      {"url", shown_url(d->url)},
      {"status", d->status}};
  // Why the last attempt failed, as --json's last_error says it ("HTTP 302
  // (redirects are not followed)"): the status code alone does not tell.
  if (!d->last_error.empty()) fields.emplace_back("last error", for_terminal(d->last_error));
  fields.emplace_back("next attempt", d->next_attempt_ms ? timeutil::format_rfc3339(*d->next_attempt_ms) + " (" +
                                                               timeutil::relative(*d->next_attempt_ms, now) + ")"
                                                         : "-");
  fields.emplace_back("created", timeutil::format_rfc3339(d->created_ms));
  ctx.out().fields(fields);
  for (const auto& a : *attempts) {
    ctx.out().line("");
    ctx.out().line(ctx.out().paint("attempt " + std::to_string(a.number), Style::bold) + "  " + a.trigger + "  " +
                   timeutil::format_rfc3339(a.started_ms) + "  " + std::to_string(a.duration_ms) + "ms" +
                   fast_forward_note(a));
    ctx.out().line("  POST " + shown_url(a.url));
    if (!a.signature.empty()) ctx.out().line("  signature: " + for_terminal(a.signature));
    for (const auto& h : a.request_headers) ctx.out().line("  > " + for_terminal(h.name) + ": " + for_terminal(h.value));
    if (!a.request_body.empty()) ctx.out().line("  > " + shown_body(a.request_body));
    if (a.response_status) {
      ctx.out().line("  < HTTP " + std::to_string(*a.response_status));
      for (const auto& h : a.response_headers) ctx.out().line("  < " + for_terminal(h.name) + ": " + for_terminal(h.value));
      if (!a.response_body.empty()) ctx.out().line("  " + shown_body(a.response_body));
    } else {
      ctx.out().line("  " + ctx.out().paint("error: " + for_terminal(a.error), Style::red));
    }
  }
  return {};
}

Result<void> run_tail(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto last = store::last_attempt_seq(**store);
  if (!last) return std::unexpected(last.error());
  std::int64_t after = *last;
  if (!ctx.out().json()) ctx.out().note("waiting for delivery attempts (Ctrl-C to stop)");
  while (true) {
    auto rows = store::attempts_after(**store, after, 500);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& a : *rows) {
      if (ctx.out().json()) ctx.out().json_line(attempt_json(a));
      else {
        ctx.out().line(timeutil::format_rfc3339(a.started_ms) + "  " + a.delivery_id + "  " + attempt_line(ctx.out(), a));
        std::fflush(stdout);
      }
      after = a.seq;
    }
    if (rows->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<void> run_cancel(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto d = store::cancel_delivery(**store, id, timeutil::now_ms());
  if (!d) return std::unexpected(d.error());
  if (ctx.out().json()) ctx.out().json_document(delivery_json(*d));
  else ctx.out().line("cancelled " + id);
  return {};
}

} // namespace

void add_deliveries_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("deliveries", "Inspect the outbound delivery log");
  cmd->require_subcommand(1);
  cmd->footer("Examples:\n  centrali deliveries list --status failed\n  centrali deliveries show dlv_01J...");

  auto list_args = std::make_shared<ListArgs>();
  auto* list = cmd->add_subcommand("list", "List deliveries, newest first");
  list->add_option("--webhook", list_args->webhook, "Only this webhook's deliveries")->type_name("ID|NAME");
  list->add_option("--status", list_args->status, "Only deliveries in this state")
      ->check(CLI::IsMember({"pending", "succeeded", "failed", "cancelled", "skipped"}));
  list->add_option("--event", list_args->event, "Only deliveries of this event")->type_name("ID");
  list->add_option("--type", list_args->type, "Only event types matching this glob")->type_name("GLOB");
  list->add_option("--kind", list_args->kind, "Only webhook deliveries, or only listen's forwards to your app")
      ->check(CLI::IsMember({"webhook", "forward"}));
  list->add_option("--since", list_args->since, "Only deliveries attempted (or made) since")->type_name("DURATION|TIME");
  list->add_option("--until", list_args->until, "Only deliveries made before")->type_name("DURATION|TIME");
  list->add_option("--reason", list_args->reason, "Only deliveries whose last error matches this glob")
      ->type_name("GLOB");
  add_where_option(list, list_args->where, "the delivered event's body");
  auto* limit = list->add_option("--limit", list_args->limit, "At most N (0 = all)")->capture_default_str();
  list->footer("TO is the webhook's name (or its URL); LAST the last answer or error.\n"
               "Examples:\n  centrali deliveries list --status failed --since 1h\n"
               "  centrali deliveries list --webhook billing --reason 'HTTP 5*'\n"
               "  centrali deliveries list --status skipped --webhook billing\n"
               "  centrali deliveries list --where data.object.customer=cus_1   # what did we send about this customer?");
  list->callback([&selected, list_args, limit] {
    list_args->limit_given = limit->count() > 0;
    selected.run = [list_args](Context& c) { return run_list(c, *list_args); };
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Show a delivery and every attempt: request, response, timing, error");
  show->add_option("id", *show_id, "Delivery id (dlv_...)")->required();
  show->footer("Example:\n  centrali deliveries show dlv_01J... --json");
  show->callback([&selected, show_id] { selected.run = [show_id](Context& c) { return run_show(c, *show_id); }; });

  auto* tail = cmd->add_subcommand("tail", "Follow attempts as they happen (NDJSON with --json)");
  tail->footer("Example:\n  centrali deliveries tail --json");
  tail->callback([&selected] { selected.run = run_tail; });

  auto cancel_id = std::make_shared<std::string>();
  auto* cancel = cmd->add_subcommand("cancel", "Stop retrying a pending delivery");
  cancel->add_option("id", *cancel_id, "Delivery id")->required();
  cancel->footer("Exit status 1 when the delivery is not pending.\nExample:\n  centrali deliveries cancel dlv_01J...");
  cancel->callback([&selected, cancel_id] { selected.run = [cancel_id](Context& c) { return run_cancel(c, *cancel_id); }; });
}

} // namespace centrali::cli

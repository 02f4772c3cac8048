// `centrali deliveries list|show|tail|cancel`: the outbound delivery log.
#include <thread>

#include <CLI/CLI.hpp>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"
#include "render_deliveries.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct ListArgs {
  std::string webhook;
  std::string status;
  std::string event;
  std::string type;
  std::string since;
  std::string kind;
  std::vector<std::string> where;
  int limit = 50;
};

Result<void> run_list(Context& ctx, const ListArgs& a)
{
  store::DeliveryFilter f;
  f.webhook_id = a.webhook;
  f.status = a.status;
  f.event_id = a.event;
  f.type_glob = a.type;
  f.kind = a.kind;
  f.limit = a.limit;
  if (a.limit < 0) return fail(ErrorKind::usage, "--limit must be 0 or more");
  auto since = time_option("--since", a.since);
  if (!since) return std::unexpected(since.error());
  f.since_ms = *since;
  auto match = where_option(a.where);
  if (!match) return std::unexpected(match.error());
  f.event_body_match = std::move(*match);
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto rows = store::list_deliveries(**store, f);
  if (!rows) return std::unexpected(rows.error());
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& d : *rows) arr.push_back(delivery_json(d));
    ctx.out().json_document(arr);
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
    std::string last = d.last_status ? std::to_string(*d.last_status) : (d.last_error.empty() ? "-" : for_terminal(d.last_error));
    std::string next = d.next_attempt_ms ? timeutil::relative(*d.next_attempt_ms, now) : "-";
    table.push_back({d.id, d.kind == "webhook" ? d.webhook_id : "forward", for_terminal(d.event_type), status,
                     std::to_string(d.attempt_count), last, next, timeutil::relative(d.created_ms, now)});
  }
  ctx.out().table({"ID", "WEBHOOK", "TYPE", "STATUS", "ATTEMPTS", "LAST", "NEXT", "CREATED"}, table);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto d = store::get_delivery(**store, id);
  if (!d) return std::unexpected(d.error());
  auto attempts = store::list_attempts(**store, id);
  if (!attempts) return std::unexpected(attempts.error());
  // A removed webhook's deliveries keep its id; say that it is gone.
  bool webhook_removed = false;
  if (d->kind == "webhook" && !d->webhook_id.empty()) {
    auto w = store::get_webhook(**store, d->webhook_id);
    if (!w && w.error().kind != ErrorKind::not_found) return std::unexpected(w.error());
    webhook_removed = !w;
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
  ctx.out().fields({{"id", d->id},
                    {"kind", d->kind},
                    {"webhook", d->webhook_id.empty() ? (d->kind == "webhook" ? "- (removed)" : "-")
                                                      : d->webhook_id + (webhook_removed ? " (removed)" : "")},
                    {"event", d->event_id + " (" + for_terminal(d->event_type) + ")"},
                    {"url", shown_url(d->url)},
                    {"status", d->status},
                    {"next attempt", d->next_attempt_ms ? timeutil::format_rfc3339(*d->next_attempt_ms) + " (" +
                                                              timeutil::relative(*d->next_attempt_ms, now) + ")"
                                                        : "-"},
                    {"created", timeutil::format_rfc3339(d->created_ms)}});
  for (const auto& a : *attempts) {
    ctx.out().line("");
    ctx.out().line(ctx.out().paint("attempt " + std::to_string(a.number), Style::bold) + "  " + a.trigger + "  " +
                   timeutil::format_rfc3339(a.started_ms) + "  " + std::to_string(a.duration_ms) + "ms");
    ctx.out().line("  POST " + shown_url(a.url));
    if (!a.signature.empty()) ctx.out().line("  signature: " + for_terminal(a.signature));
    for (const auto& h : a.request_headers) ctx.out().line("  > " + for_terminal(h.name) + ": " + for_terminal(h.value));
    if (a.response_status) {
      ctx.out().line("  < HTTP " + std::to_string(*a.response_status));
      for (const auto& h : a.response_headers) ctx.out().line("  < " + for_terminal(h.name) + ": " + for_terminal(h.value));
      if (!a.response_body.empty()) {
        std::string body = a.response_body.size() > 2000 ? a.response_body.substr(0, 2000) + "…" : a.response_body;
        ctx.out().line("  " + for_terminal(body, true));
      }
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
  list->add_option("--webhook", list_args->webhook, "Only this webhook's deliveries")->type_name("ID");
  list->add_option("--status", list_args->status, "Only deliveries in this state")
      ->check(CLI::IsMember({"pending", "succeeded", "failed", "cancelled"}));
  list->add_option("--event", list_args->event, "Only deliveries of this event")->type_name("ID");
  list->add_option("--type", list_args->type, "Only event types matching this glob")->type_name("GLOB");
  list->add_option("--kind", list_args->kind, "Only webhook deliveries, or only listen's forwards to your app")
      ->check(CLI::IsMember({"webhook", "forward"}));
  list->add_option("--since", list_args->since, "Only deliveries created since")->type_name("DURATION|TIME");
  add_where_option(list, list_args->where, "the delivered event's body");
  list->add_option("--limit", list_args->limit, "At most N (0 = all)")->capture_default_str();
  list->footer("Examples:\n  centrali deliveries list --status failed --since 1h\n"
               "  centrali deliveries list --where data.object.customer=cus_1   # what did we send about this customer?");
  list->callback([&selected, list_args] { selected.run = [list_args](Context& c) { return run_list(c, *list_args); }; });

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

// `centrali events list|show|tail|export|import|replay`: the event log.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "centrali/delivery/replay.hpp"
#include "centrali/dispatch/explain.hpp"
#include "centrali/ingest/event_type.hpp"
#include "centrali/ingest/verification.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/util/encoding.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/json_path.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"
#include "centrali/util/utf8.hpp"
#include "context.hpp"
#include "list_limit.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct FilterArgs {
  std::string source;
  std::string type;
  std::string status;
  std::string since;
  std::string until;
  std::vector<std::string> where;
  int limit = 50;
  bool limit_given = false;  // set by `list`, which says when its default cut it
};

void add_filter_options(CLI::App* cmd, FilterArgs& f, bool with_limit, int default_limit)
{
  f.limit = default_limit;
  cmd->add_option("--source", f.source, "Only events from this source ('local' for events made here)");
  cmd->add_option("--type", f.type, "Only event types matching this glob (e.g. 'invoice.*')")->type_name("GLOB");
  cmd->add_option("--status", f.status, "Only accepted, rejected or duplicate events")
      ->check(CLI::IsMember({"accepted", "rejected", "duplicate"}));
  cmd->add_option("--since", f.since, "Only events received since (e.g. 2h, 2026-11-27T10:00:00Z)")
      ->type_name("DURATION|TIME");
  cmd->add_option("--until", f.until, "Only events received before this time")->type_name("DURATION|TIME");
  add_where_option(cmd, f.where, "the body");
  if (with_limit) cmd->add_option("--limit", f.limit, "At most N events (0 = all)")->capture_default_str();
}

// Called when a filter matched nothing: a --source that names no source,
// and that no stored event came from, is most likely a typo, and "not
// found" (exit 3) says so where an empty list would not. A removed
// source's events still list, and `local` (events made here) always exists.
Result<void> check_source_known(store::Store& store, const std::string& source)
{
  if (source.empty() || source == "local") return {};
  auto found = store::get_source(store, source);
  if (found) return {};
  if (found.error().kind != ErrorKind::not_found) return std::unexpected(found.error());
  store::EventFilter any;
  any.source = source;
  any.limit = 1;
  auto events = store::list_events(store, any);
  if (!events) return std::unexpected(events.error());
  if (!events->empty()) return {};
  return fail(ErrorKind::not_found, "--source: no source named '" + source + "', and no stored event came from one");
}

Result<store::EventFilter> to_filter(const FilterArgs& a)
{
  store::EventFilter f;
  f.source = a.source;
  f.type_glob = a.type;
  f.status = a.status;
  f.limit = a.limit;
  if (a.limit < 0) return fail(ErrorKind::usage, "--limit must be 0 or more");
  auto since = time_option("--since", a.since);
  if (!since) return std::unexpected(since.error());
  auto until = time_option("--until", a.until);
  if (!until) return std::unexpected(until.error());
  f.since_ms = *since;
  f.until_ms = *until;
  auto match = where_option(a.where);
  if (!match) return std::unexpected(match.error());
  f.body_match = std::move(*match);
  return f;
}

json event_summary(const store::Event& e)
{
  json j = {{"id", e.id},
            {"source", e.source},
            {"type", e.type},
            {"status", e.status},
            {"http_status", e.http_status},
            {"received_at", timeutil::format_rfc3339(e.received_ms)}};
  j["reason"] = e.reason.empty() ? json(nullptr) : json(e.reason);
  j["dedupe_key"] = e.dedupe_key.empty() ? json(nullptr) : json(e.dedupe_key);
  j["duplicate_of"] = e.duplicate_of.empty() ? json(nullptr) : json(e.duplicate_of);
  return j;
}

// The full event. The body is a string when it is UTF-8 text (JSON strings
// round-trip such bytes exactly), else base64 in `body_base64`.
json event_full(const store::Event& e)
{
  json j = event_summary(e);
  j["method"] = e.method;
  j["path"] = e.path;
  j["remote_addr"] = e.remote_addr;
  j["headers"] = headers_to_json(e.headers);
  j["body_bytes"] = e.body.size();
  if (is_valid_utf8(e.body)) j["body"] = e.body;
  else j["body_base64"] = encoding::base64_encode(e.body);
  return j;
}

Result<store::Event> event_from_json(const json& j)
{
  auto str = [&](const char* key, bool required) -> Result<std::string> {
    if (!j.contains(key) || j[key].is_null()) {
      if (required) return fail(ErrorKind::usage, std::string("missing \"") + key + "\"");
      return std::string();
    }
    if (!j[key].is_string()) return fail(ErrorKind::usage, std::string("\"") + key + "\" must be a string");
    return j[key].get<std::string>();
  };
  if (!j.is_object()) return fail(ErrorKind::usage, "expected a JSON object");
  store::Event e;
  for (auto [field, key, required] : {std::tuple{&e.id, "id", true}, {&e.source, "source", true},
                                      {&e.type, "type", true}, {&e.status, "status", true},
                                      {&e.reason, "reason", false}, {&e.dedupe_key, "dedupe_key", false},
                                      {&e.duplicate_of, "duplicate_of", false}, {&e.method, "method", false},
                                      {&e.path, "path", false}, {&e.remote_addr, "remote_addr", false}}) {
    auto v = str(key, required);
    if (!v) return std::unexpected(v.error());
    *field = *v;
  }
  if (!ids::is_valid(e.id, ids::k_event)) return fail(ErrorKind::usage, "\"id\" is not an evt_ id");
  // A fixture may come from anywhere: its type is made as safe as one the
  // listener received.
  e.type = ingest::sanitize_event_type(e.type);
  if (e.type.empty()) return fail(ErrorKind::usage, "\"type\" is empty");
  if (e.status != "accepted" && e.status != "rejected" && e.status != "duplicate")
    return fail(ErrorKind::usage, "\"status\" must be accepted, rejected or duplicate");
  if (e.method.empty()) e.method = "POST";
  if (j.contains("http_status") && j["http_status"].is_number_integer()) e.http_status = j["http_status"].get<int>();
  auto received = str("received_at", true);
  if (!received) return std::unexpected(received.error());
  auto t = timeutil::parse_instant(*received);
  if (!t) return std::unexpected(t.error());
  e.received_ms = *t;
  if (j.contains("headers")) e.headers = headers_from_json(j["headers"]);
  if (j.contains("body_base64")) {
    if (!j["body_base64"].is_string()) return fail(ErrorKind::usage, "\"body_base64\" must be a string");
    auto bytes = encoding::base64_decode(j["body_base64"].get<std::string>());
    if (!bytes) return fail(ErrorKind::usage, "\"body_base64\" is not valid base64");
    e.body = std::move(*bytes);
  } else {
    auto body = str("body", true);
    if (!body) return std::unexpected(body.error());
    e.body = std::move(*body);
  }
  return e;
}

Result<void> run_list(Context& ctx, const FilterArgs& args)
{
  auto filter = to_filter(args);
  if (!filter) return std::unexpected(filter.error());
  const ListLimit limit{args.limit, args.limit_given};
  filter->limit = fetch_limit(limit);
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto events = store::list_events(**store, *filter);
  if (!events) return std::unexpected(events.error());
  if (events->empty())
    if (auto known = check_source_known(**store, args.source); !known) return known;
  const bool cut = cut_to_limit(*events, limit);
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& e : *events) arr.push_back(event_summary(e));
    ctx.out().json_document(arr);
    note_if_cut(ctx.out(), limit, cut, "newest");
    return {};
  }
  if (events->empty()) {
    ctx.out().note("no events match");
    return {};
  }
  auto now = timeutil::now_ms();
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *events) {
    auto status = e.status == "accepted"   ? ctx.out().paint(e.status, Style::green)
                  : e.status == "rejected" ? ctx.out().paint(e.status, Style::red)
                                           : ctx.out().paint(e.status, Style::yellow);
    rows.push_back({e.id, for_terminal(e.source), for_terminal(e.type), status, std::to_string(e.http_status),
                    timeutil::relative(e.received_ms, now), for_terminal(e.reason)});
  }
  ctx.out().table({"ID", "SOURCE", "TYPE", "STATUS", "HTTP", "RECEIVED", "REASON"}, rows);
  note_if_cut(ctx.out(), limit, cut, "newest");
  return {};
}

json explanation_json(const dispatch::Explanation& x)
{
  auto routes = json::array();
  for (const auto& r : x.routes) {
    auto conditions = json::array();
    for (const auto& c : r.conditions)
      conditions.push_back({{"condition", c.text}, {"held", c.held}, {"found", c.found ? json(*c.found) : json(nullptr)}});
    routes.push_back({{"kind", r.kind},
                      {"id", r.id},
                      {"name", r.name.empty() ? json(nullptr) : json(r.name)},
                      {"matches", r.takes},
                      {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
                      {"conditions", conditions},
                      {r.kind == "webhook" ? "deliveries" : "runs", r.made}});
  }
  return routes;
}

// `events show --explain`: each webhook and event trigger, whether it takes
// the event (by today's definitions), why not, and what was made for it.
void print_explanation(Context& ctx, const dispatch::Explanation& x)
{
  ctx.out().line("");
  ctx.out().line(ctx.out().paint("routes", Style::bold) + " (would each webhook and event trigger take this event now?)");
  if (!x.fanned_out) ctx.out().line("  this event was not accepted, so it was never fanned out; the verdicts say what would match");
  if (x.routes.empty()) {
    ctx.out().line("  no webhooks or event triggers");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : x.routes) {
    std::string made = r.made.empty() ? "-" : r.made.front() + (r.made.size() > 1 ? " +" + std::to_string(r.made.size() - 1) : "");
    rows.push_back({r.kind, r.id + (r.kind == "webhook" && !r.name.empty() ? " (" + for_terminal(r.name) + ")" : ""),
                    r.takes ? ctx.out().paint("yes", Style::green) : ctx.out().paint("no", Style::red),
                    r.takes ? "-" : for_terminal(r.reason), made});
  }
  ctx.out().table({"KIND", "ID", "MATCHES", "WHY NOT", "MADE"}, rows);
  for (const auto& r : x.routes) {
    if (r.conditions.empty()) continue;
    ctx.out().line("");
    ctx.out().line("conditions of " + r.kind + " " + r.id + (x.body_is_json ? ":" : " (the body is not JSON):"));
    for (const auto& c : r.conditions)
      ctx.out().line("  " + (c.held ? ctx.out().paint("holds ", Style::green) : ctx.out().paint("fails ", Style::red)) +
                     for_terminal(c.text) + "  (" + (c.found ? "found " + for_terminal(*c.found) : "missing") + ")");
  }
}

Result<void> run_show(Context& ctx, const std::string& id, bool raw, bool explain)
{
  if (raw && explain) return fail(ErrorKind::usage, "--raw writes only the body; drop --raw to see --explain");
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto e = store::get_event(**store, id);
  if (!e) return std::unexpected(e.error());
  if (raw) {
    ctx.out().bytes(e->body);
    return {};
  }
  auto deliveries = store::deliveries_for_event(**store, id);
  if (!deliveries) return std::unexpected(deliveries.error());
  // Refused signatures are diagnosed here rather than in the listener,
  // where anyone could make it re-sign large bodies again and again.
  auto hints = ingest::diagnose_rejected(**store, *e);
  if (!hints) return std::unexpected(hints.error());
  std::optional<dispatch::Explanation> explanation;
  if (explain) {
    auto x = dispatch::explain_event(**store, *e);
    if (!x) return std::unexpected(x.error());
    explanation = std::move(*x);
  }
  if (ctx.out().json()) {
    auto j = event_full(*e);
    j["hints"] = *hints;
    if (explanation) j["routes"] = explanation_json(*explanation);
    j["deliveries"] = json::array();
    for (const auto& d : *deliveries)
      j["deliveries"].push_back({{"id", d.id}, {"kind", d.kind}, {"url", d.url}, {"status", d.status},
                                 {"attempts", d.attempt_count},
                                 {"last_status", d.last_status ? json(*d.last_status) : json(nullptr)}});
    ctx.out().json_document(j);
    return {};
  }
  auto now = timeutil::now_ms();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", e->id},
      {"source", for_terminal(e->source)},
      {"type", for_terminal(e->type)},
      {"status", e->status + (e->reason.empty() ? "" : " (" + for_terminal(e->reason) + ")")},
      {"answered", std::to_string(e->http_status)},
      {"received", timeutil::format_rfc3339(e->received_ms) + " (" + timeutil::relative(e->received_ms, now) + ")"},
      {"request", for_terminal(e->method) + " " + shown_url(e->path) + " from " + for_terminal(e->remote_addr)},
      {"dedupe key", e->dedupe_key.empty() ? "-" : for_terminal(e->dedupe_key)}};
  ctx.out().fields(fields);
  for (const auto& hint : *hints) ctx.out().line(ctx.out().paint("hint: ", Style::yellow) + for_terminal(hint));
  ctx.out().line("");
  ctx.out().line(ctx.out().paint("headers", Style::bold));
  for (const auto& h : e->headers) ctx.out().line("  " + for_terminal(h.name) + ": " + for_terminal(h.value));
  ctx.out().line("");
  ctx.out().line(ctx.out().paint("body (" + std::to_string(e->body.size()) + " bytes)", Style::bold));
  if (is_valid_utf8(e->body)) {
    auto parsed = parse_json(e->body);
    ctx.out().line(parsed.is_discarded() ? for_terminal(e->body, true) : dump_json(parsed, 2));
  } else {
    ctx.out().line("(binary; use --raw for the exact bytes)");
  }
  if (!deliveries->empty()) {
    ctx.out().line("");
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : *deliveries)
      rows.push_back({d.id, d.kind, shown_url(d.url), d.status, std::to_string(d.attempt_count),
                      d.last_status ? std::to_string(*d.last_status)
                                    : (d.last_error.empty() ? "-" : for_terminal(d.last_error))});
    ctx.out().table({"DELIVERY", "KIND", "URL", "STATUS", "ATTEMPTS", "LAST"}, rows);
  }
  if (explanation) print_explanation(ctx, *explanation);
  return {};
}

Result<void> run_tail(Context& ctx, const FilterArgs& args)
{
  auto filter = to_filter(args);
  if (!filter) return std::unexpected(filter.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  // Start after the newest event: tail shows what arrives from now on.
  store::EventFilter newest_filter;
  newest_filter.limit = 1;
  auto newest = store::list_events(**store, newest_filter);
  if (!newest) return std::unexpected(newest.error());
  filter->after_seq = newest->empty() ? 0 : newest->front().seq;
  filter->oldest_first = true;
  filter->limit = 500;
  filter->with_body = ctx.out().json();
  if (!ctx.out().json()) ctx.out().note("waiting for events (Ctrl-C to stop)");
  while (true) {
    auto page = store::read_events(**store, *filter);
    if (!page) return std::unexpected(page.error());
    const auto& events = page->events;
    for (const auto& e : events) {
      if (ctx.out().json()) ctx.out().json_line(event_full(e));
      else {
        ctx.out().line(timeutil::format_rfc3339(e.received_ms) + "  " + e.id + "  " + for_terminal(e.source) + "  " +
                       for_terminal(e.type) + "  " + e.status + (e.reason.empty() ? "" : "  " + for_terminal(e.reason)));
        std::cout << std::flush;
      }
    }
    // Past the rows a --where refused too, so they are not read again.
    if (page->last_seq > 0) filter->after_seq = page->last_seq;
    if (events.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<void> run_export(Context& ctx, const FilterArgs& args)
{
  auto filter = to_filter(args);
  if (!filter) return std::unexpected(filter.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  // Page through in insertion order so memory stays bounded on big stores.
  filter->oldest_first = true;
  filter->with_body = true;
  int remaining = filter->limit;
  std::size_t count = 0;
  while (true) {
    filter->limit = remaining > 0 ? std::min(remaining, 1000) : 1000;
    auto page = store::read_events(**store, *filter);
    if (!page) return std::unexpected(page.error());
    for (const auto& e : page->events) {
      ctx.out().json_line(event_full(e));
      ++count;
    }
    if (page->last_seq > 0) filter->after_seq = page->last_seq;
    if (remaining > 0) {
      remaining -= static_cast<int>(page->events.size());
      if (remaining <= 0) break;
    }
    if (static_cast<int>(page->events.size()) < filter->limit) break;
  }
  if (count == 0)
    if (auto known = check_source_known(**store, args.source); !known) return known;
  ctx.out().verbose(1, "exported " + std::to_string(count) + " events");
  return {};
}

Result<void> run_import(Context& ctx, const std::string& path)
{
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return fail(ErrorKind::usage, "cannot read " + path + ": no such file or not readable");
    in = &file;
  }
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  std::size_t imported = 0, skipped = 0, invalid = 0, line_no = 0;
  std::string first_problem;
  std::string line;
  while (std::getline(*in, line)) {
    ++line_no;
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto parsed = parse_json(line);
    Result<store::Event> event = parsed.is_discarded() ? fail(ErrorKind::usage, json_refusal(line).substr(3)) : event_from_json(parsed);
    if (!event) {
      ++invalid;
      if (first_problem.empty()) first_problem = "line " + std::to_string(line_no) + ": " + event.error().message;
      continue;
    }
    auto r = store::import_event(**store, *event);
    if (!r) return std::unexpected(r.error());
    (*r ? imported : skipped)++;
  }
  if (ctx.out().json()) {
    ctx.out().json_document({{"imported", imported}, {"skipped_existing", skipped}, {"invalid", invalid}});
  } else {
    ctx.out().line("imported " + std::to_string(imported) + " events, skipped " + std::to_string(skipped) +
                   " already present");
  }
  if (invalid > 0)
    return fail(ErrorKind::rejected, std::to_string(invalid) + " invalid line(s) not imported (first: " + first_problem + ")");
  return {};
}

struct ReplayArgs {
  std::vector<std::string> ids;
  FilterArgs filter;
  std::string to;
  std::string timeout = "30s";
  std::vector<std::string> sets;
  bool keep_signature = false;
};

bool has_filter(const FilterArgs& f)
{
  return !f.source.empty() || !f.type.empty() || !f.status.empty() || !f.since.empty() || !f.until.empty() ||
         !f.where.empty();
}

// The events a replay sends: those named, or those the filters match,
// oldest first (accepted ones unless --status says otherwise).
Result<std::vector<std::string>> replay_ids(store::Store& store, const ReplayArgs& args)
{
  const bool filtered = has_filter(args.filter) || args.filter.limit != 0;
  if (!args.ids.empty() && filtered)
    return fail(ErrorKind::usage,
                "give event ids or filters (--source, --type, --status, --since, --until, --where, --limit), not both");
  if (args.ids.empty() && !filtered)
    return fail(ErrorKind::usage, "name the events to replay: event ids, or filters such as --source stripe --since 1h");
  if (!args.ids.empty()) return args.ids;
  auto filter = to_filter(args.filter);
  if (!filter) return std::unexpected(filter.error());
  if (filter->status.empty()) filter->status = "accepted";
  filter->oldest_first = true;
  auto events = store::list_events(store, *filter);
  if (!events) return std::unexpected(events.error());
  if (events->empty()) return fail(ErrorKind::not_found, "no stored events match the filters");
  std::vector<std::string> ids;
  for (const auto& e : *events) ids.push_back(e.id);
  return ids;
}

// The event's body with the --set edits applied; nullopt without edits.
Result<std::optional<std::string>> edited_body(store::Store& store, const std::string& id,
                                               const std::vector<std::string>& sets)
{
  if (sets.empty()) return std::optional<std::string>();
  auto event = store::get_event(store, id);
  if (!event) return std::unexpected(event.error());
  auto doc = parse_ordered_json(event->body);
  if (doc.is_discarded() || !doc.is_object())
    return fail(ErrorKind::usage, "--set edits JSON bodies; the body of " + id + " is not a JSON object");
  for (const auto& assignment : sets)
    if (auto r = apply_json_assignment(doc, assignment); !r) return std::unexpected(r.error());
  return std::optional<std::string>(doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

Result<void> run_replay(Context& ctx, const ReplayArgs& args)
{
  if (auto u = parse_url(args.to); !u) return fail(ErrorKind::usage, "--to: " + u.error().message);
  auto timeout = timeutil::parse_duration(args.timeout);
  if (!timeout) return fail(ErrorKind::usage, "--timeout: " + timeout.error().message);
  if (args.keep_signature && !args.sets.empty())
    return fail(ErrorKind::usage, "--keep-signature sends the stored signature, which an edited body would not match; drop one");
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto ids = replay_ids(**store, args);
  if (!ids) return std::unexpected(ids.error());
  http::ClientPool clients;
  auto results = json::array();
  int failed = 0, unreachable = 0;
  for (const auto& id : *ids) {
    auto body = edited_body(**store, id, args.sets);
    if (!body) return std::unexpected(body.error());
    delivery::ReplayOptions options{*timeout, args.keep_signature, *body ? &**body : nullptr};
    auto r = delivery::replay_event(**store, clients, id, args.to, options);
    if (!r) return std::unexpected(r.error());
    const auto& a = r->attempt;
    if (!r->ok) (a.response_status ? failed : unreachable)++;
    if (ctx.out().json()) {
      results.push_back({{"event", id},
                         {"delivery", r->delivery.id},
                         {"attempt", a.number},
                         {"ok", r->ok},
                         {"response_status", a.response_status ? json(*a.response_status) : json(nullptr)},
                         {"error", a.error.empty() ? json(nullptr) : json(a.error)},
                         {"signature", a.signature.empty() ? json(nullptr) : json(a.signature)},
                         {"duration_ms", a.duration_ms}});
    } else {
      std::string result = a.response_status ? "HTTP " + std::to_string(*a.response_status) : a.error;
      ctx.out().line(id + " -> " + shown_url(args.to) + ": " +
                     ctx.out().paint(for_terminal(result), r->ok ? Style::green : Style::red) + " (" +
                     std::to_string(a.duration_ms) + "ms" + (a.signature.empty() ? "" : ", " + a.signature) + ")");
    }
  }
  if (ctx.out().json()) ctx.out().json_document(results);
  if (unreachable > 0)
    return fail(ErrorKind::network, std::to_string(unreachable) + " of " + std::to_string(ids->size()) +
                                        " replays could not reach " + redact_url(args.to));
  if (failed > 0)
    return fail(ErrorKind::rejected, std::to_string(failed) + " of " + std::to_string(ids->size()) +
                                         " replays were answered with a non-2xx status");
  return {};
}

struct EmitArgs {
  std::string type;
  std::string data;
  std::string data_file;
};

Result<void> run_emit(Context& ctx, const EmitArgs& a)
{
  if (auto r = check_event_type(a.type, "the event type"); !r) return r;
  if (!a.data.empty() && !a.data_file.empty()) return fail(ErrorKind::usage, "give --data or --data-file, not both");
  std::string body = "{}";
  if (!a.data.empty()) body = a.data;
  if (!a.data_file.empty()) {
    auto file = read_file(a.data_file);
    if (!file) return std::unexpected(file.error());
    body = std::move(*file);
  }
  if (parse_json(body).is_discarded())
    return fail(ErrorKind::usage, "event data " + json_refusal(body));
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  store::Event e;
  e.id = ids::make(ids::k_event);
  e.source = "local";
  e.type = a.type;
  e.status = "accepted";
  e.method = "EMIT";
  e.body = body;
  e.received_ms = timeutil::now_ms();
  if (auto r = store::insert_event(**store, e, true); !r) return r;
  if (ctx.out().json()) ctx.out().json_document(event_summary(e));
  else ctx.out().line(e.id);
  return {};
}

struct PruneArgs {
  std::string before;
  std::string source;
  std::string type;
  std::string status;
  bool dry_run = false;
};

Result<void> run_prune(Context& ctx, const PruneArgs& a)
{
  auto before = time_option("--before", a.before);
  if (!before) return std::unexpected(before.error());
  store::EventFilter filter;
  filter.source = a.source;
  filter.type_glob = a.type;
  filter.status = a.status;
  filter.until_ms = *before;
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto counts = store::prune_events(**store, filter, a.dry_run);
  if (!counts) return std::unexpected(counts.error());
  if (counts->events == 0 && counts->kept == 0)
    if (auto known = check_source_known(**store, a.source); !known) return known;
  if (ctx.out().json()) {
    ctx.out().json_document({{"events", counts->events},
                             {"deliveries", counts->deliveries},
                             {"runs", counts->runs},
                             {"kept", counts->kept},
                             {"dry_run", a.dry_run}});
    return {};
  }
  ctx.out().line(std::string(a.dry_run ? "would prune " : "pruned ") + count_of(counts->events, "event", "events") + " (" +
                 count_of(counts->deliveries, "delivery", "deliveries") + " with their attempts, " +
                 count_of(counts->runs, "run", "runs") + ")");
  if (counts->kept > 0)
    ctx.out().note("kept " + count_of(counts->kept, "matching event", "matching events") +
                   " still in use (waiting for fan-out, or with a pending delivery or an open run)");
  if (!a.dry_run && counts->events > 0)
    ctx.out().note("the space is reused by new events; 'centrali store vacuum' returns it to the file system");
  return {};
}

} // namespace

void add_events_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("events", "Inspect, export, import and replay received events");
  cmd->require_subcommand(1);
  cmd->footer("Examples:\n  centrali events list --status rejected\n  centrali events show evt_01J... --raw > body.json");

  auto list_args = std::make_shared<FilterArgs>();
  auto* list = cmd->add_subcommand("list", "List events, newest first");
  add_filter_options(list, *list_args, true, 50);
  list->footer("Examples:\n  centrali events list --type 'invoice.*' --since 1h\n"
               "  centrali events list --status rejected --json");
  list->callback([&selected, list_args, list] {
    list_args->limit_given = list->get_option("--limit")->count() > 0;
    selected.run = [list_args](Context& c) { return run_list(c, *list_args); };
  });

  auto show_id = std::make_shared<std::string>();
  auto show_raw = std::make_shared<bool>(false);
  auto show_explain = std::make_shared<bool>(false);
  auto* show = cmd->add_subcommand("show", "Show one event: headers, body, deliveries");
  show->add_option("id", *show_id, "Event id (evt_...)")->required();
  show->add_flag("--raw", *show_raw, "Write only the exact body bytes to stdout");
  show->add_flag("--explain", *show_explain,
                 "Also say, for each webhook and event trigger, whether it takes this event and which condition failed");
  show->footer("Examples:\n  centrali events show evt_01J...\n  centrali events show evt_01J... --raw | sha256sum\n"
               "  centrali events show evt_01J... --explain     # why did (or didn't) my webhook get it?");
  show->callback([&selected, show_id, show_raw, show_explain] {
    selected.run = [show_id, show_raw, show_explain](Context& c) { return run_show(c, *show_id, *show_raw, *show_explain); };
  });

  auto tail_args = std::make_shared<FilterArgs>();
  auto* tail = cmd->add_subcommand("tail", "Follow new events as they arrive (NDJSON with --json)");
  add_filter_options(tail, *tail_args, false, 0);
  tail->footer("Examples:\n  centrali events tail --source stripe\n  centrali events tail --json | jq .type");
  tail->callback([&selected, tail_args] { selected.run = [tail_args](Context& c) { return run_tail(c, *tail_args); }; });

  auto export_args = std::make_shared<FilterArgs>();
  auto* exp = cmd->add_subcommand("export", "Write events as NDJSON (oldest first, exact bodies)");
  add_filter_options(exp, *export_args, true, 0);
  exp->footer("Example:\n  centrali events export --source stripe > events.ndjson");
  exp->callback([&selected, export_args] {
    selected.run = [export_args](Context& c) { return run_export(c, *export_args); };
  });

  auto import_path = std::make_shared<std::string>();
  auto* imp = cmd->add_subcommand("import", "Import events from an NDJSON export ('-' for stdin)");
  imp->add_option("file", *import_path, "NDJSON file written by 'events export'")->required();
  imp->footer("Events already in the store (same id) are skipped.\n"
              "Example:\n  centrali --store other.db events import events.ndjson");
  imp->callback([&selected, import_path] {
    selected.run = [import_path](Context& c) { return run_import(c, *import_path); };
  });

  auto emit_args = std::make_shared<EmitArgs>();
  auto* emit = cmd->add_subcommand("emit", "Create a local event; it fans out to matching webhooks and triggers");
  emit->add_option("type", emit_args->type, "Event type, e.g. order.created")->required();
  emit->add_option("--data", emit_args->data, "Event data (JSON) [default: {}]");
  emit->add_option("--data-file", emit_args->data_file, "Read the event data from a file")->type_name("PATH");
  emit->footer("Delivered by a running 'centrali listen', or by 'centrali dispatch --until-idle'.\n"
               "Example:\n  centrali events emit order.created --data '{\"id\":\"ord_1\",\"total\":42}'");
  emit->callback([&selected, emit_args] { selected.run = [emit_args](Context& c) { return run_emit(c, *emit_args); }; });

  auto prune_args = std::make_shared<PruneArgs>();
  auto* prune = cmd->add_subcommand("prune", "Delete old events with their deliveries, attempts and runs");
  prune->add_option("--before", prune_args->before, "Only events received before this (e.g. 7d, 2026-11-01)")
      ->required()
      ->type_name("DURATION|TIME");
  prune->add_option("--source", prune_args->source, "Only events from this source");
  prune->add_option("--type", prune_args->type, "Only event types matching this glob")->type_name("GLOB");
  prune->add_option("--status", prune_args->status, "Only accepted, rejected or duplicate events")
      ->check(CLI::IsMember({"accepted", "rejected", "duplicate"}));
  prune->add_flag("--dry-run", prune_args->dry_run, "Count what would be deleted; delete nothing");
  prune->footer("Events still in use (waiting for fan-out, with a pending delivery or an open run) are kept.\n"
                "Examples:\n  centrali events prune --before 1d --status rejected\n"
                "  centrali events prune --before 30d --dry-run");
  prune->callback([&selected, prune_args] { selected.run = [prune_args](Context& c) { return run_prune(c, *prune_args); }; });

  auto replay_args = std::make_shared<ReplayArgs>();
  auto* replay = cmd->add_subcommand("replay", "Re-send stored events (headers + exact body) to a URL, signed afresh");
  replay->add_option("ids", replay_args->ids, "Event ids (or use filters)");
  add_filter_options(replay, replay_args->filter, true, 0);
  replay->add_option("--to", replay_args->to, "Where to send them")->required()->type_name("URL");
  replay->add_option("--set", replay_args->sets, "Edit the JSON body before sending, e.g. data.object.amount=5000 (repeatable)")
      ->type_name("PATH=VALUE");
  replay->add_flag("--keep-signature", replay_args->keep_signature,
                   "Send the stored signature headers byte for byte instead of signing again");
  replay->add_option("--timeout", replay_args->timeout, "Per-request timeout")
      ->capture_default_str()
      ->type_name("DURATION");
  replay->footer("Stripe, Standard Webhooks, Svix, Clerk and Slack requests are signed again with the source's secret\n"
                 "and a fresh timestamp, so the app's own check passes however old the event is.\n"
                 "With filters, matching events are replayed oldest first (accepted ones unless --status says).\n"
                 "Examples:\n  centrali events replay evt_01J... --to http://localhost:3000/webhooks\n"
                 "  centrali events replay --source stripe --type 'invoice.*' --since 1d --to http://localhost:3000/hooks\n"
                 "  centrali events replay evt_01J... --set data.object.amount=5000 --to http://localhost:3000/hooks");
  replay->callback([&selected, replay_args] {
    selected.run = [replay_args](Context& c) { return run_replay(c, *replay_args); };
  });
}

} // namespace centrali::cli

// `centrali triggers`: functions (local commands) run on events, record
// changes, schedules, demand, and as synchronous HTTP endpoints; and the
// log of every run.
#include <iostream>

#include <CLI/CLI.hpp>

#include "centrali/schedule/zone.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/work_signal.hpp"
#include "centrali/triggers/definition.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/function.hpp"
#include "centrali/triggers/timing.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"
#include "list_limit.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

json optional_time(const std::optional<std::int64_t>& ms)
{
  return ms ? json(timeutil::format_rfc3339(*ms)) : json(nullptr);
}

constexpr const char* k_redacted = "[redacted]";

json text_or_null(const std::string& s)
{
  return s.empty() ? json(nullptr) : json(s);
}

json trigger_json(const store::Trigger& t)
{
  // --env values are often API keys: shown by name only, like secrets.
  json env = json::object();
  for (const auto& [k, v] : t.env) env[k] = k_redacted;
  json j = {{"name", t.name},
            {"kind", t.kind},
            {"command", t.command},
            {"exec", t.exec},
            {"params", t.params},
            {"timeout", timeutil::format_duration(std::chrono::milliseconds(t.timeout_ms))},
            {"timeout_ms", t.timeout_ms},
            {"concurrency", t.concurrency},
            {"cwd", text_or_null(t.cwd)},
            {"env", env},
            {"paused", t.paused}};
  if (t.kind == "event") {
    json globs = json::array();
    std::size_t start = 0;
    while (start <= t.events.size()) {
      auto comma = t.events.find(',', start);
      globs.push_back(t.events.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    j["events"] = globs;
    j["source"] = text_or_null(t.source);
    j["collection"] = text_or_null(t.collection);
    j["where"] = t.where;
  } else if (t.kind == "schedule") {
    j["cron"] = text_or_null(t.cron);
    j["tz"] = t.cron.empty() ? json(nullptr) : json(t.tz.empty() ? "UTC" : t.tz);
    j["every"] = t.every_ms ? json(timeutil::format_duration(std::chrono::milliseconds(*t.every_ms))) : json(nullptr);
    j["every_ms"] = t.every_ms ? json(*t.every_ms) : json(nullptr);
    j["at"] = optional_time(t.at_ms);
    j["next_fire_at"] = optional_time(t.next_fire_ms);
  } else if (t.kind == "endpoint") {
    j["path"] = t.path;
    j["url_path"] = "/endpoints" + t.path;
    j["method"] = text_or_null(t.method);
    j["response"] = t.response_mode;
  }
  j["created_at"] = timeutil::format_rfc3339(t.created_ms);
  j["updated_at"] = timeutil::format_rfc3339(t.updated_ms);
  return j;
}

// What starts the trigger, in one line for tables.
std::string describe_when(const store::Trigger& t)
{
  if (t.kind == "event") {
    std::string s = t.events;
    if (!t.source.empty()) s += " from " + t.source;
    if (!t.collection.empty()) s += " in " + t.collection;
    for (std::size_t i = 0; i < t.where.size(); ++i) s += (i == 0 ? " where " : " and ") + for_terminal(t.where[i]);
    return s;
  }
  if (t.kind == "schedule") {
    if (!t.cron.empty()) return "cron '" + t.cron + "'" + (t.tz.empty() ? "" : " " + t.tz);
    if (t.every_ms) return "every " + timeutil::format_duration(std::chrono::milliseconds(*t.every_ms));
    if (t.at_ms) return "at " + timeutil::format_rfc3339(*t.at_ms);
  }
  if (t.kind == "endpoint") return (t.method.empty() ? "ANY" : t.method) + " /endpoints" + t.path;
  return "triggers fire";
}

Result<std::vector<std::string>> local_fires(const store::Trigger& t, int count)
{
  auto times = triggers::upcoming_fires(t, timeutil::now_ms(), count);
  if (!times) return std::unexpected(times.error());
  auto zone = t.tz.empty() ? Result<schedule::Zone>(schedule::Zone::utc()) : schedule::Zone::locate(t.tz);
  if (!zone) return std::unexpected(zone.error());
  std::vector<std::string> out;
  for (auto ms : *times) out.push_back(zone->format_local(ms));
  return out;
}

json run_json(const store::Run& r, bool full)
{
  json j = {{"id", r.id},
            {"trigger", r.trigger},
            {"status", r.status},
            {"origin", r.origin},
            {"event_id", text_or_null(r.event_id)},
            {"rerun_of", text_or_null(r.rerun_of)},
            {"queued_at", timeutil::format_rfc3339(r.queued_ms)},
            {"started_at", optional_time(r.started_ms)},
            {"ended_at", optional_time(r.ended_ms)},
            {"duration_ms", r.started_ms && r.ended_ms ? json(*r.ended_ms - *r.started_ms) : json(nullptr)},
            {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
            {"error", text_or_null(r.error)}};
  if (full) {
    j["output"] = triggers::output_value(r.output, r.stdout_data);
    auto input = parse_json(r.input);
    j["input"] = r.input.empty() || input.is_discarded() ? json(nullptr) : input;
    j["stdout"] = r.stdout_data;
    j["stderr"] = r.stderr_data;
  } else {
    j["output"] = r.output.empty() ? json(nullptr) : parse_json(r.output);  // absent is null, not missing
  }
  return j;
}

Style status_style(const std::string& status)
{
  if (status == "completed") return Style::green;
  if (status == "failure" || status == "timeout") return Style::red;
  if (status == "running") return Style::cyan;
  return Style::yellow;
}

// --- add / list / show / rm / pause / resume ---------------------------------

Result<void> run_add(Context& ctx, const triggers::TriggerSpec& spec)
{
  auto now = timeutil::now_ms();
  auto trigger = triggers::build_trigger(spec, now);
  if (!trigger) return std::unexpected(trigger.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (auto r = store::add_trigger(**store, *trigger); !r) return r;
  if (ctx.out().json()) {
    ctx.out().json_document(trigger_json(*trigger));
    return {};
  }
  std::string line = "added trigger " + trigger->name + " (" + trigger->kind + "): " + describe_when(*trigger);
  if (trigger->next_fire_ms) line += ", next at " + timeutil::format_rfc3339(*trigger->next_fire_ms);
  ctx.out().line(line);
  if (trigger->kind == "schedule")
    ctx.out().note("schedules fire while 'centrali listen' runs; ticks missed while it is stopped are not replayed");
  return {};
}

Result<void> run_list(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto list = store::list_triggers(**store);
  if (!list) return std::unexpected(list.error());
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& t : *list) arr.push_back(trigger_json(t));
    ctx.out().json_document(arr);
    return {};
  }
  if (list->empty()) {
    ctx.out().note("no triggers; add one with 'centrali triggers add NAME --on event --events '*' --run CMD'");
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : *list)
    rows.push_back({t.name, t.kind, describe_when(t), t.paused ? ctx.out().paint("paused", Style::yellow) : "active",
                    t.command});
  ctx.out().table({"NAME", "KIND", "WHEN", "STATE", "RUN"}, rows);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto t = store::get_trigger(**store, name);
  if (!t) return std::unexpected(t.error());
  std::vector<std::string> fires;
  if (t->kind == "schedule" && !t->paused) {
    auto f = local_fires(*t, 5);
    if (!f) return std::unexpected(f.error());
    fires = std::move(*f);
  }
  if (ctx.out().json()) {
    auto j = trigger_json(*t);
    if (t->kind == "schedule") j["next_fires"] = fires;
    ctx.out().json_document(j);
    return {};
  }
  std::vector<std::pair<std::string, std::string>> rows = {
      {"name", t->name},
      {"kind", t->kind},
      {"when", describe_when(*t)},
      {"state", t->paused ? "paused" : "active"},
      {"run", t->command + (t->exec ? "  (exec, no shell)" : "")},
      {"params", dump_json(t->params)},
      {"timeout", timeutil::format_duration(std::chrono::milliseconds(t->timeout_ms))},
      {"concurrency", std::to_string(t->concurrency)},
      {"cwd", t->cwd.empty() ? "-" : t->cwd}};
  for (const auto& [k, v] : t->env) rows.push_back({"env", k + "=" + k_redacted});
  if (t->kind == "endpoint") rows.push_back({"response", t->response_mode});
  ctx.out().fields(rows);
  if (t->kind == "schedule") {
    ctx.out().line("");
    ctx.out().line(ctx.out().paint(t->paused ? "paused: no upcoming fires" : "next fires", Style::bold));
    for (const auto& f : fires) ctx.out().line("  " + f);
  }
  return {};
}

Result<void> run_rm(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (auto r = store::remove_trigger(**store, name); !r) return r;
  if (ctx.out().json()) ctx.out().json_document({{"removed", name}});
  else ctx.out().line("removed trigger " + name + " (its runs stay in the log; queued ones were cancelled)");
  return {};
}

Result<void> run_pause(Context& ctx, const std::string& name, bool pause)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto t = store::get_trigger(**store, name);
  if (!t) return std::unexpected(t.error());
  if (pause) {
    if (auto r = store::pause_trigger(**store, name); !r) return r;
  } else {
    // From now: ticks that fell due while paused are skipped, not replayed.
    std::optional<std::int64_t> next;
    if (t->kind == "schedule") {
      auto n = triggers::next_fire_after(*t, timeutil::now_ms());
      if (!n) return std::unexpected(n.error());
      next = *n;
    }
    if (auto r = store::resume_trigger(**store, name, next); !r) return r;
  }
  if (ctx.out().json()) ctx.out().json_document({{"name", name}, {"paused", pause}});
  else ctx.out().line((pause ? "paused trigger " : "resumed trigger ") + name);
  return {};
}

// --- fire / runs / rerun -------------------------------------------------------

struct FireArgs {
  std::string name;
  std::string data;
  bool data_given = false;
  bool wait = false;
};

Result<void> print_finished(Context& ctx, const store::Run& run)
{
  if (ctx.out().json()) ctx.out().json_document(run_json(run, true));
  else ctx.out().bytes(run.stdout_data);
  if (!ctx.out().json() && !run.stderr_data.empty()) std::cerr << run.stderr_data << std::flush;
  if (run.status == "completed") return {};
  return fail(ErrorKind::rejected, "run " + run.id + " of trigger " + run.trigger + " " +
                                       (run.status == "timeout" ? "timed out" : "failed") +
                                       (run.error.empty() ? "" : ": " + run.error));
}

Result<void> run_fire(Context& ctx, const FireArgs& args)
{
  json data = nullptr;
  if (args.data_given) {
    data = parse_json(args.data);
    if (data.is_discarded()) return fail(ErrorKind::usage, "--data " + json_refusal(args.data));
  }
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto t = store::get_trigger(**store, args.name);
  if (!t) return std::unexpected(t.error());
  if (t->paused)
    return fail(ErrorKind::rejected, "trigger " + t->name + " is paused (resume it with 'centrali triggers resume " +
                                         t->name + "')");
  const json params = triggers::demand_params(std::move(data));
  store::Run run;
  run.id = ids::make(ids::k_run);
  run.trigger = t->name;
  run.origin = "demand";
  run.input = triggers::dump_json(params);
  run.queued_ms = timeutil::now_ms();
  if (!args.wait) {
    run.status = "queued";
    if (auto r = store::insert_run(**store, run); !r) return r;
    store::announce_committed_work(**store);
    if (ctx.out().json()) ctx.out().json_document(run_json(run, false));
    else ctx.out().line(run.id);
    ctx.out().verbose(1, "queued; a running 'centrali listen' (or 'centrali dispatch --until-idle') runs it");
    return {};
  }
  // Run here and now. The run is in the log as running while it runs, with
  // a lease, so a crash of this process leaves it marked interrupted later.
  run.status = "running";
  run.started_ms = run.queued_ms;
  run.lease_until_ms = run.queued_ms + t->timeout_ms + store::k_lease_margin_ms;
  if (auto r = store::insert_run(**store, run); !r) return r;
  auto withheld = store::secret_env_names(**store);
  if (!withheld) return std::unexpected(withheld.error());
  auto outcome = triggers::run_function(*t, params, {run.id, "", ctx.options().store_path, std::move(*withheld)});
  if (auto r = store::finish_run(**store, outcome.result); !r) return r;
  auto done = store::get_run(**store, run.id);
  if (!done) return std::unexpected(done.error());
  return print_finished(ctx, *done);
}

struct RunsArgs {
  std::string trigger;
  std::string status;
  int limit = 50;
  bool limit_given = false;
};

Result<void> run_runs(Context& ctx, const RunsArgs& args)
{
  if (args.limit < 0) return fail(ErrorKind::usage, "--limit must be 0 or more");
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (!args.trigger.empty())
    if (auto t = store::get_trigger(**store, args.trigger); !t) {
      // A removed trigger's runs are still worth listing.
      auto any = store::list_runs(**store, {args.trigger, "", 1});
      if (!any) return std::unexpected(any.error());
      if (any->empty()) return std::unexpected(t.error());
    }
  const ListLimit limit{args.limit, args.limit_given};
  auto runs = store::list_runs(**store, {args.trigger, args.status, fetch_limit(limit)});
  if (!runs) return std::unexpected(runs.error());
  const bool cut = cut_to_limit(*runs, limit);
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& r : *runs) arr.push_back(run_json(r, false));
    ctx.out().json_document(arr);
    note_if_cut(ctx.out(), limit, cut, "newest");
    return {};
  }
  if (runs->empty()) {
    ctx.out().note("no runs match");
    return {};
  }
  auto now = timeutil::now_ms();
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *runs) {
    std::string took = r.started_ms && r.ended_ms ? std::to_string(*r.ended_ms - *r.started_ms) + "ms" : "-";
    rows.push_back({r.id, r.trigger, ctx.out().paint(r.status, status_style(r.status)), r.origin,
                    timeutil::relative(r.queued_ms, now), took, for_terminal(r.error)});
  }
  ctx.out().table({"RUN", "TRIGGER", "STATUS", "ORIGIN", "QUEUED", "TOOK", "ERROR"}, rows);
  note_if_cut(ctx.out(), limit, cut, "newest");
  return {};
}

Result<void> run_runs_show(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto r = store::get_run(**store, id);
  if (!r) return std::unexpected(r.error());
  if (ctx.out().json()) {
    ctx.out().json_document(run_json(*r, true));
    return {};
  }
  std::vector<std::pair<std::string, std::string>> rows = {
      {"id", r->id},
      {"trigger", r->trigger},
      {"status", ctx.out().paint(r->status, status_style(r->status))},
      {"origin", r->origin + (r->rerun_of.empty() ? "" : " of " + r->rerun_of)},
      {"event", r->event_id.empty() ? "-" : r->event_id},
      {"queued", timeutil::format_rfc3339(r->queued_ms)},
      {"started", r->started_ms ? timeutil::format_rfc3339(*r->started_ms) : "-"},
      {"ended", r->ended_ms ? timeutil::format_rfc3339(*r->ended_ms) : "-"},
      {"exit code", r->exit_code ? std::to_string(*r->exit_code) : "-"},
      {"error", r->error.empty() ? "-" : for_terminal(r->error)}};
  ctx.out().fields(rows);
  auto section = [&](const std::string& title, const std::string& text) {
    ctx.out().line("");
    ctx.out().line(ctx.out().paint(title + " (" + std::to_string(text.size()) + " bytes)", Style::bold));
    // A function's output may echo what a sender wrote: escaped, so it
    // cannot drive the terminal of whoever inspects the run.
    if (!text.empty()) ctx.out().line(for_terminal(text.back() == '\n' ? text.substr(0, text.size() - 1) : text, true));
  };
  if (!r->input.empty()) section("input (executionParams)", r->input);
  section("stdout", r->stdout_data);
  section("stderr", r->stderr_data);
  return {};
}

Result<void> run_rerun(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto old = store::get_run(**store, id);
  if (!old) return std::unexpected(old.error());
  auto t = store::get_trigger(**store, old->trigger);
  if (!t) return fail(ErrorKind::not_found, "trigger '" + old->trigger + "' of run " + id + " no longer exists");
  store::Run run;
  run.id = ids::make(ids::k_run);
  run.trigger = old->trigger;
  run.status = "queued";
  run.origin = "rerun";
  run.event_id = old->event_id;
  run.rerun_of = old->id;
  run.input = old->input;
  run.queued_ms = timeutil::now_ms();
  if (auto r = store::insert_run(**store, run); !r) return r;
  store::announce_committed_work(**store);
  if (ctx.out().json()) ctx.out().json_document(run_json(run, false));
  else ctx.out().line(run.id);
  return {};
}

void add_add_command(CLI::App* cmd, Selected& selected)
{
  auto spec = std::make_shared<triggers::TriggerSpec>();
  auto* add = cmd->add_subcommand("add", "Add a trigger that runs a command");
  add->add_option("name", spec->name, "Trigger name")->required();
  add->add_option("--on", spec->on, "What starts it: event, schedule, demand or endpoint")->required()->type_name("KIND");
  add->add_option("--run", spec->run, "Command to run (/bin/sh -c, or argv with --exec)")->required()->type_name("CMD");
  add->add_option("--events", spec->events, "event: type globs, comma-separated (record_*, invoice.*)")
      ->type_name("GLOB[,GLOB...]")
      ->allow_extra_args(false);
  add->add_option("--source", spec->source, "event: only events from this source ('local' for records)");
  add->add_option("--collection", spec->collection, "event: only record events of this collection (always local)");
  add->add_option("--where", spec->where,
                  "event: only events whose body meets this condition, e.g. 'data.amount>=100' (repeatable: all must hold)")
      ->type_name("'PATH OP VALUE'")
      ->allow_extra_args(false);
  add->add_option("--cron", spec->cron, "schedule: 5-field cron expression")->type_name("EXPR");
  add->add_option("--tz", spec->tz, "schedule: time zone of --cron (default UTC)")->type_name("ZONE");
  add->add_option("--every", spec->every, "schedule: interval (30s, 5m, 1h)")->type_name("DURATION");
  add->add_option("--at", spec->at, "schedule: run once at this time (RFC 3339 or Unix seconds)")->type_name("TIME");
  add->add_option("--path", spec->path, "endpoint: served at /endpoints/PATH")->type_name("/PATH");
  add->add_option("--method", spec->method, "endpoint: only this HTTP method (default any)")->type_name("M");
  add->add_option("--response", spec->response, "endpoint: output (stdout is the body) or envelope")
      ->type_name("output|envelope");
  add->add_option("--param", spec->params, "triggerParams entry (value parsed as JSON when it is)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  add->add_option("--timeout", spec->timeout, "Kill the command (and all it started) after this long")
      ->type_name("DURATION")
      ->capture_default_str();
  add->add_option("--concurrency", spec->concurrency, "Runs of this trigger at once; others wait in order")
      ->capture_default_str();
  add->add_option("--cwd", spec->cwd, "Working folder of the command")->type_name("DIR");
  add->add_option("--env", spec->env, "Extra environment variable for the command")
      ->type_name("K=V")
      ->allow_extra_args(false);
  add->add_flag("--exec", spec->exec, "Run the command as argv, without a shell");
  add->footer("The command gets {\"triggerParams\":{...},\"executionParams\":{...}} on stdin and\n"
              "CENTRALI_RUN_ID, CENTRALI_TRIGGER, CENTRALI_EVENT_TYPE, CENTRALI_STORE in its environment.\n"
              "Examples:\n"
              "  centrali triggers add notify --on event --events 'record_*' --collection orders --run ./notify.sh\n"
              "  centrali triggers add big-order --on event --events 'order.*' --where 'data.total>=1000' --run ./alert.sh\n"
              "  centrali triggers add nightly --on schedule --cron '0 3 * * *' --tz Europe/Berlin --run ./backup.sh\n"
              "  centrali triggers add quote --on endpoint --path /quote --method POST --run 'python3 quote.py'\n"
              "  centrali triggers add reindex --on demand --run ./reindex.sh --timeout 5m");
  add->callback([&selected, spec] { selected.run = [spec](Context& c) { return run_add(c, *spec); }; });
}

void add_name_command(CLI::App* cmd, Selected& selected, const char* name, const char* help,
                      std::function<Result<void>(Context&, const std::string&)> fn)
{
  auto arg = std::make_shared<std::string>();
  auto* sub = cmd->add_subcommand(name, help);
  sub->add_option("name", *arg, "Trigger name")->required();
  sub->callback([&selected, arg, fn] { selected.run = [arg, fn](Context& c) { return fn(c, *arg); }; });
}

} // namespace

void add_triggers_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("triggers", "Run commands on events, record changes, schedules, demand or HTTP");
  cmd->require_subcommand(1);

  add_add_command(cmd, selected);

  auto* list = cmd->add_subcommand("list", "List triggers");
  list->callback([&selected] { selected.run = run_list; });

  add_name_command(cmd, selected, "show", "Show a trigger (schedules: the next five fire times)", run_show);
  add_name_command(cmd, selected, "rm", "Remove a trigger (its run log stays)", run_rm);
  add_name_command(cmd, selected, "pause", "Stop starting runs of a trigger",
                   [](Context& c, const std::string& n) { return run_pause(c, n, true); });
  add_name_command(cmd, selected, "resume", "Start runs of a paused trigger again (missed ticks are not replayed)",
                   [](Context& c, const std::string& n) { return run_pause(c, n, false); });

  auto fire_args = std::make_shared<FireArgs>();
  auto* fire = cmd->add_subcommand("fire", "Run a trigger on demand (queued, or here and now with --wait)");
  fire->add_option("name", fire_args->name, "Trigger name")->required();
  auto* data = fire->add_option("--data", fire_args->data, "executionParams.data for this run")->type_name("JSON");
  fire->add_flag("--wait", fire_args->wait, "Run it now in this process and print its output; exit 1 if it fails");
  fire->footer("Without --wait the run is queued for a running 'centrali listen' or 'centrali dispatch'.\n"
               "Examples:\n  centrali triggers fire reindex --wait\n  centrali triggers fire reindex --data '{\"full\": true}'");
  fire->callback([&selected, fire_args, data] {
    fire_args->data_given = data->count() > 0;
    selected.run = [fire_args](Context& c) { return run_fire(c, *fire_args); };
  });

  auto runs_args = std::make_shared<RunsArgs>();
  auto* runs = cmd->add_subcommand("runs", "List runs, newest first ('runs show RUN_ID' for one)");
  runs->add_option("name", runs_args->trigger, "Only runs of this trigger");
  runs->add_option("--status", runs_args->status, "Only runs in this status")
      ->check(CLI::IsMember({"queued", "running", "completed", "failure", "timeout", "cancelled"}));
  auto* runs_limit = runs->add_option("--limit", runs_args->limit, "At most N runs (0 = all)")->capture_default_str();
  auto show_id = std::make_shared<std::string>();
  auto* show = runs->add_subcommand("show", "Show one run: input, output, stdout, stderr");
  show->add_option("id", *show_id, "Run id (run_...)")->required();
  show->callback([&selected, show_id] { selected.run = [show_id](Context& c) { return run_runs_show(c, *show_id); }; });
  runs->callback([&selected, runs_args, show, runs_limit] {
    if (show->parsed()) return;  // `runs show ID` chose already
    runs_args->limit_given = runs_limit->count() > 0;
    selected.run = [runs_args](Context& c) { return run_runs(c, *runs_args); };
  });

  auto rerun_id = std::make_shared<std::string>();
  auto* rerun = cmd->add_subcommand("rerun", "Queue a new run with the same input as RUN_ID");
  rerun->add_option("id", *rerun_id, "Run id (run_...)")->required();
  rerun->callback([&selected, rerun_id] { selected.run = [rerun_id](Context& c) { return run_rerun(c, *rerun_id); }; });

  // Set last: CLI11 gives a parent's footer to subcommands added after it.
  cmd->footer("Exit codes: fire --wait exits 1 when the function fails or times out.");
}

} // namespace centrali::cli

// `centrali automations`: multi-step workflows (a trigger plus compute,
// decision and delay steps) read from JSON definition files; their runs,
// step by step; demand runs, reruns and cancels.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>

#include "centrali/automations/definition.hpp"
#include "centrali/automations/executor.hpp"
#include "centrali/automations/rerun.hpp"
#include "centrali/automations/schedules.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/work_signal.hpp"
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

json text_or_null(const std::string& s)
{
  return s.empty() ? json(nullptr) : json(s);
}

// Stored JSON text (input, context, outputs, details) as a value; null when
// there is none.
json stored_json(const std::string& text)
{
  if (text.empty()) return nullptr;
  auto value = parse_json(text);
  return value.is_discarded() ? json(text) : value;
}

bool is_open(const std::string& status)
{
  return status == "running" || status == "waiting";
}

Style status_style(const std::string& status)
{
  if (status == "completed" || status == "succeeded") return Style::green;
  if (status == "failed" || status == "interrupted") return Style::red;
  if (status == "running") return Style::cyan;
  return Style::yellow;
}

// --- definitions ---------------------------------------------------------------

// FILE, or standard input for `-`, parsed and validated whole. Errors are
// usage errors naming the JSON path at fault.
Result<automations::Definition> read_definition(const std::string& file)
{
  std::string text;
  if (file == "-") {
    if (::isatty(STDIN_FILENO))
      return fail(ErrorKind::usage, "-f -: standard input is a terminal; pipe the definition in (or give a FILE)");
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto read = read_file(file);
    if (!read) return std::unexpected(read.error());
    text = std::move(*read);
  }
  auto definition = automations::parse_definition_text(text);
  if (!definition)
    return fail(definition.error().kind,
                (file == "-" ? std::string("stdin") : for_terminal(file)) + ": " + definition.error().message);
  return definition;
}

// When a schedule fires next after `now_ms` (the rules of `triggers add
// --cron/--every/--at`); none for other triggers.
Result<std::optional<std::int64_t>> next_fire(const store::Automation& a, std::int64_t now_ms)
{
  if (a.trigger != "schedule") return std::optional<std::int64_t>();
  return automations::next_tick_after(a, now_ms);
}

// The row `add` and `update` store. A schedule that would never fire is
// refused as `triggers add` refuses it, naming the member at fault.
Result<store::Automation> build_automation(const automations::Definition& d, std::int64_t now_ms)
{
  store::Automation a;
  a.name = d.name;
  a.definition = automations::to_json(d).dump();
  a.trigger = std::string(automations::to_string(d.trigger.type));
  a.events = d.trigger.events;
  a.source = d.trigger.source;
  a.collection = d.trigger.collection;
  a.path = d.trigger.path;
  a.cron = d.trigger.cron;
  a.tz = d.trigger.timezone;
  a.every_ms = d.trigger.every_ms;
  a.at_ms = d.trigger.at_ms;
  a.created_ms = now_ms;
  a.updated_ms = now_ms;
  auto next = next_fire(a, now_ms);
  if (!next) return std::unexpected(next.error());
  if (a.trigger == "schedule" && !*next) {
    if (a.at_ms)
      return fail(ErrorKind::usage, "trigger.at: " + timeutil::format_rfc3339(*a.at_ms) +
                                        " is in the past; a one-off schedule must be ahead");
    return fail(ErrorKind::usage, "trigger.cron: '" + a.cron + "' never fires");
  }
  a.next_fire_ms = *next;
  return a;
}

// What starts the automation, in one line.
std::string describe_trigger(const store::Automation& a)
{
  if (a.trigger == "event") {
    std::string s;
    for (const auto& e : a.events) s += (s.empty() ? "" : ",") + e;
    if (!a.source.empty()) s += " from " + a.source;
    if (!a.collection.empty()) s += " in " + a.collection;
    return "event " + for_terminal(s);
  }
  if (a.trigger == "schedule") {
    if (!a.cron.empty()) return "cron '" + a.cron + "'" + (a.tz.empty() ? "" : " " + a.tz);
    if (a.every_ms) return "every " + timeutil::format_duration(std::chrono::milliseconds(*a.every_ms));
    if (a.at_ms) return "at " + timeutil::format_rfc3339(*a.at_ms);
  }
  if (a.trigger == "http") return "POST /automations/" + for_terminal(a.path);
  return "demand";
}

json definition_json(const store::Automation& a)
{
  auto d = parse_json(a.definition);
  return d.is_object() ? d : json::object();
}

// `show --json`: {"name","trigger","paused","steps","created_at","updated_at"}
// plus the description and when a schedule fires next.
json automation_json(const store::Automation& a)
{
  auto d = definition_json(a);
  return {{"name", a.name},
          {"description", d.contains("description") ? d["description"] : json(nullptr)},
          {"trigger", d.contains("trigger") ? d["trigger"] : json::object()},
          {"paused", a.paused},
          {"steps", d.contains("steps") ? d["steps"] : json::array()},
          {"next_fire_at", optional_time(a.next_fire_ms)},
          {"created_at", timeutil::format_rfc3339(a.created_ms)},
          {"updated_at", timeutil::format_rfc3339(a.updated_ms)}};
}

std::size_t step_count(const store::Automation& a)
{
  auto d = definition_json(a);
  return d.contains("steps") && d["steps"].is_array() ? d["steps"].size() : 0;
}

// One step as a table row: what it does and where it goes next.
std::vector<std::string> step_row(const automations::Step& s)
{
  std::string what, next;
  switch (s.type) {
  case automations::StepType::compute:
    what = s.run + (s.exec ? "  (exec)" : "");
    if (s.retries > 0) what += "  (retries " + std::to_string(s.retries) + ")";
    next = s.next;
    break;
  case automations::StepType::decision:
    what = count_of(s.cases.size(), "case", "cases");
    for (const auto& c : s.cases) next += (next.empty() ? "" : " | ") + c.next;
    next += std::string(next.empty() ? "" : " | ") + "default " + (s.default_next.empty() ? "(end)" : s.default_next);
    break;
  case automations::StepType::delay:
    what = s.duration_ms ? timeutil::format_duration(std::chrono::milliseconds(*s.duration_ms)) : "until " + s.until_path;
    next = s.next;
    break;
  }
  return {s.id, std::string(automations::to_string(s.type)), for_terminal(what), next.empty() ? "(end)" : next};
}

// --- add / update / validate / list / show / rm / pause / resume -------------

enum class Write { add, update };

Result<void> run_write(Context& ctx, const std::string& file, Write write)
{
  auto definition = read_definition(file);
  if (!definition) return std::unexpected(definition.error());
  auto automation = build_automation(*definition, timeutil::now_ms());
  if (!automation) return std::unexpected(automation.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto written = write == Write::add ? store::add_automation(**store, *automation)
                                     : store::update_automation(**store, *automation);
  if (!written) return written;
  auto stored = store::get_automation(**store, automation->name);
  if (!stored) return std::unexpected(stored.error());
  if (ctx.out().json()) {
    ctx.out().json_document(automation_json(*stored));
    return {};
  }
  std::string line = std::string(write == Write::add ? "added" : "updated") + " automation " + stored->name + " (" +
                     describe_trigger(*stored) + ", " + count_of(step_count(*stored), "step", "steps") + ")";
  if (stored->next_fire_ms) line += ", next at " + timeutil::format_rfc3339(*stored->next_fire_ms);
  ctx.out().line(line);
  if (write == Write::update) ctx.out().note("runs in flight keep the definition they started with");
  if (stored->paused) ctx.out().note("it is paused: 'centrali automations resume " + stored->name + "' starts runs again");
  return {};
}

Result<void> run_validate(Context& ctx, const std::string& file)
{
  auto definition = read_definition(file);
  if (!definition) return std::unexpected(definition.error());
  auto automation = build_automation(*definition, timeutil::now_ms());
  if (!automation) return std::unexpected(automation.error());
  const auto& first = definition->steps.front().id;
  if (ctx.out().json()) {
    auto d = automations::to_json(*definition);
    ctx.out().json_document({{"valid", true},
                             {"name", definition->name},
                             {"trigger", d["trigger"]},
                             {"step_count", definition->steps.size()},
                             {"first_step", first},
                             {"next_fire_at", optional_time(automation->next_fire_ms)}});
    return {};
  }
  std::string line = definition->name + " is valid: on " + describe_trigger(*automation) + ", " +
                     count_of(definition->steps.size(), "step", "steps") + " starting at " + first;
  if (automation->next_fire_ms) line += "; would fire next at " + timeutil::format_rfc3339(*automation->next_fire_ms);
  ctx.out().line(line);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : definition->steps) rows.push_back(step_row(s));
  ctx.out().table({"STEP", "TYPE", "DOES", "NEXT"}, rows);
  ctx.out().note("nothing was stored; 'centrali automations add -f FILE' adds it");
  return {};
}

Result<void> run_list(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto list = store::list_automations(**store);
  if (!list) return std::unexpected(list.error());
  // The newest run of each: one probe of automation_runs_automation apiece.
  std::vector<std::optional<store::AutomationRun>> last;
  for (const auto& a : *list) {
    auto runs = store::list_automation_runs(**store, {a.name, "", 1});
    if (!runs) return std::unexpected(runs.error());
    last.push_back(runs->empty() ? std::nullopt : std::optional(runs->front()));
  }
  if (ctx.out().json()) {
    auto arr = json::array();
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto j = automation_json((*list)[i]);
      const auto& l = last[i];
      j["last_run"] = l ? json{{"id", l->id}, {"status", l->status}, {"started_at", timeutil::format_rfc3339(l->created_ms)}}
                        : json(nullptr);
      arr.push_back(j);
    }
    ctx.out().json_document(arr);
    return {};
  }
  if (list->empty()) {
    ctx.out().note("no automations; add one with 'centrali automations add -f FILE'");
    return {};
  }
  const auto now = timeutil::now_ms();
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& a = (*list)[i];
    const auto& l = last[i];
    rows.push_back({a.name, describe_trigger(a), std::to_string(step_count(a)),
                    a.paused ? ctx.out().paint("paused", Style::yellow) : "active",
                    l ? ctx.out().paint(l->status, status_style(l->status)) + " " + timeutil::relative(l->created_ms, now)
                      : "-"});
  }
  ctx.out().table({"NAME", "TRIGGER", "STEPS", "STATE", "LAST RUN"}, rows);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto a = store::get_automation(**store, name);
  if (!a) return std::unexpected(a.error());
  if (ctx.out().json()) {
    ctx.out().json_document(automation_json(*a));
    return {};
  }
  auto d = definition_json(*a);
  std::vector<std::pair<std::string, std::string>> rows = {{"name", a->name}};
  if (d.contains("description") && d["description"].is_string())
    rows.push_back({"description", for_terminal(d["description"].get<std::string>())});
  rows.push_back({"trigger", describe_trigger(*a)});
  rows.push_back({"state", a->paused ? "paused" : "active"});
  if (a->trigger == "schedule")
    rows.push_back({"next fire", a->next_fire_ms && !a->paused ? timeutil::format_rfc3339(*a->next_fire_ms) : "-"});
  rows.push_back({"created", timeutil::format_rfc3339(a->created_ms)});
  rows.push_back({"updated", timeutil::format_rfc3339(a->updated_ms)});
  ctx.out().fields(rows);
  if (auto parsed = automations::parse_definition(d); parsed) {
    ctx.out().line("");
    std::vector<std::vector<std::string>> steps;
    for (const auto& s : parsed->steps) steps.push_back(step_row(s));
    ctx.out().table({"STEP", "TYPE", "DOES", "NEXT"}, steps);
  }
  ctx.out().line("");
  ctx.out().line(ctx.out().paint("definition", Style::bold));
  ctx.out().line(for_terminal(dump_json(d, 2), true));
  return {};
}

Result<void> run_rm(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  int cancelled = 0;
  // Counted and removed in one transaction, so the number said is the number cancelled.
  auto removed = store::write_transaction(**store, [&]() -> Result<void> {
    auto open = store::count_open_automation_runs(**store, name);
    if (!open) return std::unexpected(open.error());
    cancelled = *open;
    return store::remove_automation(**store, name, timeutil::now_ms());
  });
  if (!removed) return removed;
  if (ctx.out().json()) {
    ctx.out().json_document({{"removed", name}, {"cancelled_runs", cancelled}});
    return {};
  }
  ctx.out().line("removed automation " + name + "; cancelled " + count_of(cancelled, "open run", "open runs") +
                 " (the history of its runs stays)");
  return {};
}

Result<void> run_pause(Context& ctx, const std::string& name, bool pause)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto a = store::get_automation(**store, name);
  if (!a) return std::unexpected(a.error());
  // Resuming restarts a schedule from now: ticks that fell due while
  // paused are skipped, not replayed.
  std::optional<std::int64_t> next;
  if (!pause) {
    auto n = next_fire(*a, timeutil::now_ms());
    if (!n) return std::unexpected(n.error());
    next = *n;
  }
  if (auto r = store::set_automation_paused(**store, name, pause, next); !r) return r;
  if (ctx.out().json()) {
    ctx.out().json_document({{"name", name}, {"paused", pause}, {"next_fire_at", pause ? json(nullptr) : optional_time(next)}});
    return {};
  }
  std::string line = (pause ? "paused automation " : "resumed automation ") + name;
  if (next) line += ", next at " + timeutil::format_rfc3339(*next);
  ctx.out().line(line);
  if (pause) ctx.out().note("runs already started go on; cancel one with 'centrali automations cancel RUN_ID'");
  else if (a->trigger == "schedule" && !next) ctx.out().note("its one-off time has passed: it will not fire again");
  return {};
}

// --- runs ------------------------------------------------------------------

// A run in lists, and what `run`, `rerun` and `cancel` print.
json run_summary_json(const store::AutomationRun& r)
{
  return {{"id", r.id},
          {"automation", r.automation},
          {"status", r.status},
          {"origin", r.origin},
          {"event_id", text_or_null(r.event_id)},
          {"rerun_of", text_or_null(r.rerun_of)},
          {"next_step", text_or_null(r.next_step)},
          {"due_at", is_open(r.status) ? optional_time(r.due_ms) : json(nullptr)},
          {"started_at", timeutil::format_rfc3339(r.created_ms)},
          {"ended_at", optional_time(r.ended_ms)},
          {"error", text_or_null(r.error)}};
}

json step_json(const store::AutomationStep& s)
{
  json j = {{"id", s.step},
            {"type", s.type},
            {"status", s.status},
            {"attempt", s.attempt},
            {"started_at", timeutil::format_rfc3339(s.started_ms)},
            {"ended_at", optional_time(s.ended_ms)},
            {"output", stored_json(s.output)},
            {"next", text_or_null(s.next)},
            {"error", text_or_null(s.error)},
            {"detail", stored_json(s.detail)}};
  if (s.clock_offset_ms != 0) j["clock_offset_ms"] = s.clock_offset_ms;
  return j;
}

// `runs show --json`, exactly {"id","automation","status","origin","input",
// "context","error","steps"}.
json run_detail_json(const store::AutomationRun& r, const std::vector<store::AutomationStep>& steps)
{
  auto arr = json::array();
  for (const auto& s : steps) arr.push_back(step_json(s));
  return {{"id", r.id},
          {"automation", r.automation},
          {"status", r.status},
          {"origin", r.origin},
          {"input", stored_json(r.input)},
          {"context", stored_json(r.context)},
          {"error", text_or_null(r.error)},
          {"steps", arr}};
}

// A JSON value from outside, on one line, safe for a terminal.
std::string shown(const json& value)
{
  return for_terminal(dump_json(value));
}

// A decision's detail for people: which case held and what was compared.
std::vector<std::string> decision_lines(const json& detail)
{
  std::vector<std::string> lines;
  if (!detail.is_object()) return lines;
  const auto& c = detail.contains("case") ? detail["case"] : json(nullptr);
  lines.push_back(c.is_number_integer() ? "cases[" + std::to_string(c.get<int>()) + "] held" : "no case held: default");
  if (!detail.contains("conditions") || !detail["conditions"].is_array()) return lines;
  for (const auto& k : detail["conditions"]) {
    if (!k.is_object()) continue;
    std::string line = for_terminal(k.value("path", "")) + " " + for_terminal(k.value("op", ""));
    if (k.contains("value") && !k["value"].is_null()) line += " " + shown(k["value"]);
    line += ": was " + (k.value("absent", false) ? std::string("absent") : shown(k.contains("actual") ? k["actual"] : json(nullptr)));
    line += k.value("held", false) ? ", held" : ", did not hold";
    lines.push_back(line);
  }
  return lines;
}

void print_run(Context& ctx, const store::AutomationRun& r, const std::vector<store::AutomationStep>& steps)
{
  auto& out = ctx.out();
  const auto now = timeutil::now_ms();
  std::vector<std::pair<std::string, std::string>> rows = {
      {"id", r.id},
      {"automation", r.automation},
      {"status", out.paint(r.status, status_style(r.status))},
      {"origin", r.origin + (r.rerun_of.empty() ? "" : " of " + r.rerun_of)}};
  if (!r.event_id.empty()) rows.push_back({"event", r.event_id});
  rows.push_back({"started", timeutil::format_rfc3339(r.created_ms)});
  rows.push_back({"ended", r.ended_ms ? timeutil::format_rfc3339(*r.ended_ms) : "-"});
  if (is_open(r.status))
    rows.push_back({"next", (r.next_step.empty() ? "-" : r.next_step) + ", due " + timeutil::format_rfc3339(r.due_ms) +
                                " (" + timeutil::relative(r.due_ms, now) + ")"});
  rows.push_back({"error", r.error.empty() ? "-" : for_terminal(r.error)});
  rows.push_back({"input", r.input.empty() ? "(built from its event when it starts)" : shown(stored_json(r.input))});
  rows.push_back({"context", shown(stored_json(r.context))});
  out.fields(rows);
  out.line("");
  out.line(out.paint("steps (" + std::to_string(steps.size()) + ")", Style::bold));
  if (steps.empty()) out.line("  none yet");
  for (const auto& s : steps) {
    std::string head = "  " + s.step + " (" + s.type + "): " + out.paint(s.status, status_style(s.status));
    if (s.attempt > 1) head += ", attempt " + std::to_string(s.attempt);
    head += ", " + timeutil::format_rfc3339(s.started_ms);
    if (s.ended_ms) head += " to " + timeutil::format_rfc3339(*s.ended_ms);
    if (!s.next.empty()) head += ", next " + s.next;
    out.line(head);
    if (!s.output.empty()) out.line("    output: " + shown(stored_json(s.output)));
    if (!s.error.empty()) out.line("    error: " + for_terminal(s.error));
    if (!s.detail.empty()) {
      auto detail = stored_json(s.detail);
      auto lines = s.type == "decision" ? decision_lines(detail) : std::vector<std::string>{};
      if (lines.empty()) lines.push_back("detail: " + shown(detail));
      for (const auto& l : lines) out.line("    " + l);
    }
    if (s.clock_offset_ms != 0)
      out.line("    " + out.paint("made under a fast-forwarded clock (+" +
                                      timeutil::format_duration(std::chrono::milliseconds(s.clock_offset_ms)) + ")",
                                  Style::yellow));
  }
}

// `runs show`, and the end of `run --wait`: exit 1 unless it completed.
Result<void> show_run(Context& ctx, store::Store& store, const std::string& id, bool fail_unless_completed)
{
  auto r = store::get_automation_run(store, id);
  if (!r) return std::unexpected(r.error());
  auto steps = store::automation_run_steps(store, id);
  if (!steps) return std::unexpected(steps.error());
  if (ctx.out().json()) ctx.out().json_document(run_detail_json(*r, *steps));
  else print_run(ctx, *r, *steps);
  if (!fail_unless_completed || r->status == "completed") return {};
  return fail(ErrorKind::rejected, "run " + r->id + " of automation " + r->automation + " " + r->status +
                                       (r->error.empty() ? "" : ": " + for_terminal(r->error)));
}

struct RunArgs {
  std::string name;
  std::string data;
  bool data_given = false;
  bool wait = false;
};

// Executes the run in this process until it ends. drain() advances every
// due run (others too, as `dispatch` would); in a delay this sleeps until
// the due time, looking at the store now and then (a cancel, a listener
// that took the run over). Ctrl-C stops waiting and leaves the run as it
// is, for `listen` or `dispatch` to resume.
Result<void> wait_for_run(Context& ctx, store::Store& reader, const std::string& id)
{
  // Blocked before the writer and executor start their threads, so that
  // they inherit the mask and the signal is taken only by sigtimedwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const auto path = ctx.options().store_path;
  auto writer_store = store::Store::open(path, {store::Durability::full});
  if (!writer_store) return std::unexpected(writer_store.error());
  store::GroupCommitter writer(std::move(*writer_store));
  auto& out = ctx.out();
  automations::Executor executor(writer, path, {}, [&out](const std::string& line) { out.verbose(1, line); });
  while (true) {
    if (auto ran = executor.drain(); !ran) return std::unexpected(ran.error());
    auto run = store::get_automation_run(reader, id);
    if (!run) return std::unexpected(run.error());
    if (!is_open(run->status)) break;
    const auto now = timeutil::now_ms();
    // In a delay: until it is due, but at most a second between looks.
    // Otherwise another process holds it (or it is about to be due): soon.
    std::int64_t pause_ms = run->status == "waiting" ? std::clamp<std::int64_t>(run->due_ms - now, 0, 1000) : 50;
    timespec pause{static_cast<time_t>(pause_ms / 1000), static_cast<long>(pause_ms % 1000) * 1'000'000};
    if (sigtimedwait(&stop_signals, nullptr, &pause) > 0) {
      writer.stop();
      return fail(ErrorKind::rejected,
                  "stopped waiting: run " + id + " is " + run->status + (run->next_step.empty() ? "" : " at step " + run->next_step) +
                      ", due " + timeutil::format_rfc3339(run->due_ms) +
                      "; a running 'centrali listen' or 'centrali dispatch' resumes it");
    }
  }
  writer.stop();
  return show_run(ctx, reader, id, true);
}

Result<void> run_run(Context& ctx, const RunArgs& args)
{
  json input = json::object();
  if (args.data_given) {
    input = parse_json(args.data);
    if (input.is_discarded()) return fail(ErrorKind::usage, "--data " + json_refusal(args.data));
  }
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto a = store::get_automation(**store, args.name);
  if (!a) return std::unexpected(a.error());
  if (a->paused)
    return fail(ErrorKind::rejected, "automation " + a->name + " is paused (resume it with 'centrali automations resume " +
                                         a->name + "')");
  auto definition = automations::parse_definition_text(a->definition);
  if (!definition)
    return fail(ErrorKind::store, "automation " + a->name + ": stored definition: " + definition.error().message);
  const auto now = timeutil::now_ms();
  store::AutomationRun run;
  run.id = ids::make(ids::k_automation_run);
  run.automation = a->name;
  run.definition = a->definition;
  run.status = "running";
  run.origin = "demand";
  run.input = input.dump();
  run.context = "{}";
  run.next_step = definition->steps.front().id;
  run.due_ms = now;
  run.created_ms = now;
  run.updated_ms = now;
  if (auto r = store::insert_automation_run(**store, run); !r) return r;
  if (args.wait) return wait_for_run(ctx, **store, run.id);
  store::announce_committed_work(**store);  // only now: with --wait the run is this process's to execute
  if (ctx.out().json()) ctx.out().json_document({{"id", run.id}, {"automation", run.automation}, {"status", run.status}});
  else ctx.out().line(run.id);
  ctx.out().note("queued; a running 'centrali listen' or 'centrali dispatch' executes it (or run it here with --wait)");
  return {};
}

struct RunsArgs {
  std::string automation;
  std::string status;
  int limit = 50;
  bool limit_given = false;
};

Result<void> run_runs(Context& ctx, const RunsArgs& args)
{
  if (args.limit < 0) return fail(ErrorKind::usage, "--limit must be 0 or more");
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (!args.automation.empty())
    if (auto a = store::get_automation(**store, args.automation); !a) {
      // A removed automation's runs are still worth listing.
      auto any = store::list_automation_runs(**store, {args.automation, "", 1});
      if (!any) return std::unexpected(any.error());
      if (any->empty()) return std::unexpected(a.error());
    }
  const ListLimit limit{args.limit, args.limit_given};
  auto runs = store::list_automation_runs(**store, {args.automation, args.status, fetch_limit(limit)});
  if (!runs) return std::unexpected(runs.error());
  const bool cut = cut_to_limit(*runs, limit);
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& r : *runs) arr.push_back(run_summary_json(r));
    ctx.out().json_document(arr);
    note_if_cut(ctx.out(), limit, cut, "newest");
    return {};
  }
  if (runs->empty()) {
    ctx.out().note("no runs match");
    return {};
  }
  const auto now = timeutil::now_ms();
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *runs) {
    // Open: the step it is at. Ended: the step it ended in.
    std::string step = r.next_step;
    if (step.empty()) {
      auto steps = store::automation_run_steps(**store, r.id);
      if (!steps) return std::unexpected(steps.error());
      step = steps->empty() ? "-" : steps->back().step;
    }
    if (r.status == "waiting") step += " (due " + timeutil::relative(r.due_ms, now) + ")";
    rows.push_back({r.id, r.automation, ctx.out().paint(r.status, status_style(r.status)), step,
                    timeutil::relative(r.created_ms, now), r.ended_ms ? timeutil::relative(*r.ended_ms, now) : "-"});
  }
  ctx.out().table({"ID", "AUTOMATION", "STATUS", "STEP/NEXT", "STARTED", "ENDED"}, rows);
  note_if_cut(ctx.out(), limit, cut, "newest");
  return {};
}

Result<void> run_runs_show(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  return show_run(ctx, **store, id, false);
}

struct RerunArgs {
  std::string id;
  std::string from;
};

Result<void> run_rerun(Context& ctx, const RerunArgs& args)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto old = store::get_automation_run(**store, args.id);
  if (!old) return std::unexpected(old.error());
  auto old_steps = store::automation_run_steps(**store, args.id);
  if (!old_steps) return std::unexpected(old_steps.error());
  auto rerun = automations::plan_rerun(*old, *old_steps, args.from, timeutil::now_ms());
  if (!rerun) return std::unexpected(rerun.error());
  if (auto r = store::insert_automation_run_with_steps(**store, rerun->run, rerun->copied); !r) return r;
  store::announce_committed_work(**store);
  if (ctx.out().json()) {
    auto j = run_summary_json(rerun->run);
    j["copied_steps"] = rerun->copied.size();
    ctx.out().json_document(j);
  } else {
    ctx.out().line(rerun->run.id);
  }
  ctx.out().note("rerun of " + old->id + " starting at step " + rerun->run.next_step +
                 (args.from.empty() ? "" : " with " + count_of(rerun->copied.size(), "step", "steps") + " of it kept") +
                 "; a running 'centrali listen' or 'centrali dispatch' executes it");
  return {};
}

Result<void> run_cancel(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto cancelled = store::cancel_automation_run(**store, id, timeutil::now_ms());
  if (!cancelled) return std::unexpected(cancelled.error());
  auto run = store::get_automation_run(**store, id);
  if (!run) return std::unexpected(run.error());
  if (!*cancelled)
    return fail(ErrorKind::rejected, "run " + id + " has already ended (" + run->status + "); only a running or "
                                                                                          "waiting run can be cancelled");
  if (ctx.out().json()) ctx.out().json_document(run_summary_json(*run));
  else ctx.out().line("cancelled run " + id + " of automation " + run->automation);
  return {};
}

// --- registration --------------------------------------------------------------

void add_file_command(CLI::App* cmd, Selected& selected, const char* name, const char* help,
                      std::function<Result<void>(Context&, const std::string&)> fn)
{
  auto file = std::make_shared<std::string>();
  auto* sub = cmd->add_subcommand(name, help);
  sub->footer("A definition is {\"name\", \"trigger\": {\"type\": event|schedule|demand|http, ...}, \"steps\": [...]}\n"
              "with compute, decision and delay steps (centrali-automations(1)). A compute step gets\n"
              "{\"input\",\"context\",\"steps\"} on stdin and CENTRALI_AUTOMATION, CENTRALI_RUN_ID,\n"
              "CENTRALI_STEP, CENTRALI_STEP_ATTEMPT and CENTRALI_STORE in its environment; its JSON stdout\n"
              "is steps.<id>.output, and a \"context\" member of it is merged into the context.\n"
              "An in-flight compute step is run again after a crash unless it says \"retry\": false.\n"
              "Example:\n"
              "  centrali automations " + std::string(name) + " -f order-follow-up.json");
  sub->add_option("-f,--file", *file, "The definition (JSON); - reads standard input")->required()->type_name("FILE");
  sub->callback([&selected, file, fn] { selected.run = [file, fn](Context& c) { return fn(c, *file); }; });
}

void add_arg_command(CLI::App* cmd, Selected& selected, const char* name, const char* help, const char* arg,
                     const char* arg_help, std::function<Result<void>(Context&, const std::string&)> fn)
{
  auto value = std::make_shared<std::string>();
  auto* sub = cmd->add_subcommand(name, help);
  sub->add_option(arg, *value, arg_help)->required();
  sub->callback([&selected, value, fn] { selected.run = [value, fn](Context& c) { return fn(c, *value); }; });
}

} // namespace

void add_automations_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("automations", "Multi-step workflows: compute, decision and delay steps, durable runs");
  cmd->require_subcommand(1);

  add_file_command(cmd, selected, "add", "Add an automation from a definition file",
                   [](Context& c, const std::string& f) { return run_write(c, f, Write::add); });
  add_file_command(cmd, selected, "update", "Replace an automation's definition (runs in flight keep theirs)",
                   [](Context& c, const std::string& f) { return run_write(c, f, Write::update); });
  add_file_command(cmd, selected, "validate", "Check a definition file and say what it would do; stores nothing",
                   run_validate);

  auto* list = cmd->add_subcommand("list", "List automations with their state and last run");
  list->callback([&selected] { selected.run = run_list; });

  add_arg_command(cmd, selected, "show", "Show an automation's definition and state", "name", "Automation name", run_show);
  add_arg_command(cmd, selected, "rm", "Remove an automation (cancels its open runs; their history stays)", "name",
                  "Automation name", run_rm);
  add_arg_command(cmd, selected, "pause", "Start no new runs of an automation (open runs go on)", "name",
                  "Automation name", [](Context& c, const std::string& n) { return run_pause(c, n, true); });
  add_arg_command(cmd, selected, "resume", "Start runs again (a schedule restarts from now)", "name", "Automation name",
                  [](Context& c, const std::string& n) { return run_pause(c, n, false); });

  auto run_args = std::make_shared<RunArgs>();
  auto* run = cmd->add_subcommand("run", "Start a run on demand (queued, or executed here with --wait)");
  run->add_option("name", run_args->name, "Automation name")->required();
  auto* data = run->add_option("--data", run_args->data, "The run's input (default {})")->type_name("JSON");
  run->add_flag("--wait", run_args->wait,
                "Execute it in this process until it ends and print it; exit 1 unless it completed");
  run->footer("Without --wait the run is queued for a running 'centrali listen' or 'centrali dispatch'.\n"
              "With --wait a delay is slept through here; Ctrl-C leaves the run waiting for them.\n"
              "Examples:\n  centrali automations run order-follow-up --data '{\"order\": {\"total\": 250}}' --wait");
  run->callback([&selected, run_args, data] {
    run_args->data_given = data->count() > 0;
    selected.run = [run_args](Context& c) { return run_run(c, *run_args); };
  });

  auto runs_args = std::make_shared<RunsArgs>();
  auto* runs = cmd->add_subcommand("runs", "List runs, newest first ('runs show RUN_ID' for one, step by step)");
  runs->add_option("name", runs_args->automation, "Only runs of this automation");
  runs->add_option("--status", runs_args->status, "Only runs in this status")
      ->check(CLI::IsMember({"running", "waiting", "completed", "failed", "cancelled"}));
  auto* runs_limit = runs->add_option("--limit", runs_args->limit, "At most N runs (0 = all)")->capture_default_str();
  auto show_id = std::make_shared<std::string>();
  auto* show = runs->add_subcommand("show", "Show one run: input, context and every step executed, in order");
  show->add_option("id", *show_id, "Run id (arun_...)")->required();
  show->callback([&selected, show_id] { selected.run = [show_id](Context& c) { return run_runs_show(c, *show_id); }; });
  runs->callback([&selected, runs_args, show, runs_limit] {
    if (show->parsed()) return;  // `runs show ID` chose already
    runs_args->limit_given = runs_limit->count() > 0;
    selected.run = [runs_args](Context& c) { return run_runs(c, *runs_args); };
  });

  auto rerun_args = std::make_shared<RerunArgs>();
  auto* rerun = cmd->add_subcommand("rerun", "Queue a new run with the input and definition of RUN_ID");
  rerun->add_option("id", rerun_args->id, "Run id (arun_...)")->required();
  rerun->add_option("--from", rerun_args->from,
                    "Start at this step, keeping the steps the old run executed before it (and their context)")
      ->type_name("STEP");
  rerun->callback([&selected, rerun_args] {
    selected.run = [rerun_args](Context& c) { return run_rerun(c, *rerun_args); };
  });

  add_arg_command(cmd, selected, "cancel", "Cancel a running or waiting run", "id", "Run id (arun_...)", run_cancel);

  // Set last: CLI11 gives a parent's footer to subcommands added after it.
  cmd->footer("Exit codes: 2 for an invalid definition (the message names the JSON path); run --wait\n"
              "exits 1 when the run fails or is cancelled; cancel exits 1 when the run has ended.\n"
              "See centrali-automations(1).");
}

} // namespace centrali::cli

#include "centrali/automations/definition.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

#include "centrali/records/records.hpp"
#include "centrali/schedule/cron.hpp"
#include "centrali/schedule/zone.hpp"
#include "centrali/triggers/process.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::automations {
namespace {

using json = nlohmann::json;

constexpr std::int64_t k_default_timeout_ms = 30'000;
constexpr std::int64_t k_default_backoff_ms = 1'000;
// A step that needs longer than an hour belongs in a delay plus a poll,
// not in one process the executor has to keep alive and re-run on restart.
constexpr std::int64_t k_max_timeout_ms = 3'600'000;
constexpr std::int64_t k_max_backoff_ms = 3'600'000;
constexpr int k_max_retries = 10;

// Errors name the JSON path first, so a person finds the spot in the file.
std::unexpected<Error> bad(const std::string& path, const std::string& what)
{
  return fail(ErrorKind::usage, path.empty() ? what : path + ": " + what);
}

std::string in_quotes(std::string_view text)
{
  return json(std::string(text)).dump(-1, ' ', true, json::error_handler_t::replace);
}

std::string member(const std::string& parent, std::string_view name)
{
  return parent.empty() ? std::string(name) : parent + "." + std::string(name);
}

std::string element(const std::string& parent, std::size_t index)
{
  return parent + "[" + std::to_string(index) + "]";
}

// Unknown members are refused so that a typo (`timout`) fails loudly
// instead of silently falling back to the default.
Result<void> refuse_unknown(const json& object, const std::string& path, std::initializer_list<std::string_view> known)
{
  for (const auto& [key, value] : object.items())
    if (std::find(known.begin(), known.end(), key) == known.end()) return bad(member(path, key), "unknown member");
  return {};
}

Result<const json*> required(const json& object, const std::string& path, std::string_view name)
{
  auto it = object.find(std::string(name));
  if (it == object.end()) return bad(member(path, name), "missing");
  return &*it;
}

const json* optional_member(const json& object, std::string_view name)
{
  auto it = object.find(std::string(name));
  return it == object.end() ? nullptr : &*it;
}

Result<std::string> string_at(const json& value, const std::string& path)
{
  if (!value.is_string()) return bad(path, "must be a string");
  return value.get<std::string>();
}

Result<std::string> nonempty_string_at(const json& value, const std::string& path)
{
  auto s = string_at(value, path);
  if (!s) return s;
  if (s->empty()) return bad(path, "must not be empty");
  return s;
}

Result<bool> bool_at(const json& value, const std::string& path)
{
  if (!value.is_boolean()) return bad(path, "must be true or false");
  return value.get<bool>();
}

Result<void> check_object(const json& value, const std::string& path)
{
  if (!value.is_object()) return bad(path, "must be a JSON object");
  return {};
}

// Step ids become path segments (`steps.<id>.output`), which split on '.',
// so unlike names they cannot hold a dot.
Result<std::string> identifier_at(const json& value, const std::string& path, bool allow_dot)
{
  auto s = string_at(value, path);
  if (!s) return s;
  bool ok = !s->empty() && s->size() <= 64;
  for (char c : *s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || (allow_dot && c == '.'))) ok = false;
  if (!ok)
    return bad(path, in_quotes(*s) + " is not a valid " + (allow_dot ? "name" : "step id") +
                         " (1-64 characters: letters, digits, '_', '-'" + (allow_dot ? ", '.')" : ")"));
  return s;
}

Result<std::int64_t> duration_at(const json& value, const std::string& path)
{
  auto text = string_at(value, path);
  if (!text) return std::unexpected(text.error());
  auto d = timeutil::parse_duration(*text);
  if (!d) return bad(path, d.error().message);
  return d->count();
}

// ---- trigger ----------------------------------------------------------------

Result<void> parse_event_trigger(const json& t, const std::string& path, AutomationTrigger& out)
{
  if (auto r = refuse_unknown(t, path, {"type", "events", "source", "collection"}); !r) return r;
  auto events = required(t, path, "events");
  if (!events) return std::unexpected(events.error());
  auto events_path = member(path, "events");
  if (!(*events)->is_array() || (*events)->empty())
    return bad(events_path, "must be a non-empty array of event type globs (e.g. [\"record_*\"])");
  for (std::size_t i = 0; i < (*events)->size(); ++i) {
    auto glob = nonempty_string_at((**events)[i], element(events_path, i));
    if (!glob) return std::unexpected(glob.error());
    // Globs are kept comma-joined where events are matched; a comma inside
    // one would silently become two.
    if (glob->find(',') != std::string::npos) return bad(element(events_path, i), "a glob cannot contain ','");
    out.events.push_back(*glob);
  }
  if (const auto* source = optional_member(t, "source")) {
    auto s = nonempty_string_at(*source, member(path, "source"));
    if (!s) return std::unexpected(s.error());
    out.source = *s;
  }
  if (const auto* collection = optional_member(t, "collection")) {
    auto c = string_at(*collection, member(path, "collection"));
    if (!c) return std::unexpected(c.error());
    if (auto r = records::check_collection(*c); !r) return bad(member(path, "collection"), r.error().message);
    out.collection = *c;
  }
  return {};
}

Result<void> parse_schedule_trigger(const json& t, const std::string& path, AutomationTrigger& out)
{
  if (auto r = refuse_unknown(t, path, {"type", "cron", "timezone", "every", "at"}); !r) return r;
  const auto* cron = optional_member(t, "cron");
  const auto* every = optional_member(t, "every");
  const auto* at = optional_member(t, "at");
  if ((cron != nullptr) + (every != nullptr) + (at != nullptr) != 1)
    return bad(path, "a schedule needs exactly one of cron, every or at");
  const auto* timezone = optional_member(t, "timezone");
  if (timezone && !cron) return bad(member(path, "timezone"), "only applies to a cron schedule");

  if (cron) {
    auto text = string_at(*cron, member(path, "cron"));
    if (!text) return std::unexpected(text.error());
    auto parsed = schedule::Cron::parse(*text);
    if (!parsed) return bad(member(path, "cron"), parsed.error().message);
    auto zone = schedule::Zone::utc();
    if (timezone) {
      auto name = nonempty_string_at(*timezone, member(path, "timezone"));
      if (!name) return std::unexpected(name.error());
      auto located = schedule::Zone::locate(*name);
      if (!located) return bad(member(path, "timezone"), located.error().message);
      zone = *located;
      out.timezone = *name;
    }
    // An impossible date (`0 0 30 2 *`) never fires in any year; a possible
    // one fires within the few years next_after searches, from any start.
    if (!parsed->next_after(0, zone)) return bad(member(path, "cron"), in_quotes(parsed->text()) + " never fires");
    out.cron = parsed->text();
  } else if (every) {
    auto ms = duration_at(*every, member(path, "every"));
    if (!ms) return std::unexpected(ms.error());
    if (*ms < 1000) return bad(member(path, "every"), "must be at least 1s");
    out.every_ms = *ms;
  } else {
    auto text = string_at(*at, member(path, "at"));
    if (!text) return std::unexpected(text.error());
    auto ms = timeutil::parse_instant(*text);
    if (!ms) return bad(member(path, "at"), ms.error().message);
    out.at_ms = *ms;
  }
  return {};
}

Result<void> parse_http_trigger(const json& t, const std::string& path, AutomationTrigger& out)
{
  if (auto r = refuse_unknown(t, path, {"type", "path"}); !r) return r;
  auto given = required(t, path, "path");
  if (!given) return std::unexpected(given.error());
  auto where = member(path, "path");
  auto text = string_at(**given, where);
  if (!text) return std::unexpected(text.error());
  std::string p = *text;
  if (p.starts_with('/')) p.erase(0, 1);
  if (p.empty()) return bad(where, "give a path after the slash, e.g. \"orders/new\"");
  for (char c : p)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-'))
      return bad(where, in_quotes(*text) + ": only letters, digits, '_', '.', '/' and '-' are allowed");
  if (p.find("..") != std::string::npos) return bad(where, in_quotes(*text) + " must not contain '..'");
  // The path is matched exactly; `orders//new` or `orders/` would look like
  // the same endpoint to a person and never match the request they send.
  if (p.starts_with('/') || p.ends_with('/') || p.find("//") != std::string::npos)
    return bad(where, in_quotes(*text) + " has an empty segment");
  out.path = p;
  return {};
}

Result<AutomationTrigger> parse_trigger(const json& document)
{
  const std::string path = "trigger";
  auto t = required(document, "", path);
  if (!t) return std::unexpected(t.error());
  if (auto r = check_object(**t, path); !r) return std::unexpected(r.error());
  auto type = required(**t, path, "type");
  if (!type) return std::unexpected(type.error());
  auto name = string_at(**type, member(path, "type"));
  if (!name) return std::unexpected(name.error());

  AutomationTrigger out;
  Result<void> r;
  if (*name == "event") {
    out.type = TriggerType::event;
    r = parse_event_trigger(**t, path, out);
  } else if (*name == "schedule") {
    out.type = TriggerType::schedule;
    r = parse_schedule_trigger(**t, path, out);
  } else if (*name == "demand") {
    out.type = TriggerType::demand;
    r = refuse_unknown(**t, path, {"type"});
  } else if (*name == "http") {
    out.type = TriggerType::http;
    r = parse_http_trigger(**t, path, out);
  } else {
    return bad(member(path, "type"),
               "unknown trigger type " + in_quotes(*name) + " (expected one of event, schedule, demand, http)");
  }
  if (!r) return std::unexpected(r.error());
  return out;
}

// ---- steps --------------------------------------------------------------------

// What every step parser needs to know about the others.
struct StepIds {
  std::set<std::string> all;  // every well-formed id in the file, for references
};

Result<std::string> step_reference(const json& value, const std::string& path, const StepIds& ids)
{
  auto id = string_at(value, path);
  if (!id) return id;
  if (!ids.all.contains(*id)) return bad(path, "no step " + in_quotes(*id));
  return id;
}

// `input…`, `context…`, `steps.<id>.output…` or `steps.<id>.status`, with no
// empty segment: the places a run's document has values.
Result<std::string> value_path(const json& value, const std::string& path, const StepIds& ids)
{
  auto text = string_at(value, path);
  if (!text) return text;
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    auto dot = text->find('.', start);
    segments.push_back(text->substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const std::string expected =
      "must start with input, context, steps.<id>.output or steps.<id>.status (got " + in_quotes(*text) + ")";
  if (std::any_of(segments.begin(), segments.end(), [](const std::string& s) { return s.empty(); }))
    return bad(path, in_quotes(*text) + " has an empty segment");
  if (segments[0] == "input" || segments[0] == "context") return text;
  if (segments[0] != "steps" || segments.size() < 3) return bad(path, expected);
  if (!ids.all.contains(segments[1])) return bad(path, "no step " + in_quotes(segments[1]));
  if (segments[2] == "output") return text;
  if (segments[2] == "status" && segments.size() == 3) return text;
  return bad(path, expected);
}

struct OperatorName {
  Operator op;
  std::string_view name;
};

constexpr std::array<OperatorName, 11> k_operators{{
    {Operator::eq, "eq"},
    {Operator::neq, "neq"},
    {Operator::gt, "gt"},
    {Operator::gte, "gte"},
    {Operator::lt, "lt"},
    {Operator::lte, "lte"},
    {Operator::exists, "exists"},
    {Operator::not_exists, "notExists"},
    {Operator::in, "in"},
    {Operator::not_in, "notIn"},
    {Operator::contains, "contains"},
}};

Result<Condition> parse_condition(const json& c, const std::string& path, const StepIds& ids)
{
  if (auto r = check_object(c, path); !r) return std::unexpected(r.error());
  if (auto r = refuse_unknown(c, path, {"path", "op", "value"}); !r) return std::unexpected(r.error());
  Condition out;
  auto p = required(c, path, "path");
  if (!p) return std::unexpected(p.error());
  auto text = value_path(**p, member(path, "path"), ids);
  if (!text) return std::unexpected(text.error());
  out.path = *text;

  auto op = required(c, path, "op");
  if (!op) return std::unexpected(op.error());
  auto op_name = string_at(**op, member(path, "op"));
  if (!op_name) return std::unexpected(op_name.error());
  auto known = std::find_if(k_operators.begin(), k_operators.end(), [&](const auto& o) { return o.name == *op_name; });
  if (known == k_operators.end())
    return bad(member(path, "op"), "unknown operator " + in_quotes(*op_name) +
                                       " (expected one of eq, neq, gt, gte, lt, lte, exists, notExists, in, notIn, contains)");
  out.op = known->op;

  const auto* value = optional_member(c, "value");
  auto value_path_text = member(path, "value");
  switch (out.op) {
  case Operator::exists:
  case Operator::not_exists:
    if (value) return bad(value_path_text, std::string(known->name) + " takes no value");
    break;
  case Operator::in:
  case Operator::not_in:
    if (!value) return bad(value_path_text, "missing (" + std::string(known->name) + " needs an array of values)");
    if (!value->is_array()) return bad(value_path_text, "must be an array for " + std::string(known->name));
    break;
  case Operator::gt:
  case Operator::gte:
  case Operator::lt:
  case Operator::lte:
    if (!value) return bad(value_path_text, "missing (" + std::string(known->name) + " compares against it)");
    // Ordering never converts, so any other value could never hold.
    if (!value->is_number() && !value->is_string())
      return bad(value_path_text, "must be a number or a string for " + std::string(known->name));
    break;
  default:
    if (!value) return bad(value_path_text, "missing (" + std::string(known->name) + " compares against it)");
  }
  if (value) out.value = *value;
  return out;
}

Result<void> parse_decision(const json& s, const std::string& path, const StepIds& ids, Step& out)
{
  if (auto r = refuse_unknown(s, path, {"id", "type", "cases", "default"}); !r) return r;
  auto cases = required(s, path, "cases");
  if (!cases) return std::unexpected(cases.error());
  auto cases_path = member(path, "cases");
  if (!(*cases)->is_array() || (*cases)->empty()) return bad(cases_path, "must be a non-empty array of cases");
  for (std::size_t i = 0; i < (*cases)->size(); ++i) {
    const auto& c = (**cases)[i];
    auto case_path = element(cases_path, i);
    if (auto r = check_object(c, case_path); !r) return r;
    if (auto r = refuse_unknown(c, case_path, {"when", "next"}); !r) return r;
    DecisionCase parsed;
    auto when = required(c, case_path, "when");
    if (!when) return std::unexpected(when.error());
    auto when_path = member(case_path, "when");
    if (!(*when)->is_array() || (*when)->empty()) return bad(when_path, "must be a non-empty array of conditions");
    for (std::size_t k = 0; k < (*when)->size(); ++k) {
      auto condition = parse_condition((**when)[k], element(when_path, k), ids);
      if (!condition) return std::unexpected(condition.error());
      parsed.when.push_back(std::move(*condition));
    }
    auto next = required(c, case_path, "next");
    if (!next) return std::unexpected(next.error());
    auto target = step_reference(**next, member(case_path, "next"), ids);
    if (!target) return std::unexpected(target.error());
    parsed.next = *target;
    out.cases.push_back(std::move(parsed));
  }
  if (const auto* fallback = optional_member(s, "default")) {
    auto target = step_reference(*fallback, member(path, "default"), ids);
    if (!target) return std::unexpected(target.error());
    out.default_next = *target;
  }
  return {};
}

Result<void> parse_compute(const json& s, const std::string& path, Step& out)
{
  if (auto r = refuse_unknown(s, path, {"id", "type", "run", "exec", "timeout", "retries", "backoff", "retry", "cwd",
                                        "env", "next"});
      !r)
    return r;
  auto run = required(s, path, "run");
  if (!run) return std::unexpected(run.error());
  auto command = string_at(**run, member(path, "run"));
  if (!command) return std::unexpected(command.error());
  if (command->find_first_not_of(" \t\r\n") == std::string::npos)
    return bad(member(path, "run"), "needs the command to run (e.g. \"./score.sh\")");
  if (command->find('\0') != std::string::npos) return bad(member(path, "run"), "contains a NUL byte");
  out.run = *command;

  if (const auto* exec = optional_member(s, "exec")) {
    auto b = bool_at(*exec, member(path, "exec"));
    if (!b) return std::unexpected(b.error());
    out.exec = *b;
    // Without a shell the command is split here, the same way it will be run.
    if (out.exec)
      if (auto words = triggers::split_command(out.run); !words) return bad(member(path, "run"), words.error().message);
  }
  if (const auto* timeout = optional_member(s, "timeout")) {
    auto ms = duration_at(*timeout, member(path, "timeout"));
    if (!ms) return std::unexpected(ms.error());
    if (*ms <= 0 || *ms > k_max_timeout_ms) return bad(member(path, "timeout"), "must be more than 0 and at most 1h");
    out.timeout_ms = *ms;
  }
  if (const auto* retries = optional_member(s, "retries")) {
    if (!retries->is_number_integer() || retries->get<std::int64_t>() < 0 || retries->get<std::int64_t>() > k_max_retries)
      return bad(member(path, "retries"), "must be an integer from 0 to " + std::to_string(k_max_retries));
    out.retries = retries->get<int>();
  }
  if (const auto* backoff = optional_member(s, "backoff")) {
    auto ms = duration_at(*backoff, member(path, "backoff"));
    if (!ms) return std::unexpected(ms.error());
    if (*ms < 0 || *ms > k_max_backoff_ms) return bad(member(path, "backoff"), "must be at most 1h");
    out.backoff_ms = *ms;
  }
  if (const auto* retry = optional_member(s, "retry")) {
    auto b = bool_at(*retry, member(path, "retry"));
    if (!b) return std::unexpected(b.error());
    out.retry_interrupted = *b;
  }
  if (const auto* cwd = optional_member(s, "cwd")) {
    auto dir = nonempty_string_at(*cwd, member(path, "cwd"));
    if (!dir) return std::unexpected(dir.error());
    out.cwd = *dir;
  }
  if (const auto* env = optional_member(s, "env")) {
    auto env_path = member(path, "env");
    if (auto r = check_object(*env, env_path); !r) return r;
    for (const auto& [key, value] : env->items()) {
      bool ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
      for (char c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) ok = false;
      if (!ok) return bad(member(env_path, key), "not a valid variable name (letters, digits and '_', not starting with a digit)");
      auto text = string_at(value, member(env_path, key));
      if (!text) return std::unexpected(text.error());
      if (text->find('\0') != std::string::npos) return bad(member(env_path, key), "contains a NUL byte");
      out.env.emplace_back(key, *text);
    }
  }
  return {};
}

Result<void> parse_delay(const json& s, const std::string& path, const StepIds& ids, Step& out)
{
  if (auto r = refuse_unknown(s, path, {"id", "type", "duration", "until", "next"}); !r) return r;
  const auto* duration = optional_member(s, "duration");
  const auto* until = optional_member(s, "until");
  if ((duration != nullptr) == (until != nullptr))
    return bad(path, "a delay needs exactly one of duration (e.g. \"48h\") or until (a path, e.g. \"input.remind_at\")");
  if (duration) {
    auto ms = duration_at(*duration, member(path, "duration"));
    if (!ms) return std::unexpected(ms.error());
    if (*ms < 0) return bad(member(path, "duration"), "must not be negative");
    out.duration_ms = *ms;
  } else {
    auto text = value_path(*until, member(path, "until"), ids);
    if (!text) return std::unexpected(text.error());
    out.until_path = *text;
  }
  return {};
}

Result<Step> parse_step(const json& s, const std::string& path, const StepIds& ids,
                        std::map<std::string, std::size_t>& seen, std::size_t index)
{
  if (auto r = check_object(s, path); !r) return std::unexpected(r.error());
  Step out;
  auto id = required(s, path, "id");
  if (!id) return std::unexpected(id.error());
  auto text = identifier_at(**id, member(path, "id"), false);
  if (!text) return std::unexpected(text.error());
  if (auto [it, fresh] = seen.emplace(*text, index); !fresh)
    return bad(member(path, "id"), in_quotes(*text) + " is used by steps[" + std::to_string(it->second) + "] and steps[" +
                                       std::to_string(index) + "]");
  out.id = *text;

  auto type = required(s, path, "type");
  if (!type) return std::unexpected(type.error());
  auto type_name = string_at(**type, member(path, "type"));
  if (!type_name) return std::unexpected(type_name.error());
  Result<void> r;
  if (*type_name == "compute") {
    out.type = StepType::compute;
    r = parse_compute(s, path, out);
  } else if (*type_name == "decision") {
    out.type = StepType::decision;
    r = parse_decision(s, path, ids, out);
  } else if (*type_name == "delay") {
    out.type = StepType::delay;
    r = parse_delay(s, path, ids, out);
  } else {
    return bad(member(path, "type"),
               "unknown step type " + in_quotes(*type_name) + " (expected one of compute, decision, delay)");
  }
  if (!r) return std::unexpected(r.error());
  // Decisions choose their successor through cases and default only.
  if (out.type != StepType::decision)
    if (const auto* next = optional_member(s, "next")) {
      auto target = step_reference(*next, member(path, "next"), ids);
      if (!target) return std::unexpected(target.error());
      out.next = *target;
    }
  return out;
}

// A cycle through a delay is a polling loop that waits between rounds; a
// cycle without one would spin through the per-run step cap at full speed.
// Delays are left out of the graph, so every cycle that remains is refused.
Result<void> refuse_busy_cycles(const std::vector<Step>& steps)
{
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < steps.size(); ++i) index.emplace(steps[i].id, i);
  auto successors = [&](const Step& s) {
    std::vector<std::size_t> out;
    auto add = [&](const std::string& id) {
      if (id.empty()) return;
      auto it = index.find(id);
      if (it != index.end() && steps[it->second].type != StepType::delay) out.push_back(it->second);
    };
    add(s.next);
    for (const auto& c : s.cases) add(c.next);
    add(s.default_next);
    return out;
  };

  enum class Mark { unvisited, on_path, done };
  std::vector<Mark> mark(steps.size(), Mark::unvisited);
  std::vector<std::size_t> path;
  // Iterative DFS: a file of thousands of chained steps must not recurse deeply.
  struct Frame {
    std::size_t step;
    std::vector<std::size_t> next;
    std::size_t cursor = 0;
  };
  for (std::size_t root = 0; root < steps.size(); ++root) {
    if (mark[root] != Mark::unvisited || steps[root].type == StepType::delay) continue;
    std::vector<Frame> stack;
    stack.push_back({root, successors(steps[root])});
    mark[root] = Mark::on_path;
    while (!stack.empty()) {
      auto& top = stack.back();
      if (top.cursor == top.next.size()) {
        mark[top.step] = Mark::done;
        stack.pop_back();
        continue;
      }
      auto to = top.next[top.cursor++];
      if (mark[to] == Mark::on_path) {
        std::string cycle;
        auto from = std::find_if(stack.begin(), stack.end(), [&](const Frame& f) { return f.step == to; });
        for (auto it = from; it != stack.end(); ++it) cycle += steps[it->step].id + " -> ";
        cycle += steps[to].id;
        return bad("steps", "a cycle with no delay: " + cycle);
      }
      if (mark[to] == Mark::unvisited) {
        mark[to] = Mark::on_path;
        stack.push_back({to, successors(steps[to])});
      }
    }
  }
  return {};
}

Result<std::vector<Step>> parse_steps(const json& document)
{
  const std::string path = "steps";
  auto given = required(document, "", path);
  if (!given) return std::unexpected(given.error());
  const auto& list = **given;
  if (!list.is_array() || list.empty()) return bad(path, "must be a non-empty array of steps");

  // References may point forward, so every id is known before any step is read.
  StepIds ids;
  for (const auto& s : list)
    if (s.is_object() && s.contains("id") && s["id"].is_string()) ids.all.insert(s["id"].get<std::string>());

  std::vector<Step> steps;
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto step = parse_step(list[i], element(path, i), ids, seen, i);
    if (!step) return std::unexpected(step.error());
    steps.push_back(std::move(*step));
  }
  if (auto r = refuse_busy_cycles(steps); !r) return std::unexpected(r.error());
  return steps;
}

// "line 3, column 7" for a byte offset, counted as editors count.
std::string line_and_column(std::string_view text, std::size_t offset)
{
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

// nlohmann's message minus its "[json.exception…] parse error at line…:"
// prefix, which repeats the position we compute ourselves.
std::string syntax_detail(const json::parse_error& e)
{
  std::string what = e.what();
  auto syntax = what.find("syntax error");
  std::string detail = syntax == std::string::npos ? "not valid JSON" : what.substr(syntax);
  std::string printable;
  for (unsigned char c : detail)
    if (c < 0x20 || c == 0x7f) {
      static constexpr char k_hex[] = "0123456789abcdef";
      printable += "\\x";
      printable += k_hex[c >> 4];
      printable += k_hex[c & 15];
    } else {
      printable += static_cast<char>(c);
    }
  return printable;
}

} // namespace

const Step* Definition::step(std::string_view id) const
{
  auto it = std::find_if(steps.begin(), steps.end(), [&](const Step& s) { return s.id == id; });
  return it == steps.end() ? nullptr : &*it;
}

Result<Definition> parse_definition(const json& document)
{
  if (!document.is_object()) return bad("", "a definition must be a JSON object {\"name\", \"trigger\", \"steps\"}");
  if (auto r = refuse_unknown(document, "", {"name", "description", "trigger", "steps"}); !r)
    return std::unexpected(r.error());
  Definition out;
  auto name = required(document, "", "name");
  if (!name) return std::unexpected(name.error());
  auto name_text = identifier_at(**name, "name", true);
  if (!name_text) return std::unexpected(name_text.error());
  out.name = *name_text;
  if (const auto* description = optional_member(document, "description")) {
    auto text = string_at(*description, "description");
    if (!text) return std::unexpected(text.error());
    out.description = *text;
  }
  auto trigger = parse_trigger(document);
  if (!trigger) return std::unexpected(trigger.error());
  out.trigger = std::move(*trigger);
  auto steps = parse_steps(document);
  if (!steps) return std::unexpected(steps.error());
  out.steps = std::move(*steps);
  return out;
}

Result<Definition> parse_definition_text(std::string_view text)
{
  if (json_too_deep(text)) return bad("", "the definition " + json_refusal(text));
  auto document = parse_json(text);
  if (document.is_discarded()) {
    // parse_json only says whether; parsing again with exceptions says where.
    try {
      [[maybe_unused]] auto reparsed = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
      // e.byte counts from 1 and points just past the character that failed.
      auto at = e.byte == 0 ? 0 : e.byte - 1;
      return bad("", line_and_column(text, at) + ": " + syntax_detail(e));
    }
    return bad("", "the definition " + json_refusal(text));
  }
  return parse_definition(document);
}

json to_json(const Definition& definition)
{
  json out;
  out["name"] = definition.name;
  if (!definition.description.empty()) out["description"] = definition.description;

  const auto& t = definition.trigger;
  json trigger{{"type", to_string(t.type)}};
  switch (t.type) {
  case TriggerType::event:
    trigger["events"] = t.events;
    if (!t.source.empty()) trigger["source"] = t.source;
    if (!t.collection.empty()) trigger["collection"] = t.collection;
    break;
  case TriggerType::schedule:
    if (!t.cron.empty()) trigger["cron"] = t.cron;
    if (!t.timezone.empty()) trigger["timezone"] = t.timezone;
    if (t.every_ms) trigger["every"] = timeutil::format_duration_exact(timeutil::Millis(*t.every_ms));
    if (t.at_ms) trigger["at"] = timeutil::format_rfc3339(*t.at_ms);
    break;
  case TriggerType::demand: break;
  case TriggerType::http: trigger["path"] = t.path; break;
  }
  out["trigger"] = std::move(trigger);

  json steps = json::array();
  for (const auto& s : definition.steps) {
    json step{{"id", s.id}, {"type", to_string(s.type)}};
    if (!s.next.empty()) step["next"] = s.next;
    switch (s.type) {
    case StepType::compute:
      step["run"] = s.run;
      if (s.exec) step["exec"] = true;
      if (s.timeout_ms != k_default_timeout_ms)
        step["timeout"] = timeutil::format_duration_exact(timeutil::Millis(s.timeout_ms));
      if (s.retries != 0) step["retries"] = s.retries;
      if (s.backoff_ms != k_default_backoff_ms)
        step["backoff"] = timeutil::format_duration_exact(timeutil::Millis(s.backoff_ms));
      if (!s.retry_interrupted) step["retry"] = false;
      if (!s.cwd.empty()) step["cwd"] = s.cwd;
      if (!s.env.empty()) {
        json env = json::object();
        for (const auto& [key, value] : s.env) env[key] = value;
        step["env"] = std::move(env);
      }
      break;
    case StepType::decision: {
      json cases = json::array();
      for (const auto& c : s.cases) {
        json when = json::array();
        for (const auto& condition : c.when) {
          json j{{"path", condition.path}, {"op", to_string(condition.op)}};
          if (condition.op != Operator::exists && condition.op != Operator::not_exists) j["value"] = condition.value;
          when.push_back(std::move(j));
        }
        cases.push_back({{"when", std::move(when)}, {"next", c.next}});
      }
      step["cases"] = std::move(cases);
      if (!s.default_next.empty()) step["default"] = s.default_next;
      break;
    }
    case StepType::delay:
      if (s.duration_ms) step["duration"] = timeutil::format_duration_exact(timeutil::Millis(*s.duration_ms));
      else step["until"] = s.until_path;
      break;
    }
    steps.push_back(std::move(step));
  }
  out["steps"] = std::move(steps);
  return out;
}

std::string_view to_string(TriggerType type)
{
  switch (type) {
  case TriggerType::event: return "event";
  case TriggerType::schedule: return "schedule";
  case TriggerType::demand: return "demand";
  case TriggerType::http: return "http";
  }
  return "demand";
}

std::string_view to_string(StepType type)
{
  switch (type) {
  case StepType::compute: return "compute";
  case StepType::decision: return "decision";
  case StepType::delay: return "delay";
  }
  return "compute";
}

std::string_view to_string(Operator op)
{
  for (const auto& o : k_operators)
    if (o.op == op) return o.name;
  return "eq";
}

} // namespace centrali::automations

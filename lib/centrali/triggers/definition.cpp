#include "centrali/triggers/definition.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "centrali/query/where.hpp"
#include "centrali/records/records.hpp"
#include "centrali/schedule/cron.hpp"
#include "centrali/schedule/zone.hpp"
#include "centrali/triggers/process.hpp"
#include "centrali/triggers/timing.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::triggers {
namespace {

using json = nlohmann::json;

Result<void> usage(std::string message)
{
  return fail(ErrorKind::usage, std::move(message));
}

// Options that belong to one kind only; naming the stray one is clearer
// than silently ignoring it.
Result<void> refuse_others(const TriggerSpec& s)
{
  struct Owned {
    const char* option;
    bool given;
    const char* kind;
  };
  const Owned owned[] = {
      {"--events", !s.events.empty(), "event"},   {"--source", !s.source.empty(), "event"},
      {"--collection", !s.collection.empty(), "event"}, {"--where", !s.where.empty(), "event"},
      {"--cron", !s.cron.empty(), "schedule"},
      {"--tz", !s.tz.empty(), "schedule"},        {"--every", !s.every.empty(), "schedule"},
      {"--at", !s.at.empty(), "schedule"},        {"--path", !s.path.empty(), "endpoint"},
      {"--method", !s.method.empty(), "endpoint"}, {"--response", !s.response.empty(), "endpoint"},
  };
  for (const auto& o : owned)
    if (o.given && s.on != o.kind)
      return usage(std::string(o.option) + " only applies to --on " + o.kind + " triggers");
  return {};
}

Result<void> build_event(const TriggerSpec& s, store::Trigger& t)
{
  if (s.events.empty())
    return usage("--on event needs --events GLOB[,GLOB...] (e.g. 'record_*' or 'invoice.*'; '*' for every event)");
  std::string globs;
  for (const auto& e : s.events) {
    std::size_t start = 0;
    while (start <= e.size()) {
      auto comma = e.find(',', start);
      auto glob = e.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      glob.erase(0, glob.find_first_not_of(" \t"));
      glob.erase(glob.find_last_not_of(" \t") + 1);
      if (glob.empty()) return usage("--events has an empty glob in '" + e + "'");
      globs += (globs.empty() ? "" : ",") + glob;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  t.events = globs;
  t.source = s.source;
  if (!s.collection.empty())
    if (auto r = records::check_collection(s.collection); !r) return r;
  t.collection = s.collection;
  auto where = query::Where::parse(s.where, "--where");
  if (!where) return std::unexpected(where.error());
  for (const auto& c : where->conditions()) t.where.push_back(c.text);
  return {};
}

Result<void> build_schedule(const TriggerSpec& s, store::Trigger& t, std::int64_t now_ms)
{
  int given = !s.cron.empty() + !s.every.empty() + !s.at.empty();
  if (given != 1) return usage("--on schedule needs exactly one of --cron 'EXPR', --every DURATION or --at TIME");
  if (!s.tz.empty() && s.cron.empty()) return usage("--tz only applies to --cron schedules");
  if (!s.cron.empty()) {
    auto cron = schedule::Cron::parse(s.cron);
    if (!cron) return std::unexpected(cron.error());
    t.cron = cron->text();
    if (!s.tz.empty()) {
      auto zone = schedule::Zone::locate(s.tz);
      if (!zone) return std::unexpected(zone.error());
      t.tz = s.tz;
    }
  } else if (!s.every.empty()) {
    auto every = timeutil::parse_duration(s.every);
    if (!every) return usage("--every: " + every.error().message);
    if (every->count() < 1000) return usage("--every must be at least 1s");
    t.every_ms = every->count();
  } else {
    auto at = timeutil::parse_instant(s.at);
    if (!at) return usage("--at: " + at.error().message);
    if (*at <= now_ms)
      return usage("--at " + s.at + " is in the past (" + timeutil::format_rfc3339(*at) + "); a one-off schedule must be ahead");
    t.at_ms = *at;
  }
  auto next = next_fire_after(t, now_ms);
  if (!next) return std::unexpected(next.error());
  if (!*next) return usage("schedule '" + s.cron + "' never fires");
  t.next_fire_ms = *next;
  return {};
}

Result<void> build_endpoint(const TriggerSpec& s, store::Trigger& t)
{
  if (s.path.empty()) return usage("--on endpoint needs --path /PATH (served at /endpoints/PATH)");
  auto path = normalize_endpoint_path(s.path);
  if (!path) return std::unexpected(path.error());
  t.path = *path;
  if (!s.method.empty()) {
    std::string m = s.method;
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    const char* allowed[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    if (std::none_of(std::begin(allowed), std::end(allowed), [&](const char* a) { return m == a; }))
      return usage("--method must be GET, POST, PUT, PATCH or DELETE (got '" + s.method + "')");
    t.method = m;
  }
  if (!s.response.empty() && s.response != "output" && s.response != "envelope")
    return usage("--response must be output or envelope (got '" + s.response + "')");
  t.response_mode = s.response.empty() ? "output" : s.response;
  return {};
}

Result<void> build_common(const TriggerSpec& s, store::Trigger& t)
{
  if (s.run.empty() || s.run.find_first_not_of(" \t") == std::string::npos)
    return usage("--run needs the command to run (e.g. --run './handle.sh' or --run 'python3 fn.py')");
  if (s.run.find('\0') != std::string::npos) return usage("--run contains a NUL byte");
  if (s.exec)
    if (auto words = split_command(s.run); !words) return std::unexpected(words.error());
  t.command = s.run;
  t.exec = s.exec;
  for (const auto& p : s.params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return usage("--param '" + p + "': expected key=value");
    std::string value = p.substr(eq + 1);
    auto parsed = parse_json(value);
    t.params[p.substr(0, eq)] = parsed.is_discarded() ? json(value) : parsed;
  }
  for (const auto& e : s.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) return usage("--env '" + e + "': expected NAME=VALUE");
    std::string name = e.substr(0, eq);
    if (name == "CENTRALI_RUN_ID" || name == "CENTRALI_TRIGGER" || name == "CENTRALI_EVENT_TYPE" ||
        name == "CENTRALI_STORE")
      return usage("--env " + name + " is set by centrali for every run");
    if (name.find_first_of(" \t\n") != std::string::npos) return usage("--env name '" + name + "' has whitespace");
    t.env.emplace_back(name, e.substr(eq + 1));
  }
  auto timeout = timeutil::parse_duration(s.timeout);
  if (!timeout) return usage("--timeout: " + timeout.error().message);
  if (timeout->count() < 1 || timeout->count() > 24LL * 3600 * 1000)
    return usage("--timeout must be between 1ms and 24h");
  t.timeout_ms = timeout->count();
  if (s.concurrency < 1 || s.concurrency > 256) return usage("--concurrency must be between 1 and 256");
  t.concurrency = s.concurrency;
  if (!s.cwd.empty()) {
    std::error_code ec;
    auto dir = std::filesystem::absolute(s.cwd, ec);
    if (ec || !std::filesystem::is_directory(dir, ec)) return usage("--cwd " + s.cwd + " is not a folder");
    t.cwd = dir.lexically_normal().string();
  }
  return {};
}

} // namespace

Result<void> check_trigger_name(const std::string& name)
{
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) ok = false;
  if (!ok)
    return usage("invalid trigger name '" + name + "' (1-64 characters: letters, digits, '-', '_', '.')");
  return {};
}

Result<std::string> normalize_endpoint_path(const std::string& path)
{
  std::string p = path;
  if (p.starts_with("/endpoints/")) p.erase(0, 10);
  if (!p.starts_with("/")) p.insert(0, "/");
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::usage, "invalid --path '" + path + "': " + why);
  };
  if (p == "/") return bad("give a name after the slash, e.g. /orders");
  for (char c : p)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~/").find(c) != std::string_view::npos))
      return bad("only letters, digits, '-', '.', '_', '~' and '/' are allowed");
  std::size_t start = 1;
  while (start <= p.size()) {
    auto slash = p.find('/', start);
    auto seg = p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return bad("empty, '.' or '..' segment");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return p;
}

Result<store::Trigger> build_trigger(const TriggerSpec& s, std::int64_t now_ms)
{
  if (auto r = check_trigger_name(s.name); !r) return std::unexpected(r.error());
  if (s.on != "event" && s.on != "schedule" && s.on != "demand" && s.on != "endpoint")
    return fail(ErrorKind::usage, "--on must be event, schedule, demand or endpoint (got '" + s.on + "')");
  if (auto r = refuse_others(s); !r) return std::unexpected(r.error());
  store::Trigger t;
  t.name = s.name;
  t.kind = s.on;
  t.created_ms = t.updated_ms = now_ms;
  if (auto r = build_common(s, t); !r) return std::unexpected(r.error());
  Result<void> kind_done;
  if (s.on == "event") kind_done = build_event(s, t);
  else if (s.on == "schedule") kind_done = build_schedule(s, t, now_ms);
  else if (s.on == "endpoint") kind_done = build_endpoint(s, t);
  if (!kind_done) return std::unexpected(kind_done.error());
  return t;
}

} // namespace centrali::triggers

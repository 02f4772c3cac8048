#include "centrali/project/project.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "centrali/delivery/retry.hpp"
#include "centrali/ingest/secrets.hpp"
#include "centrali/ingest/source_rules.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::project {
namespace {

using ojson = nlohmann::ordered_json;

Error at(const std::string& path, const std::string& message)
{
  return {ErrorKind::usage, path + ": " + message};
}

// Reads the members of one entry, refusing any it does not know (a typo
// such as "forward" must not pass silently).
class Entry {
public:
  Entry(const ojson& value, std::string path) : m_value(value), m_path(std::move(path)) {}

  Result<void> check_object(std::initializer_list<std::string_view> known) const
  {
    if (!m_value.is_object()) return std::unexpected(at(m_path, "must be an object"));
    for (const auto& [key, v] : m_value.items())
      if (std::find(known.begin(), known.end(), key) == known.end())
        return std::unexpected(at(m_path, "unknown field '" + key + "'"));
    return {};
  }
  std::string path(std::string_view key) const { return m_path + "." + std::string(key); }
  bool has(const char* key) const { return m_value.contains(key) && !m_value[key].is_null(); }

  Result<std::optional<std::string>> text(const char* key, bool required = false) const
  {
    if (!has(key)) {
      if (required) return std::unexpected(at(path(key), "is required"));
      return std::optional<std::string>();
    }
    if (!m_value[key].is_string()) return std::unexpected(at(path(key), "must be a string"));
    return std::optional<std::string>(m_value[key].get<std::string>());
  }
  // A duration or number of seconds, as text for the parsers ("30s", 300 -> "300s").
  Result<std::optional<std::string>> duration(const char* key) const
  {
    if (!has(key)) return std::optional<std::string>();
    const auto& v = m_value[key];
    if (v.is_number_integer()) return std::optional<std::string>(std::to_string(v.get<std::int64_t>()) + "s");
    if (!v.is_string()) return std::unexpected(at(path(key), "must be a duration such as \"30s\""));
    return std::optional<std::string>(v.get<std::string>());
  }
  Result<std::optional<bool>> boolean(const char* key) const
  {
    if (!has(key)) return std::optional<bool>();
    if (!m_value[key].is_boolean()) return std::unexpected(at(path(key), "must be true or false"));
    return std::optional<bool>(m_value[key].get<bool>());
  }
  // A list of strings, also given as one comma-separated string.
  Result<std::vector<std::string>> list(const char* key) const
  {
    std::vector<std::string> out;
    if (!has(key)) return out;
    const auto& v = m_value[key];
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
      return out;
    }
    if (!v.is_array()) return std::unexpected(at(path(key), "must be a list of strings"));
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) return std::unexpected(at(path(key) + "[" + std::to_string(i) + "]", "must be a string"));
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  // An object of strings ({"X-Tenant": "acme"}).
  Result<std::vector<std::pair<std::string, std::string>>> pairs(const char* key) const
  {
    std::vector<std::pair<std::string, std::string>> out;
    if (!has(key)) return out;
    const auto& v = m_value[key];
    if (!v.is_object()) return std::unexpected(at(path(key), "must be an object of strings"));
    for (const auto& [name, value] : v.items()) {
      if (!value.is_string()) return std::unexpected(at(path(key) + "." + name, "must be a string"));
      out.emplace_back(name, value.get<std::string>());
    }
    return out;
  }
  const ojson& operator[](const char* key) const { return m_value[key]; }

private:
  const ojson& m_value;
  std::string m_path;
};

#define TRY_ASSIGN(target, expr)                                                                                       \
  do {                                                                                                                 \
    auto value_ = (expr);                                                                                              \
    if (!value_) return std::unexpected(value_.error());                                                               \
    target = std::move(*value_);                                                                                       \
  } while (0)

std::string field_name(ingest::SourceProblem::Field field)
{
  using Field = ingest::SourceProblem::Field;
  switch (field) {
  case Field::name: return "name";
  case Field::provider: return "provider";
  case Field::secrets: return "secrets";
  case Field::tolerance: return "tolerance";
  case Field::forward_to: return "forward_to";
  }
  return "";
}

Result<store::Source> parse_source(const Entry& e, const std::string& path)
{
  if (auto r = e.check_object({"name", "provider", "secret", "secrets", "tolerance", "forward_to"}); !r)
    return std::unexpected(r.error());
  store::Source s;
  std::optional<std::string> text;
  TRY_ASSIGN(text, e.text("name", true));
  s.name = *text;
  TRY_ASSIGN(text, e.text("provider", true));
  s.provider = *text;
  if (e.has("secret") && e.has("secrets")) return std::unexpected(at(path, "give \"secret\" or \"secrets\", not both"));
  TRY_ASSIGN(s.secrets, e.list(e.has("secret") ? "secret" : "secrets"));
  if (e.has("tolerance")) {
    std::optional<std::string> tolerance;
    TRY_ASSIGN(tolerance, e.duration("tolerance"));
    auto d = timeutil::parse_duration(*tolerance);
    if (!d) return std::unexpected(at(e.path("tolerance"), d.error().message));
    s.tolerance_s = d->count() / 1000;
  }
  TRY_ASSIGN(text, e.text("forward_to"));
  s.forward_to = text.value_or("");
  if (auto problem = ingest::source_problem(s)) {
    auto where = e.path(field_name(problem->field));
    if (problem->index >= 0) where += "[" + std::to_string(problem->index) + "]";
    return std::unexpected(at(where, problem->message));
  }
  return s;
}

Result<WebhookEntry> parse_webhook(const Entry& e)
{
  if (auto r = e.check_object({"name", "url", "events", "filter", "secret", "headers", "retry_schedule", "timeout",
                               "disable_after", "insecure", "enabled"});
      !r)
    return std::unexpected(r.error());
  WebhookEntry w;
  std::optional<std::string> name;
  TRY_ASSIGN(name, e.text("name", true));
  w.name = *name;
  auto& s = w.settings;
  s.name = w.name;
  TRY_ASSIGN(s.url, e.text("url", true));
  std::vector<std::string> events;
  TRY_ASSIGN(events, e.list("events"));
  if (events.empty()) return std::unexpected(at(e.path("events"), "is required: event types or globs, e.g. [\"order.*\"]"));
  std::string joined;
  for (const auto& g : events) joined += (joined.empty() ? "" : ",") + g;
  s.events = joined;
  // Like events, what a webhook takes is all in the file: no "filter"
  // means no conditions.
  std::vector<std::string> filter;
  TRY_ASSIGN(filter, e.list("filter"));
  s.filter = std::move(filter);
  TRY_ASSIGN(w.secret, e.text("secret"));
  if (e.has("headers")) {
    std::vector<std::pair<std::string, std::string>> headers;
    TRY_ASSIGN(headers, e.pairs("headers"));
    s.headers = HeaderList{};
    for (auto& [n, v] : headers) s.headers->push_back({n, v});
  }
  if (e.has("retry_schedule")) {
    std::vector<std::string> steps;
    TRY_ASSIGN(steps, e.list("retry_schedule"));
    std::string joined_steps;
    for (const auto& step : steps) joined_steps += (joined_steps.empty() ? "" : ",") + step;
    s.retry_schedule = joined_steps;
  }
  TRY_ASSIGN(s.timeout, e.duration("timeout"));
  TRY_ASSIGN(s.disable_after, e.duration("disable_after"));
  TRY_ASSIGN(s.insecure, e.boolean("insecure"));
  TRY_ASSIGN(w.enabled, e.boolean("enabled"));
  // Checked now, against a blank webhook, so a broken file changes nothing.
  store::Webhook probe;
  if (auto r = delivery::apply_settings(s, probe, [&](std::string_view field) { return e.path(field); }); !r)
    return std::unexpected(r.error());
  return w;
}

Result<TriggerEntry> parse_trigger(const Entry& e, const std::string& path, std::int64_t now_ms)
{
  if (auto r = e.check_object({"name", "on", "run", "exec", "events", "source", "collection", "where", "cron", "tz", "every",
                               "at", "path", "method", "response", "params", "env", "timeout", "concurrency", "cwd",
                               "paused"});
      !r)
    return std::unexpected(r.error());
  TriggerEntry t;
  auto& spec = t.spec;
  std::optional<std::string> text;
  TRY_ASSIGN(text, e.text("name", true));
  spec.name = *text;
  TRY_ASSIGN(text, e.text("on", true));
  spec.on = *text;
  TRY_ASSIGN(text, e.text("run", true));
  spec.run = *text;
  for (auto [field, key] : {std::pair{&spec.source, "source"}, {&spec.collection, "collection"}, {&spec.cron, "cron"},
                            {&spec.tz, "tz"}, {&spec.at, "at"}, {&spec.path, "path"}, {&spec.method, "method"},
                            {&spec.response, "response"}, {&spec.cwd, "cwd"}}) {
    TRY_ASSIGN(text, e.text(key));
    *field = text.value_or("");
  }
  TRY_ASSIGN(text, e.duration("every"));
  spec.every = text.value_or("");
  TRY_ASSIGN(text, e.duration("timeout"));
  if (text) spec.timeout = *text;
  TRY_ASSIGN(spec.events, e.list("events"));
  TRY_ASSIGN(spec.where, e.list("where"));
  std::optional<bool> flag;
  TRY_ASSIGN(flag, e.boolean("exec"));
  spec.exec = flag.value_or(false);
  TRY_ASSIGN(flag, e.boolean("paused"));
  t.paused = flag.value_or(false);
  if (e.has("concurrency")) {
    if (!e["concurrency"].is_number_integer()) return std::unexpected(at(e.path("concurrency"), "must be a whole number"));
    spec.concurrency = e["concurrency"].get<int>();
  }
  if (e.has("params")) {
    if (!e["params"].is_object()) return std::unexpected(at(e.path("params"), "must be an object"));
    for (const auto& [key, value] : e["params"].items()) spec.params.push_back(key + "=" + value.dump());
  }
  std::vector<std::pair<std::string, std::string>> env;
  TRY_ASSIGN(env, e.pairs("env"));
  for (auto& [k, v] : env) spec.env.push_back(k + "=" + v);
  // The CLI's own checks, naming the entry (their messages name the flags).
  if (auto built = triggers::build_trigger(spec, now_ms); !built)
    return std::unexpected(at(path + " (" + spec.name + ")", built.error().message));
  return t;
}

template <class T>
Result<void> unique_names(const std::vector<T>& entries, const char* kind, auto name_of)
{
  std::set<std::string> seen;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (!seen.insert(name_of(entries[i])).second)
      return std::unexpected(at(std::string(kind) + "[" + std::to_string(i) + "].name",
                                "'" + name_of(entries[i]) + "' is named twice"));
  return {};
}

// --- plan and apply ----------------------------------------------------------

std::vector<std::string> source_changes(const store::Source& now, const store::Source& wanted)
{
  std::vector<std::string> out;
  if (now.provider != wanted.provider) out.push_back("provider");
  if (now.secrets != wanted.secrets) out.push_back("secrets");
  if (now.tolerance_s != wanted.tolerance_s) out.push_back("tolerance");
  if (now.forward_to != wanted.forward_to) out.push_back("forward_to");
  return out;
}

std::vector<std::string> webhook_changes(const store::Webhook& now, const store::Webhook& wanted)
{
  std::vector<std::string> out;
  if (now.url != wanted.url) out.push_back("url");
  if (now.events != wanted.events) out.push_back("events");
  if (now.filter != wanted.filter) out.push_back("filter");
  auto same_headers = [](const HeaderList& a, const HeaderList& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
             return x.name == y.name && x.value == y.value;
           });
  };
  if (!same_headers(now.headers, wanted.headers)) out.push_back("headers");
  if (now.retry_schedule_ms != wanted.retry_schedule_ms) out.push_back("retry_schedule");
  if (now.timeout_ms != wanted.timeout_ms) out.push_back("timeout");
  if (now.disable_after_ms != wanted.disable_after_ms) out.push_back("disable_after");
  if (now.insecure != wanted.insecure) out.push_back("insecure");
  if (now.secret != wanted.secret) out.push_back("secret");
  if (now.active != wanted.active) out.push_back("enabled");
  return out;
}

std::vector<std::string> trigger_changes(const store::Trigger& now, const store::Trigger& wanted)
{
  std::vector<std::string> out;
  auto differs = [&](const char* name, bool d) {
    if (d) out.push_back(name);
  };
  differs("on", now.kind != wanted.kind);
  differs("run", now.command != wanted.command);
  differs("exec", now.exec != wanted.exec);
  differs("params", now.params != wanted.params);
  differs("timeout", now.timeout_ms != wanted.timeout_ms);
  differs("concurrency", now.concurrency != wanted.concurrency);
  differs("cwd", now.cwd != wanted.cwd);
  differs("env", now.env != wanted.env);
  differs("events", now.events != wanted.events);
  differs("source", now.source != wanted.source);
  differs("collection", now.collection != wanted.collection);
  differs("where", now.where != wanted.where);
  differs("cron", now.cron != wanted.cron);
  differs("tz", now.tz != wanted.tz);
  differs("every", now.every_ms != wanted.every_ms);
  differs("at", now.at_ms != wanted.at_ms);
  differs("path", now.path != wanted.path);
  differs("method", now.method != wanted.method);
  differs("response", now.response_mode != wanted.response_mode);
  differs("paused", now.paused != wanted.paused);
  return out;
}

Result<void> plan_sources(store::Store& store, const Project& p, Prune prune, DryRun dry, std::int64_t now_ms, Plan& plan)
{
  auto current = store::list_sources(store);
  if (!current) return std::unexpected(current.error());
  for (std::size_t i = 0; i < p.sources.size(); ++i) {
    const auto& wanted = p.sources[i];
    auto it = std::find_if(current->begin(), current->end(), [&](const auto& s) { return s.name == wanted.name; });
    // A reference that cannot be read now would refuse every request once
    // the listener uses it (an exported placeholder left unset, say).
    if (it == current->end() || it->secrets != wanted.secrets)
      for (std::size_t j = 0; j < wanted.secrets.size(); ++j)
        if (auto value = ingest::resolve_secret(wanted.secrets[j]); !value)
          return fail(ErrorKind::usage, "sources[" + std::to_string(i) + "].secrets[" + std::to_string(j) + "]: " +
                                            value.error().message);
    if (it == current->end()) {
      plan.changes.push_back({"create", "source", wanted.name, {}});
      auto made = wanted;
      made.created_ms = now_ms;
      if (dry == DryRun::no)
        if (auto r = store::add_source(store, made); !r) return r;
      continue;
    }
    auto fields = source_changes(*it, wanted);
    plan.changes.push_back({fields.empty() ? "unchanged" : "update", "source", wanted.name, fields});
    if (!fields.empty() && dry == DryRun::no)
      if (auto r = store::update_source(store, wanted); !r) return r;
  }
  if (prune == Prune::no) return {};
  for (const auto& s : *current) {
    if (std::any_of(p.sources.begin(), p.sources.end(), [&](const auto& w) { return w.name == s.name; })) continue;
    plan.changes.push_back({"delete", "source", s.name, {}});
    if (dry == DryRun::no)
      if (auto r = store::remove_source(store, s.name); !r) return r;
  }
  return {};
}

Result<void> plan_webhooks(store::Store& store, const Project& p, Prune prune, DryRun dry, std::int64_t now_ms, Plan& plan)
{
  auto current = store::list_webhooks(store);
  if (!current) return std::unexpected(current.error());
  for (std::size_t i = 0; i < p.webhooks.size(); ++i) {
    const auto& entry = p.webhooks[i];
    // An unnamed webhook is exported under its id, and matched by it.
    auto matches = [&](const store::Webhook& w) { return w.name == entry.name || (w.name.empty() && w.id == entry.name); };
    if (std::count_if(current->begin(), current->end(), matches) > 1)
      return fail(ErrorKind::usage, "webhooks[" + std::to_string(i) + "].name: the store has several webhooks named '" +
                                        entry.name + "'; rename or remove all but one ('webhooks update ID --name')");
    auto it = std::find_if(current->begin(), current->end(), matches);
    const bool exists = it != current->end();
    auto settings = entry.settings;
    if (exists && it->name.empty()) settings.name.reset();
    store::Webhook wanted = exists ? *it : store::Webhook{};
    if (!exists) {
      wanted.id = ids::make(ids::k_webhook);
      wanted.retry_schedule_ms = delivery::default_retry_schedule_ms();
      wanted.created_ms = now_ms;
    }
    auto label = [&](std::string_view field) { return "webhooks[" + std::to_string(i) + "]." + std::string(field); };
    if (auto r = delivery::apply_settings(settings, wanted, label); !r) return r;
    if (entry.secret) {
      auto secret = delivery::resolve_webhook_secret(*entry.secret, label("secret"));
      if (!secret) return std::unexpected(secret.error());
      // As rotate-secret does: the old secret keeps signing for a day.
      if (exists && *secret != wanted.secret) delivery::rotate_secret(wanted, std::move(*secret), now_ms);
      else wanted.secret = std::move(*secret);
    } else if (!exists) {
      auto secret = delivery::new_webhook_secret();
      if (!secret) return std::unexpected(secret.error());
      wanted.secret = std::move(*secret);
    }
    if (entry.enabled) {
      wanted.active = *entry.enabled;
      if (wanted.active) wanted.disabled_reason.clear();
      else if (!exists || it->active) wanted.disabled_reason = "disabled by the project file";
    }
    if (!exists) {
      plan.changes.push_back({"create", "webhook", entry.name, {}});
      wanted.updated_ms = now_ms;
      if (dry == DryRun::no)
        if (auto r = store::insert_webhook(store, wanted); !r) return r;
      continue;
    }
    auto fields = webhook_changes(*it, wanted);
    plan.changes.push_back({fields.empty() ? "unchanged" : "update", "webhook", entry.name, fields});
    if (fields.empty() || dry == DryRun::yes) continue;
    wanted.updated_ms = now_ms;
    if (std::find(fields.begin(), fields.end(), "enabled") != fields.end() && wanted.active) wanted.failing_since_ms.reset();
    if (auto r = delivery::save_webhook(store, wanted, it->retry_schedule_ms, now_ms); !r) return r;
  }
  if (prune == Prune::no) return {};
  for (const auto& w : *current) {
    if (w.name.empty()) continue;  // made by hand, without a name: not the file's
    if (std::any_of(p.webhooks.begin(), p.webhooks.end(), [&](const auto& e) { return e.name == w.name; })) continue;
    plan.changes.push_back({"delete", "webhook", w.name, {}});
    if (dry == DryRun::no)
      if (auto r = store::remove_webhook(store, w.id); !r) return r;
  }
  return {};
}

// Whether two endpoint triggers would answer the same requests: one path,
// and the same method or either serving every method.
bool same_endpoint(const store::Trigger& a, const store::Trigger& b)
{
  return a.kind == "endpoint" && b.kind == "endpoint" && a.path == b.path &&
         (a.method.empty() || b.method.empty() || a.method == b.method);
}

Result<void> plan_triggers(store::Store& store, const Project& p, Prune prune, DryRun dry, std::int64_t now_ms, Plan& plan)
{
  auto current = store::list_triggers(store);
  if (!current) return std::unexpected(current.error());
  std::vector<store::Trigger> created, replaced, kept;
  for (std::size_t i = 0; i < p.triggers.size(); ++i) {
    const auto& entry = p.triggers[i];
    auto built = triggers::build_trigger(entry.spec, now_ms);
    if (!built) return std::unexpected(built.error());
    auto& wanted = *built;
    wanted.paused = entry.paused;
    if (wanted.paused) wanted.next_fire_ms.reset();
    wanted.created_ms = wanted.updated_ms = now_ms;
    auto it = std::find_if(current->begin(), current->end(), [&](const auto& t) { return t.name == wanted.name; });
    if (it == current->end()) {
      plan.changes.push_back({"create", "trigger", wanted.name, {}});
      created.push_back(std::move(wanted));
      continue;
    }
    auto fields = trigger_changes(*it, wanted);
    plan.changes.push_back({fields.empty() ? "unchanged" : "update", "trigger", wanted.name, fields});
    if (fields.empty()) {
      kept.push_back(*it);
      continue;
    }
    // An unchanged schedule keeps its next fire time.
    if (it->cron == wanted.cron && it->tz == wanted.tz && it->every_ms == wanted.every_ms && it->at_ms == wanted.at_ms &&
        !wanted.paused && !it->paused)
      wanted.next_fire_ms = it->next_fire_ms;
    replaced.push_back(std::move(wanted));
  }
  std::vector<std::string> deleted;
  for (const auto& t : *current) {
    if (std::any_of(p.triggers.begin(), p.triggers.end(), [&](const auto& e) { return e.spec.name == t.name; })) continue;
    if (prune == Prune::yes) {
      plan.changes.push_back({"delete", "trigger", t.name, {}});
      deleted.push_back(t.name);
    } else {
      kept.push_back(t);
    }
  }
  // Endpoint paths are judged on the end state, so that moves, swaps and
  // pruned owners are fine, and a dry run finds a clash as apply would.
  std::vector<const store::Trigger*> final_set;
  for (const auto* list : {&kept, &replaced, &created})
    for (const auto& t : *list) final_set.push_back(&t);
  for (std::size_t i = 0; i < final_set.size(); ++i)
    for (std::size_t j = i + 1; j < final_set.size(); ++j)
      if (same_endpoint(*final_set[i], *final_set[j]))
        return fail(ErrorKind::rejected, "endpoint path " + final_set[j]->path + " would be served by both trigger '" +
                                             final_set[i]->name + "' and trigger '" + final_set[j]->name + "'");
  if (dry == DryRun::yes) return {};
  for (const auto& name : deleted)
    if (auto r = store::remove_trigger(store, name); !r) return r;
  if (auto r = store::replace_triggers(store, replaced); !r) return r;
  for (const auto& t : created)
    if (auto r = store::add_trigger(store, t); !r) return r;
  return {};
}

std::string placeholder_for(const std::string& source)
{
  std::string name = "CENTRALI_SECRET_";
  for (char c : source) name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
  return "env:" + name;
}

// " (line 3, column 14)": where a file stops being JSON, for people
// editing it by hand; empty when that is not a syntax error.
std::string syntax_position(std::string_view text)
{
  if (json_too_deep(text)) return {};
  try {
    auto parsed = ojson::parse(text);
    (void)parsed;
  } catch (const nlohmann::json::parse_error& e) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
  } catch (...) {
  }
  return {};
}

} // namespace

int Plan::count() const
{
  return static_cast<int>(std::count_if(changes.begin(), changes.end(), [](const Change& c) { return c.action != "unchanged"; }));
}

Result<Project> parse_project(std::string_view text)
{
  auto doc = parse_ordered_json(text);
  if (doc.is_discarded()) return fail(ErrorKind::usage, "the project file " + json_refusal(text) + syntax_position(text));
  if (!doc.is_object()) return fail(ErrorKind::usage, "the project file must be a JSON object with sources, webhooks and triggers");
  for (const auto& [key, value] : doc.items())
    if (key != "sources" && key != "webhooks" && key != "triggers")
      return std::unexpected(at(key, "unknown section (expected sources, webhooks, triggers)"));
  Project p;
  const auto now_ms = timeutil::now_ms();
  auto each = [&](const char* section, auto&& parse_one) -> Result<void> {
    if (!doc.contains(section)) return {};
    const auto& list = doc[section];
    if (!list.is_array()) return std::unexpected(at(section, "must be a list"));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = std::string(section) + "[" + std::to_string(i) + "]";
      if (auto r = parse_one(Entry(list[i], path), path); !r) return r;
    }
    return {};
  };
  if (auto r = each("sources", [&](const Entry& e, const std::string& path) -> Result<void> {
        auto s = parse_source(e, path);
        if (!s) return std::unexpected(s.error());
        p.sources.push_back(std::move(*s));
        return {};
      });
      !r)
    return std::unexpected(r.error());
  if (auto r = each("webhooks", [&](const Entry& e, const std::string&) -> Result<void> {
        auto w = parse_webhook(e);
        if (!w) return std::unexpected(w.error());
        p.webhooks.push_back(std::move(*w));
        return {};
      });
      !r)
    return std::unexpected(r.error());
  if (auto r = each("triggers", [&](const Entry& e, const std::string& path) -> Result<void> {
        auto t = parse_trigger(e, path, now_ms);
        if (!t) return std::unexpected(t.error());
        p.triggers.push_back(std::move(*t));
        return {};
      });
      !r)
    return std::unexpected(r.error());
  if (auto r = unique_names(p.sources, "sources", [](const auto& s) { return s.name; }); !r) return std::unexpected(r.error());
  if (auto r = unique_names(p.webhooks, "webhooks", [](const auto& w) { return w.name; }); !r) return std::unexpected(r.error());
  if (auto r = unique_names(p.triggers, "triggers", [](const auto& t) { return t.spec.name; }); !r)
    return std::unexpected(r.error());
  return p;
}

Result<Plan> apply_project(store::Store& store, const Project& project, Prune prune, DryRun dry_run, std::int64_t now_ms)
{
  Plan plan;
  auto done = store::write_transaction(store, [&]() -> Result<void> {
    if (auto r = plan_sources(store, project, prune, dry_run, now_ms, plan); !r) return r;
    if (auto r = plan_webhooks(store, project, prune, dry_run, now_ms, plan); !r) return r;
    return plan_triggers(store, project, prune, dry_run, now_ms, plan);
  });
  if (!done) return std::unexpected(done.error());
  return plan;
}

Result<Export> export_project(store::Store& store)
{
  Export out;
  auto& doc = out.document;
  doc = ojson::object();
  auto sources = store::list_sources(store);
  if (!sources) return std::unexpected(sources.error());
  doc["sources"] = ojson::array();
  for (const auto& s : *sources) {
    ojson j = {{"name", s.name}, {"provider", s.provider}};
    if (!s.secrets.empty()) {
      ojson secrets = ojson::array();
      for (std::size_t i = 0; i < s.secrets.size(); ++i) {
        const auto& ref = s.secrets[i];
        if (ref.starts_with("env:") || ref.starts_with("file:")) {
          secrets.push_back(ref);
          continue;
        }
        auto placeholder = placeholder_for(s.name) + (i == 0 ? "" : "_" + std::to_string(i + 1));
        secrets.push_back(placeholder);
        out.placeholders.push_back(placeholder + " (source " + s.name + ")");
      }
      j["secrets"] = secrets;
    }
    if (s.tolerance_s) j["tolerance"] = std::to_string(*s.tolerance_s) + "s";
    if (!s.forward_to.empty()) j["forward_to"] = s.forward_to;
    doc["sources"].push_back(std::move(j));
  }
  auto webhooks = store::list_webhooks(store);
  if (!webhooks) return std::unexpected(webhooks.error());
  doc["webhooks"] = ojson::array();
  for (const auto& w : *webhooks) {
    ojson j = {{"name", w.name.empty() ? w.id : w.name}, {"url", w.url}};
    ojson events = ojson::array();
    std::size_t start = 0;
    while (start <= w.events.size()) {
      auto end = std::min(w.events.find(',', start), w.events.size());
      auto glob = w.events.substr(start, end - start);
      glob.erase(0, glob.find_first_not_of(' '));
      glob.erase(glob.find_last_not_of(' ') + 1);
      if (!glob.empty()) events.push_back(glob);
      start = end + 1;
    }
    j["events"] = events;
    if (!w.filter.empty()) j["filter"] = w.filter;
    if (!w.headers.empty()) {
      ojson headers = ojson::object();
      for (const auto& h : w.headers) headers[h.name] = h.value;
      j["headers"] = headers;
    }
    j["retry_schedule"] = delivery::retry_schedule_text(w.retry_schedule_ms);
    j["timeout"] = timeutil::format_duration_exact(std::chrono::milliseconds(w.timeout_ms));
    j["disable_after"] = timeutil::format_duration_exact(std::chrono::milliseconds(w.disable_after_ms));
    if (w.insecure) j["insecure"] = true;
    if (!w.active) j["enabled"] = false;
    doc["webhooks"].push_back(std::move(j));
  }
  auto triggers = store::list_triggers(store);
  if (!triggers) return std::unexpected(triggers.error());
  doc["triggers"] = ojson::array();
  for (const auto& t : *triggers) {
    ojson j = {{"name", t.name}, {"on", t.kind}, {"run", t.command}};
    if (t.exec) j["exec"] = true;
    if (!t.events.empty()) {
      ojson events = ojson::array();
      std::size_t start = 0;
      while (start <= t.events.size()) {
        auto end = std::min(t.events.find(',', start), t.events.size());
        if (end > start) events.push_back(t.events.substr(start, end - start));
        start = end + 1;
      }
      j["events"] = events;
    }
    for (auto [key, value] : {std::pair{"source", &t.source}, {"collection", &t.collection}, {"cron", &t.cron},
                              {"tz", &t.tz}, {"path", &t.path}, {"method", &t.method}, {"cwd", &t.cwd}})
      if (!value->empty()) j[key] = *value;
    if (!t.where.empty()) j["where"] = t.where;
    if (t.every_ms) j["every"] = timeutil::format_duration_exact(std::chrono::milliseconds(*t.every_ms));
    if (t.at_ms) j["at"] = timeutil::format_rfc3339(*t.at_ms);
    if (t.kind == "endpoint" && t.response_mode != "output") j["response"] = t.response_mode;
    if (!t.params.empty()) j["params"] = ojson::parse(t.params.dump());
    if (!t.env.empty()) {
      ojson env = ojson::object();
      for (const auto& [k, v] : t.env) env[k] = v;
      j["env"] = env;
    }
    j["timeout"] = timeutil::format_duration_exact(std::chrono::milliseconds(t.timeout_ms));
    if (t.concurrency != 1) j["concurrency"] = t.concurrency;
    if (t.paused) j["paused"] = true;
    doc["triggers"].push_back(std::move(j));
  }
  return out;
}

} // namespace centrali::project

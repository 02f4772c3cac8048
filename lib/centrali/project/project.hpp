#pragma once
// The project file: a store's sources, webhooks and triggers written down
// declaratively (centrali.json), so a team commits its setup and `apply`
// makes any store match it.
//   {"sources":  [{"name", "provider", "secrets": [...], "tolerance", "forward_to"}],
//    "webhooks": [{"name", "url", "events", "filter", "secret", "headers", "retry_schedule",
//                  "timeout", "disable_after", "insecure", "enabled"}],
//    "triggers": [{"name", "on", "run", "exec", "events", "source", "collection", "where", "cron",
//                  "tz", "every", "at", "path", "method", "response", "params", "env",
//                  "timeout", "concurrency", "cwd", "paused"}]}
// Every entry is named; names are what a later `apply` matches entries by.
// "filter" (webhooks) and "where" (event triggers) list content conditions
// (query/where.hpp); left out, there are none.
// Secrets may be `env:NAME` or `file:PATH`. Sources keep such a reference;
// a webhook stores the value it names (sending needs it).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/delivery/webhook_settings.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/store/store.hpp"
#include "centrali/triggers/definition.hpp"
#include "centrali/util/error.hpp"

namespace centrali::project {

struct WebhookEntry {
  std::string name;
  delivery::WebhookSettings settings;
  std::optional<std::string> secret;  // as written; none: keep the stored one (or make one)
  std::optional<bool> enabled;
};

struct TriggerEntry {
  triggers::TriggerSpec spec;
  bool paused = false;
};

struct Project {
  std::vector<store::Source> sources;
  std::vector<WebhookEntry> webhooks;
  std::vector<TriggerEntry> triggers;
};

// The file's content, checked entry by entry; a usage error names the JSON
// path at fault ("sources[0].provider: unknown provider 'strip'").
Result<Project> parse_project(std::string_view text);

struct Change {
  std::string action;                 // create | update | delete | unchanged
  std::string kind;                   // source | webhook | trigger
  std::string name;
  std::vector<std::string> fields;    // update: what differs
};

struct Plan {
  std::vector<Change> changes;
  int count() const;                  // all but `unchanged`
};

enum class Prune { no, yes };   // delete what the file does not name
enum class DryRun { no, yes };  // plan only

// Makes the store match `project`, in one transaction: nothing changes when
// any step fails (a trigger's endpoint path taken, a secret that cannot be
// read). Applying the same file again changes nothing. Prune deletes the
// sources and triggers the file does not name, and the named webhooks it
// does not name (a webhook made without a name is not the file's to delete).
Result<Plan> apply_project(store::Store& store, const Project& project, Prune prune, DryRun dry_run, std::int64_t now_ms);

// The store's setup as a project file. Secrets are not written: a source's
// env:/file: references are, its literal secrets become the placeholder
// reference env:CENTRALI_SECRET_<SOURCE> (listed in `placeholders`), and a
// webhook's secret is left out (apply keeps the stored one).
struct Export {
  nlohmann::ordered_json document;
  std::vector<std::string> placeholders;  // "env:CENTRALI_SECRET_STRIPE (source stripe)"
};
Result<Export> export_project(store::Store& store);

} // namespace centrali::project

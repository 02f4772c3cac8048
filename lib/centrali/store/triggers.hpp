#pragma once
// Triggers: what starts a function (a local command) — matching events, a
// schedule, a demand (`triggers fire`) or an HTTP endpoint — and how it runs.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/store/store.hpp"

namespace centrali::store {

struct Trigger {
  std::string name;
  std::string kind;             // event | schedule | demand | endpoint
  std::string command;
  bool exec = false;            // true: argv split from `command`, no shell
  nlohmann::json params = nlohmann::json::object();  // triggerParams
  std::int64_t timeout_ms = 30'000;
  int concurrency = 1;          // runs of this trigger at once
  std::string cwd;              // empty = the runner's own
  std::vector<std::pair<std::string, std::string>> env;
  bool paused = false;
  // event
  std::string events;           // comma-separated type globs
  std::string source;           // empty = any
  std::string collection;       // empty = any
  std::vector<std::string> where;  // content conditions (query/where.hpp), all must hold; as written
  // schedule: exactly one of cron, every_ms, at_ms
  std::string cron;
  std::string tz;               // for cron; empty = UTC
  std::optional<std::int64_t> every_ms;
  std::optional<std::int64_t> at_ms;
  std::optional<std::int64_t> next_fire_ms;  // when the scheduler fires it next; none = not scheduled
  // endpoint
  std::string path;             // "/orders"; served at /endpoints/orders
  std::string method;           // empty = any
  std::string response_mode = "output";  // output | envelope
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

// Stores a new trigger. ErrorKind::rejected when the name is taken, or when
// an endpoint's path (and method, if either has one) is already served.
Result<void> add_trigger(Store& store, const Trigger& trigger);

// Replaces the definitions of existing triggers of the same names, keeping
// their creation times and their runs (queued ones too). All are removed
// before any is stored again, so two endpoints may swap paths. not_found
// when one is absent; rejected as add_trigger is, when a new endpoint path
// is served by another trigger.
Result<void> replace_triggers(Store& store, const std::vector<Trigger>& triggers);

// The trigger with this name; not_found when absent.
Result<Trigger> get_trigger(Store& store, const std::string& name);

// All triggers, by name; only those of `kind` when it is not empty.
Result<std::vector<Trigger>> list_triggers(Store& store, const std::string& kind = "");

// Removes a trigger and cancels its queued runs (its run history is kept).
// not_found when absent.
Result<void> remove_trigger(Store& store, const std::string& name);

// Stops new runs: events and ticks no longer queue any, queued runs wait.
Result<void> pause_trigger(Store& store, const std::string& name);

// Undoes pause_trigger; a schedule restarts at `next_fire_ms` (computed from
// now by the caller, so ticks missed while paused are not replayed).
Result<void> resume_trigger(Store& store, const std::string& name, std::optional<std::int64_t> next_fire_ms);

// Sets when a schedule fires next (none: never again).
Result<void> set_next_fire(Store& store, const std::string& name, std::optional<std::int64_t> next_fire_ms);

// Moves a schedule from tick `due_ms` to `next_ms` only if it is still due
// at `due_ms` (another process may have fired it already); true when it moved.
Result<bool> advance_schedule(Store& store, const std::string& name, std::int64_t due_ms,
                              std::optional<std::int64_t> next_ms);

} // namespace centrali::store

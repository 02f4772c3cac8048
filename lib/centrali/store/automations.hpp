#pragma once
// Automations, their runs and their steps, as rows. What a definition means
// (automations/definition.hpp) and how a run advances
// (automations/executor.hpp) live above; this file stores and reads.
// automation_runs is the queue: a running or waiting run is due at due_ms
// and claimed with a lease, so two processes never advance one run at once.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrali/store/store.hpp"

namespace centrali::store {

struct Automation {
  std::string name;
  std::string definition;          // JSON text (automations::to_json)
  std::string trigger;             // event | schedule | demand | http
  std::vector<std::string> events; // event: type globs
  std::string source, collection;  // event: empty = any
  std::string path;                // http
  std::string cron, tz;            // schedule
  std::optional<std::int64_t> every_ms, at_ms, next_fire_ms;
  bool paused = false;
  std::int64_t created_ms = 0, updated_ms = 0;
};

// Stores a new automation; rejected when the name is taken or an http
// automation already serves the path.
Result<void> add_automation(Store& store, const Automation& automation);
// Replaces an existing automation's definition (keeps created_ms, paused
// and its runs; runs in flight keep the definition they started with).
// not_found when absent; rejected as add_automation.
Result<void> update_automation(Store& store, const Automation& automation);
Result<Automation> get_automation(Store& store, const std::string& name);  // not_found when absent
Result<std::vector<Automation>> list_automations(Store& store);            // by name
// Removes it and cancels its open runs (history is kept). not_found when absent.
Result<void> remove_automation(Store& store, const std::string& name, std::int64_t now_ms);
// Pausing stops new runs (events, ticks, http, demand); open runs go on.
Result<void> set_automation_paused(Store& store, const std::string& name, bool paused,
                                   std::optional<std::int64_t> next_fire_ms);
// The http automation serving `path` (no leading '/'); not_found when none.
Result<Automation> automation_for_path(Store& store, const std::string& path);
// Sets when a schedule fires next (none: never again).
Result<void> set_automation_next_fire(Store& store, const std::string& name, std::optional<std::int64_t> next_fire_ms);
// Moves a schedule from tick `due_ms` to `next_ms` only if still due at
// `due_ms`; true when it moved (the caller then starts the tick's run).
Result<bool> advance_automation_schedule(Store& store, const std::string& name, std::int64_t due_ms,
                                         std::optional<std::int64_t> next_ms);

struct AutomationRun {
  std::int64_t seq = 0;
  std::string id;                  // arun_…
  std::string automation;
  std::string definition;          // JSON text the run follows
  std::string status;              // running | waiting | completed | failed | cancelled
  std::string origin;              // event | schedule | demand | http | rerun
  std::string event_id, rerun_of;
  std::string input;               // JSON text; empty until built from event_id
  std::string context = "{}";      // JSON text
  std::string next_step;           // empty once ended
  std::int64_t due_ms = 0;
  std::optional<std::int64_t> lease_until_ms;
  int steps_run = 0;
  std::string error;
  std::int64_t created_ms = 0, updated_ms = 0;
  std::optional<std::int64_t> ended_ms;
};

struct AutomationStep {
  std::int64_t seq = 0;            // 0 until inserted
  std::string run_id, step, type;  // type: compute | decision | delay
  std::string status;              // running | waiting | succeeded | failed | cancelled | interrupted
  int attempt = 1;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms;
  std::string output;              // JSON text; empty = none
  std::string next, error;
  std::string detail;              // JSON text; empty = none
  std::int64_t clock_offset_ms = 0;
};

// Inserts a run (its id set); queued work when running or waiting.
Result<void> insert_automation_run(Store& store, const AutomationRun& run);
// A run of `automation` for event `event_id`, due now, input built when first claimed.
Result<void> queue_automation_event_run(Store& store, const std::string& automation, const std::string& definition,
                                        const std::string& event_id, std::int64_t now_ms);
Result<AutomationRun> get_automation_run(Store& store, const std::string& id);  // not_found when absent
// A run's steps in execution order.
Result<std::vector<AutomationStep>> automation_run_steps(Store& store, const std::string& run_id);

struct AutomationRunFilter {
  std::string automation;          // empty = all
  std::string status;              // empty = all
  int limit = 50;                  // <= 0: no limit
};
// Newest first, without definition and input.
Result<std::vector<AutomationRun>> list_automation_runs(Store& store, const AutomationRunFilter& filter);

// In one transaction: claims up to `limit` open runs due by `now_ms` whose
// lease is free or expired, oldest due first, leasing each until
// `lease_until_ms`, with their steps so far. A run's step still `running`
// under an expired lease was interrupted: the executor decides what follows.
struct ClaimedAutomationRun {
  AutomationRun run;
  std::vector<AutomationStep> steps;
};
// `owner`: the claiming process (SenderLock::owner; 0 names none).
Result<std::vector<ClaimedAutomationRun>> claim_automation_runs(Store& store, std::int64_t now_ms,
                                                                std::int64_t lease_until_ms, int limit,
                                                                std::int64_t owner = 0);

// One run's progress, written as one unit: the run's new state and the
// step rows to insert or update (seq 0: insert; the new seq is written
// back). Applied only while the run is still open (not cancelled meanwhile);
// returns false, writing nothing, when it is not.
struct RunProgress {
  std::string run_id;
  std::string status;              // the run's status after this
  std::string input;               // non-empty: set (an event run's input, once built)
  std::string context;             // JSON text
  std::string next_step;
  std::int64_t due_ms = 0;
  std::optional<std::int64_t> lease_until_ms;  // none: lease dropped
  int steps_run = 0;
  std::string error;
  std::optional<std::int64_t> ended_ms;
  std::int64_t now_ms = 0;
  std::vector<AutomationStep*> steps;
};
Result<bool> write_run_progress(Store& store, RunProgress& progress);

// Cancels an open run (its running or waiting step too); false when it had ended.
Result<bool> cancel_automation_run(Store& store, const std::string& id, std::int64_t now_ms);

// Frees every automation run's lease: for a process that knows it is the
// only one using the store (see SenderLock), each was left by a process
// that died. Its compute step still marked running was interrupted, and the
// next claim says so. Returns how many were freed.
Result<int> release_abandoned_automation_leases(Store& store);
// Frees the leases of runs claimed by a process that is gone (see
// store::release_departed_senders_leases).
Result<int> release_departed_automation_leases(Store& store);

// When the next open run falls due, lease aside (for --fast-forward and
// idle detection); none when no run is open.
Result<std::optional<std::int64_t>> next_automation_due_ms(Store& store);
// How many runs are open (running or waiting), of every automation.
Result<int> count_all_open_automation_runs(Store& store);
// Whether an open run is due by `now_ms` (leased ones too).
Result<bool> has_due_automation_runs(Store& store, std::int64_t now_ms);

// A run together with the steps it starts with (`automations rerun --from`
// copies the old run's steps before STEP), in one transaction. The steps'
// run_id must be the run's id; their seq is written back.
Result<void> insert_automation_run_with_steps(Store& store, const AutomationRun& run,
                                              std::vector<AutomationStep>& steps);
// How many runs of `automation` are open (running or waiting).
Result<int> count_open_automation_runs(Store& store, const std::string& automation);

} // namespace centrali::store

#pragma once
// Runs: every execution of a trigger's function, queued, running or done.
// The runs table is the queue: queued rows are the work, claimed atomically
// (status running plus a lease) so two processes never run one run twice.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrali/store/store.hpp"
#include "centrali/store/triggers.hpp"

namespace centrali::store {

struct Run {
  std::int64_t seq = 0;
  std::string id;                // run_…
  std::string trigger;           // name; kept when the trigger is removed
  std::string status;            // queued | running | completed | failure | timeout | cancelled
  std::string origin;            // event | schedule | demand | endpoint | rerun
  std::string event_id;          // event runs: executionParams come from this event
  std::string rerun_of;
  std::string input;             // executionParams as JSON text, when not built from the event
  std::string output;            // stdout as JSON text when it parsed as JSON, else empty
  std::string stdout_data;       // first 1 MiB
  std::string stderr_data;       // first 1 MiB
  std::optional<int> exit_code;
  std::string error;             // why it failed, or notes such as truncation
  std::int64_t queued_ms = 0;
  std::optional<std::int64_t> started_ms;
  std::optional<std::int64_t> ended_ms;
  std::optional<std::int64_t> lease_until_ms;
};

// A claimed run with the definition of its trigger as it was when claimed.
struct ClaimedRun {
  Run run;
  Trigger trigger;
};

// What a finished run records.
struct RunResult {
  std::string id;
  std::string status;            // completed | failure | timeout
  std::string output;
  std::string stdout_data;
  std::string stderr_data;
  std::optional<int> exit_code;
  std::string error;
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;
};

// Beyond a run's timeout (and the kill grace), how long its lease lasts.
// Only after that may another process call the run interrupted.
inline constexpr std::int64_t k_lease_margin_ms = 10'000;

// The error given to a run whose runner stopped while it was running.
inline constexpr const char* k_interrupted = "interrupted (the runner stopped)";

// Inserts a run (any status); its id must be set.
Result<void> insert_run(Store& store, const Run& run);

// The run with this id, outputs included; not_found when absent.
Result<Run> get_run(Store& store, const std::string& id);

struct RunFilter {
  std::string trigger;   // empty = all
  std::string status;    // empty = all
  int limit = 50;        // <= 0: no limit
};

// Runs matching `filter`, newest first, without input, stdout and stderr.
Result<std::vector<Run>> list_runs(Store& store, const RunFilter& filter);

// The runs queued for one event, oldest first, as list_runs reads them.
// Runs have no index by event (nothing hot asks): this reads them all.
Result<std::vector<Run>> runs_for_event(Store& store, const std::string& event_id);

// In one transaction: marks runs whose lease expired as failure
// (k_interrupted, never re-run: functions may not be idempotent), cancels
// queued runs of removed triggers, then claims up to `limit` queued runs,
// oldest first per trigger, of unpaused triggers with a free concurrency
// slot (runs running anywhere count), leasing each until its timeout plus
// k_lease_margin_ms. Returned in queue order.
// `owner`: the claiming process (SenderLock::owner; 0 names none).
Result<std::vector<ClaimedRun>> claim_runs(Store& store, std::int64_t now_ms, int limit, std::int64_t owner = 0);

// Marks running runs whose lease ended before `now_ms` as interrupted; returns how many.
Result<int> interrupt_expired_runs(Store& store, std::int64_t now_ms);
// Marks running runs claimed by a process that is gone as interrupted at
// `now_ms`, not waiting for their lease (see
// store::release_departed_senders_leases); returns how many.
Result<int> interrupt_departed_runs(Store& store, std::int64_t now_ms);

// Records a run's outcome and drops its lease.
Result<void> finish_run(Store& store, const RunResult& result);

// Puts a claimed run that never started back in the queue (shutdown).
Result<void> release_run(Store& store, const std::string& id);

// Whether some run waits that a runner could still execute: queued for an
// existing unpaused trigger, or running somewhere.
Result<bool> has_pending_runs(Store& store);

} // namespace centrali::store

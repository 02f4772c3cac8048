#pragma once
// How a run moves from step to step, in memory: no threads, no store, no
// processes. The executor claims a run, resumes it here, advances it
// through the steps that start no process (decisions, delays), hands its
// compute steps to processes and records their outcomes here, then writes
// what changed (progress_of) as one unit.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/automations/definition.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/events.hpp"

namespace centrali::automations {

// Beyond a compute step's timeout (and the kill grace), how long its run's
// lease lasts; only then may another process call the step interrupted.
inline constexpr std::int64_t k_compute_lease_margin_ms = 10'000;
// How long a claim holds a run while its decisions and delays are taken.
inline constexpr std::int64_t k_claim_lease_ms = 60'000;

struct LiveRun {
  store::AutomationRun row;         // status, next_step, due_ms, lease kept current
  Definition definition;
  nlohmann::json input;
  nlohmann::json context = nlohmann::json::object();
  nlohmann::json steps = nlohmann::json::object();  // {"<id>": {"status", "output"}}: the latest execution
  std::string new_input;            // set once an event run's input is built: written with the next progress
  int next_attempt = 1;             // of row.next_step, when it is a compute step run again
  std::int64_t clock_offset_ms = 0; // how far the clock was jumped (timeutil)
  std::deque<store::AutomationStep> history;      // rows touched since the claim (stable addresses)
  std::vector<store::AutomationStep*> to_write;   // of those, the ones changed since the last write
  store::AutomationStep* open_compute = nullptr;  // the compute step started, until it ends
  int steps_this_claim = 0;         // steps started since the claim (for the executor's count)

  bool ended() const { return row.status != "running" && row.status != "waiting"; }
  // {"input", "context", "steps"}: what conditions read and compute steps get on stdin.
  nlohmann::json document() const;
};

// A claimed run, ready to advance. `input` is its input (an event run's is
// built by the caller from its event on first claim; else the stored one).
// A compute step found still running was interrupted (its process died with
// the executor that ran it): it runs again with the next attempt number, or
// fails the run when it says "retry": false. A delay found waiting is due.
LiveRun resume(store::ClaimedAutomationRun claimed, nlohmann::json input, std::int64_t now_ms,
               std::int64_t clock_offset_ms);

enum class Halt {
  ended,     // completed or failed
  waiting,   // in a delay (or before a compute retry): due later, lease dropped
  compute,   // a compute step started (open_compute): run its process, then finish_compute
  held,      // at a compute step with no process slot free: still leased, to start when one frees
};

// Takes the run's steps from row.next_step while they start no process,
// until the run ends, waits, or reaches a compute step (started only when
// `may_start_compute`).
Halt advance(LiveRun& run, std::int64_t now_ms, bool may_start_compute);

struct ComputeOutcome {
  bool succeeded = false;
  nlohmann::json output;            // stdout as JSON, else its text, else null
  std::string error;                // why it failed
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;
  std::string stderr_tail;          // the end of stderr, kept with the step
};

// Lets go of a held run (shutdown): due now, its lease dropped, so any
// executor takes it next.
void release(LiveRun& run, std::int64_t now_ms);

// Records how open_compute ended. After success the run continues at its
// next step (call advance); after a failure it retries later (Halt::waiting)
// while the step has retries left, or fails (Halt::ended).
Halt finish_compute(LiveRun& run, const ComputeOutcome& outcome, std::int64_t now_ms);

// What to write: the run's state and the rows changed since the last write
// (to_write is emptied; the rows keep their addresses for the store to
// fill in their seq).
store::RunProgress progress_of(LiveRun& run, std::int64_t now_ms);

// An event run's input: the event as triggers get it (`input.data` is its
// body, `input.record` a record event's record).
nlohmann::json event_input(const store::Event& event);

} // namespace centrali::automations

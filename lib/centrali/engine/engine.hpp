#pragma once
// The engine: everything that works the store in the background, wired
// once for `listen` and `dispatch` — the store writer (group commit), the
// fan-out, the delivery worker, the trigger runner and scheduler, and the
// automations executor. It owns their start and shutdown order. `listen`
// adds HTTP routes on top; `dispatch` runs it until idle (or a signal).
// Never prints: news goes through EngineCallbacks.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "centrali/delivery/worker.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/util/error.hpp"

namespace centrali::automations {
class Executor;
}

namespace centrali::engine {

// Who executes trigger runs and automation runs: the engine's own threads
// (`listen`, `dispatch` without --until-idle), or the thread that calls
// run_until_idle, which drains them while deliveries flow.
enum class RunsOn { engine_threads, idle_loop };
// Whether schedule ticks queue runs (`listen` only: ticks missed while no
// listener ran are not replayed).
enum class Schedules { tick, ignore };
// Whether other processes may send from the store meanwhile. `alone` (for
// --fast-forward) refuses to start while any other sender runs and keeps
// new ones out until the engine stops.
enum class Senders { shared, alone };

struct EngineOptions {
  std::filesystem::path store_path;
  delivery::WorkerOptions worker;
  RunsOn runs = RunsOn::engine_threads;
  Schedules schedules = Schedules::tick;
  Senders senders = Senders::shared;
};

struct EngineCallbacks {
  std::function<void(const delivery::AttemptReport&)> on_attempt;
  std::function<void(const std::string&)> on_log;  // one human line: trigger runs, automation runs, ...
  std::function<void(int)> on_skipped;             // deliveries recorded as skipped (webhook disabled)
  // The background fan-out failed (it tries again); once per distinct failure.
  std::function<void(const Error&)> on_fan_out_failed;
};

// How run_until_idle ends.
enum class FastForward { no, yes };
struct IdleOptions {
  // Also wait for work that falls due within this long of the start.
  std::chrono::milliseconds wait_for_due{0};
  // How long a store locked by another process is borne (real time).
  std::optional<std::chrono::milliseconds> locked_patience;
  // When idle with work due later, jump the clock to it instead of ending
  // (needs Senders::alone).
  FastForward fast_forward = FastForward::no;
};

struct IdleReport {
  int trigger_runs = 0;         // run by the idle loop
  int automation_steps = 0;     // run by the idle loop
  std::int64_t fast_forwarded_ms = 0;  // how far the clock was jumped in all
  bool interrupted = false;     // `stop` was set before the work ran out
};

class Engine {
public:
  // Opens the store (writer and a reader) and builds every part; nothing
  // runs until start(). With Senders::alone, fails (ErrorKind::store) when
  // another process sends from the store.
  static Result<std::unique_ptr<Engine>> create(EngineOptions options, EngineCallbacks callbacks);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  // Stops in reverse order of dependence and the writer last, so nothing
  // writes after it; idempotent.
  void stop();

  store::GroupCommitter& writer();
  const std::filesystem::path& store_path() const;
  // Events were written by someone in this process (ingestion): fan out
  // now; `forwarded` ones also made deliveries due.
  void events_written(bool forwarded);
  // For routes that queue automation runs (the http trigger).
  automations::Executor& executor();

  // Works until nothing is due (or due within wait_for_due; with fast
  // forward, until nothing is pending at all), a store failure (see
  // failure()), or `stop`. Call after start(), from one thread.
  IdleReport run_until_idle(const IdleOptions& options, const std::atomic<bool>& stop);
  // Waits for `stop`, watching the store: returns early when it fails.
  void run_until_stopped(const std::atomic<bool>& stop);
  // The store failure that ended (or would end) the work, if any; checks
  // the writer again, so it also sees what failed while stopping.
  std::optional<Error> failure();

private:
  Engine() = default;
  struct Parts;
  std::unique_ptr<Parts> m_parts;
};

} // namespace centrali::engine

#pragma once
// The scheduler: while `listen` runs, queues a run for each schedule tick
// that falls due. Ticks missed while no listener ran are not replayed: on
// start every schedule's next tick is computed from now.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>

#include "centrali/store/group_commit.hpp"

namespace centrali::triggers {

class Scheduler {
public:
  // `runs_queued` is called after a tick queued runs (wake the runner).
  Scheduler(store::GroupCommitter& writer, std::filesystem::path store_path, std::function<void()> runs_queued,
            std::function<void(const std::string&)> log,
            std::chrono::milliseconds poll_interval = std::chrono::milliseconds(1000));
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Another kind of schedule ticked on the same thread at each pass (the
  // automations'): returns its earliest next tick. Set before start().
  using OtherTick = std::function<Result<std::optional<std::int64_t>>(std::int64_t now_ms, bool restart)>;
  void also_tick(OtherTick other) { m_other = std::move(other); }

  void start();
  void stop();

  // One pass at `now_ms`: queues a run for every due tick and moves each
  // schedule to its next tick. With `restart`, first recomputes every next
  // tick from now (what a starting listener does). Returns the earliest
  // next tick, if any.
  Result<std::optional<std::int64_t>> tick(std::int64_t now_ms, bool restart);

private:
  void loop();

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  std::function<void()> m_runs_queued;
  std::function<void(const std::string&)> m_log;
  std::chrono::milliseconds m_poll;
  OtherTick m_other;
  std::unique_ptr<store::Store> m_reader;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopping = false;
  std::thread m_thread;
};

} // namespace centrali::triggers

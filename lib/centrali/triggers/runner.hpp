#pragma once
// The runner: takes queued runs from the store (the queue), executes them
// on a pool of threads, and records each result through the store writer.
// Claims are atomic leases in the store, so several processes (`listen`,
// `dispatch --until-idle`) can run the same queue without running a run twice.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "centrali/store/group_commit.hpp"
#include "centrali/store/runs.hpp"

namespace centrali::triggers {

struct RunnerOptions {
  int max_parallel = 8;                              // runs at once in this process, all triggers together
  std::chrono::milliseconds poll_interval{250};      // picks up runs queued by other processes
  std::function<std::int64_t()> lease_owner;         // who claims (store::SenderLock::owner); none: 0
};

// Executes queued runs (respecting each trigger's concurrency, in queue
// order per trigger) and records their results through the writer.
class Runner {
public:
  // `store_path` is read (one connection per worker) for the events runs
  // are built from; `log` gets one human line per finished run.
  Runner(store::GroupCommitter& writer, std::filesystem::path store_path, RunnerOptions options,
         std::function<void(const std::string&)> log);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Starts the claim thread and the workers.
  void start();
  // Stops claiming, lets runs in flight finish (bounded by their timeouts),
  // records them, and puts claimed runs that never started back in the queue.
  void stop();
  // Runs may have been queued: claim now instead of at the next poll.
  void wake();

  // Runs every queued run on the calling thread(s) until none is queued or
  // running (runs held by another process are waited for); returns how many
  // ran here. Not while started.
  Result<int> drain();

private:
  void claim_loop(bool until_idle);
  void work_loop();
  void execute(store::Store* reader, const store::ClaimedRun& claimed);
  int claim(int capacity);
  Result<bool> idle();

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  RunnerOptions m_options;
  std::function<void(const std::string&)> m_log;

  std::mutex m_mutex;
  std::condition_variable m_claim_cv;  // claim loop: a slot freed, new work, or stop
  std::condition_variable m_ready_cv;  // workers: claimed runs, or stop
  std::deque<store::ClaimedRun> m_ready;
  int m_in_flight = 0;
  bool m_woken = false;
  bool m_stopping = false;
  bool m_started = false;
  std::atomic<int> m_ran{0};
  std::thread m_claimer;
  std::vector<std::thread> m_workers;
};

} // namespace centrali::triggers

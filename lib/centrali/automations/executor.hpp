#pragma once
// The executor: advances automation runs. It claims due runs from the store
// (the queue), runs their steps (decisions and delays in memory, compute
// steps as local processes on a pool of threads) and writes each run's
// progress through the store writer, many runs per group commit.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "centrali/store/group_commit.hpp"

namespace centrali::automations {

struct ExecutorOptions {
  int max_parallel = 8;                          // compute steps at once in this process
  int claim_batch = 256;                         // runs claimed per look
  std::chrono::milliseconds poll_interval{250};  // picks up runs queued by other processes
  std::function<std::int64_t()> lease_owner;     // who claims (store::SenderLock::owner); none: 0
};

class Executor {
public:
  // `store_path` is read (claims happen through the writer); `log` gets one
  // human line per finished run.
  Executor(store::GroupCommitter& writer, std::filesystem::path store_path, ExecutorOptions options,
           std::function<void(const std::string&)> log);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void start();
  // Stops claiming, lets compute steps in flight finish (bounded by their
  // timeouts) and records them.
  void stop();
  // Runs may have been queued or fallen due: look now, not at the next poll.
  void wake();

  // Advances every run due now until none is (runs leased by another
  // process are left to it); returns how many steps ran. Not while started.
  Result<int> drain();

private:
  struct State;
  std::unique_ptr<State> m_state;
};

} // namespace centrali::automations

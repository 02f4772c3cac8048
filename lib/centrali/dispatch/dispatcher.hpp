#pragma once
// The dispatcher: a thread that fans out new events (see dispatch/fanout.hpp)
// through the group committer, then wakes whoever has new work.
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "centrali/store/fanout.hpp"
#include "centrali/store/group_commit.hpp"

namespace centrali::dispatch {

struct DispatcherHooks {
  std::function<void()> deliveries_queued;  // wake the delivery worker (deliveries made due)
  std::function<void()> runs_queued;        // wake the trigger runner and the automations executor
  store::DeliveryHandOff hand_off;          // the in-process delivery worker, if any
  // Deliveries recorded as skipped (their webhook is disabled), per batch.
  std::function<void(int)> deliveries_skipped;
  // The background fan-out failed (it tries again at the next poll). Said
  // once per failure, not once per poll: again only after a fan-out
  // succeeded or the failure changed.
  std::function<void(const Error&)> fan_out_failed = {};
};

class Dispatcher {
public:
  Dispatcher(store::GroupCommitter& writer, std::filesystem::path store_path, DispatcherHooks hooks,
             std::chrono::milliseconds poll_interval = std::chrono::milliseconds(250));
  ~Dispatcher();

  void start();
  void stop();
  // New events may be pending: fan out now rather than at the next poll.
  void wake();

  // Fans out everything pending now, on the calling thread (for `dispatch`).
  Result<store::FanOutResult> drain();

private:
  void loop();

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  DispatcherHooks m_hooks;
  std::chrono::milliseconds m_poll;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_woken = false;
  bool m_sleeping = false;
  bool m_stopping = false;
  std::string m_last_failure;  // loop thread only: what fan_out_failed last heard
  // The last pass found nothing to route to: the next one takes the write
  // lock shared, beside ingestion (drain's thread only).
  bool m_nothing_to_route = false;
  std::thread m_thread;
};

} // namespace centrali::dispatch

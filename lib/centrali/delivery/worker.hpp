#pragma once
// The delivery worker: takes due deliveries from the store (the queue),
// sends them on a pool of threads, records every attempt, and schedules
// retries. Leases in the store keep a delivery from being in flight twice,
// across threads and across processes; a crashed holder's lease expires.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "centrali/http/client.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/group_commit.hpp"

namespace centrali::delivery {

// Default retry delays for forwards to the app under development: short
// at first (the app is usually restarting), then backing off to an hour.
std::vector<std::chrono::milliseconds> default_forward_schedule();

struct WorkerOptions {
  int threads = 48;
  // At most this many attempts to one URL at once, so a slow or dead
  // endpoint cannot take every sender from the healthy ones.
  int per_url = 24;
  std::vector<std::chrono::milliseconds> forward_schedule = default_forward_schedule();
  std::chrono::milliseconds forward_timeout{30'000};
  std::chrono::milliseconds poll_interval{500};  // picks up work queued by other processes
};

// What the worker reports after each attempt (for logs).
struct AttemptReport {
  store::Delivery delivery;
  store::Attempt attempt;
  store::DeliveryUpdate update;
};

class Worker {
public:
  Worker(store::GroupCommitter& writer, std::filesystem::path store_path, WorkerOptions options,
         std::function<void(const AttemptReport&)> on_attempt);
  ~Worker();

  void start();
  // Finishes attempts in flight (bounded by their timeouts) and stops.
  void stop();
  // New work may be due: look now instead of at the next poll.
  void wake();
  // Nothing claimed is waiting or in flight.
  bool idle();

private:
  void claim_loop();
  void send_loop();
  void deliver(store::Store& reader, const store::Delivery& delivery);

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  WorkerOptions m_options;
  std::function<void(const AttemptReport&)> m_on_attempt;
  http::ClientPool m_clients;

  std::mutex m_mutex;
  std::condition_variable m_wake;        // claim loop: new work or stop
  std::condition_variable m_ready_cv;    // senders: claimed work or stop
  std::deque<store::Delivery> m_ready;
  std::map<std::string, int> m_per_url;  // claimed (ready or in flight), per URL
  int m_in_flight = 0;
  bool m_woken = false;
  bool m_stopping = false;
  std::thread m_claimer;
  std::vector<std::thread> m_senders;
};

} // namespace centrali::delivery

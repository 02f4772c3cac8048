#pragma once
// Runs the listener's plain (blocking) handlers, such as endpoint triggers
// that wait for a command, off the event loops. Threads start on demand, up
// to a maximum, so a listener that never runs a command holds none.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace centrali::http {

class HandlerPool {
public:
  explicit HandlerPool(int max);
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  void submit(std::function<void()> task);
  // Runs every task already submitted, then joins the threads.
  void stop();

private:
  void work();

  int m_max;
  std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<std::function<void()>> m_tasks;
  std::vector<std::thread> m_threads;
  std::size_t m_idle = 0;
  bool m_stopping = false;
};

} // namespace centrali::http

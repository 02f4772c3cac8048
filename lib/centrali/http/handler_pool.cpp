#include "centrali/http/handler_pool.hpp"

#include <pthread.h>

#include <algorithm>

namespace centrali::http {

HandlerPool::HandlerPool(int max) : m_max(std::max(1, max)) {}

HandlerPool::~HandlerPool()
{
  stop();
}

void HandlerPool::submit(std::function<void()> task)
{
  std::lock_guard lock(m_mutex);
  m_tasks.push_back(std::move(task));
  if (m_tasks.size() > m_idle && m_threads.size() < static_cast<std::size_t>(m_max))
    m_threads.emplace_back([this] {
      ::pthread_setname_np(::pthread_self(), "http-handler");  // for top -H and perf
      work();
    });
  else
    m_ready.notify_one();
}

void HandlerPool::stop()
{
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    threads.swap(m_threads);
  }
  m_ready.notify_all();
  for (auto& t : threads) t.join();
}

void HandlerPool::work()
{
  std::unique_lock lock(m_mutex);
  while (true) {
    ++m_idle;
    m_ready.wait(lock, [&] { return m_stopping || !m_tasks.empty(); });
    --m_idle;
    if (m_tasks.empty()) return;  // stopping and nothing left
    auto task = std::move(m_tasks.front());
    m_tasks.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

} // namespace centrali::http

#include "centrali/delivery/worker.hpp"

#include "centrali/delivery/attempt.hpp"
#include "centrali/util/time.hpp"

namespace centrali::delivery {

using namespace std::chrono_literals;

std::vector<std::chrono::milliseconds> default_forward_schedule()
{
  return {1s, 2s, 5s, 10s, 30s, 1min, 2min, 5min, 10min, 30min, 60min};
}

Worker::Worker(store::GroupCommitter& writer, std::filesystem::path store_path, WorkerOptions options,
               std::function<void(const AttemptReport&)> on_attempt)
    : m_writer(writer), m_store_path(std::move(store_path)), m_options(std::move(options)),
      m_on_attempt(std::move(on_attempt))
{
}

Worker::~Worker()
{
  stop();
}

void Worker::start()
{
  m_claimer = std::thread([this] { claim_loop(); });
  for (int i = 0; i < m_options.threads; ++i) m_senders.emplace_back([this] { send_loop(); });
}

void Worker::stop()
{
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    m_stopping = true;
  }
  m_wake.notify_all();
  m_ready_cv.notify_all();
  if (m_claimer.joinable()) m_claimer.join();
  for (auto& t : m_senders)
    if (t.joinable()) t.join();
  // Claimed but never sent: hand the leases back so the next run (or
  // another process) can send them at once.
  for (const auto& d : m_ready)
    m_writer.submit([id = d.id](store::Store& s) { return store::release_lease(s, id); }, store::Durability::normal)
        .wait();
  m_ready.clear();
}

void Worker::wake()
{
  {
    std::lock_guard lock(m_mutex);
    m_woken = true;
  }
  m_wake.notify_one();
}

bool Worker::idle()
{
  std::lock_guard lock(m_mutex);
  return m_ready.empty() && m_in_flight == 0;
}

void Worker::claim_loop()
{
  auto reader = store::Store::open(m_store_path, {store::Durability::normal});
  const std::int64_t lease_ms = m_options.forward_timeout.count() + 60'000;
  const int window = m_options.threads * 2;
  while (true) {
    int capacity = 0;
    std::map<std::string, int> per_url;
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return;
      capacity = window - static_cast<int>(m_ready.size()) - m_in_flight;
      m_woken = false;
      per_url = m_per_url;
    }
    // Claim no more for one URL than it may have in flight: the rest of the
    // window stays free for other endpoints.
    int refused = 0;
    auto accept = [&](const std::string& url) {
      bool ok = ++per_url[url] <= m_options.per_url;
      refused += ok ? 0 : 1;
      return ok;
    };
    bool full = false;
    if (capacity > 0) {
      std::vector<store::Delivery> claimed;
      auto now = timeutil::now_ms();
      m_writer
          .submit([&](store::Store& s) -> Result<void> {
            auto r = store::claim_due_deliveries(s, now, capacity, lease_ms, accept);
            if (!r) return std::unexpected(r.error());
            claimed = std::move(*r);
            return {};
          }, store::Durability::normal)
          .wait();
      // Full, or holding back for busy endpoints: either way the next claim
      // is worth making only once a sender frees a slot.
      full = static_cast<int>(claimed.size()) == capacity || refused > 0;
      if (!claimed.empty()) {
        std::lock_guard lock(m_mutex);
        for (auto& d : claimed) {
          ++m_per_url[d.url];
          m_ready.push_back(std::move(d));
        }
      }
      m_ready_cv.notify_all();
    } else {
      full = true;
    }
    // Sleep until the next delivery falls due, new work is announced, or
    // the poll interval passes (work queued by other processes).
    auto wait = m_options.poll_interval;
    if (!full && reader) {
      if (auto next = store::next_due_ms(*reader, timeutil::now_ms()); next && *next) {
        auto until = std::chrono::milliseconds(std::max<std::int64_t>(0, **next - timeutil::now_ms()));
        wait = std::min(wait, until);
      }
    }
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, wait, [&] { return m_stopping || m_woken; });
  }
}

void Worker::send_loop()
{
  auto reader = store::Store::open(m_store_path, {store::Durability::normal});
  while (true) {
    store::Delivery d;
    {
      std::unique_lock lock(m_mutex);
      m_ready_cv.wait(lock, [&] { return m_stopping || !m_ready.empty(); });
      if (m_stopping) return;
      d = std::move(m_ready.front());
      m_ready.pop_front();
      ++m_in_flight;
    }
    if (reader) deliver(*reader, d);
    {
      std::lock_guard lock(m_mutex);
      --m_in_flight;
      if (--m_per_url[d.url] <= 0) m_per_url.erase(d.url);
      m_woken = true;  // room in the window: claim more
    }
    m_wake.notify_one();
  }
}

void Worker::deliver(store::Store& reader, const store::Delivery& d)
{
  AttemptInput input;
  input.delivery = d;
  auto result = perform_attempt(reader, m_clients, input, {m_options.forward_schedule, m_options.forward_timeout});
  // The attempt log may be redone after a power loss (at-least-once), so it
  // shares commits without forcing an fsync of its own.
  auto recorded = m_writer.submit([&](store::Store& s) { return record_result(s, result); }, store::Durability::normal).get();
  if (recorded && m_on_attempt) m_on_attempt({d, result.attempt, result.update});
}

} // namespace centrali::delivery

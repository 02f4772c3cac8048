#include "centrali/dispatch/dispatcher.hpp"

#include <pthread.h>

#include <optional>

#include "centrali/dispatch/fanout.hpp"
#include "centrali/store/work_signal.hpp"
#include "centrali/util/time.hpp"

namespace centrali::dispatch {

namespace {
constexpr int k_batch = 256;
// While events keep arriving, passes start at most this often, so that a
// pass takes many events rather than a few: each pass is a write
// transaction of its own, which on PostgreSQL costs eight round trips and
// takes the lock every listener's ingestion waits for. Two listeners on
// one PostgreSQL store ingest 13k events/s with a pass per commit, 15-16k
// with 5 ms, 17-18k with 20 ms, and hardly more with 50 ms (three runs of
// each: two listeners, a wrk -c16 against each). An idle store's first
// event still starts a pass at once; under load a webhook's delivery may
// start up to this much later (forwards are made at ingestion).
constexpr std::chrono::milliseconds k_min_pass_interval{20};
}

Dispatcher::Dispatcher(store::GroupCommitter& writer, std::filesystem::path store_path, DispatcherHooks hooks,
                       std::chrono::milliseconds poll_interval)
    : m_writer(writer), m_store_path(std::move(store_path)), m_hooks(std::move(hooks)), m_poll(poll_interval)
{
}

Dispatcher::~Dispatcher()
{
  stop();
}

void Dispatcher::start()
{
  m_thread = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "fan-out");  // for top -H and perf
    loop();
  });
}

void Dispatcher::stop()
{
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void Dispatcher::wake()
{
  bool notify = false;
  {
    std::lock_guard lock(m_mutex);
    m_woken = true;
    // Ingestion calls this per event; a futex wake only when asleep.
    notify = m_sleeping;
  }
  if (notify) m_cv.notify_one();
}

Result<store::FanOutResult> Dispatcher::drain()
{
  store::FanOutResult total;
  while (true) {
    const auto& hand_off = m_hooks.hand_off;
    store::FanOutResult batch;
    // While nothing is routed, a pass only moves the cursor: it need not
    // keep every listener's commits waiting, as a pass that routes must.
    const auto lock = m_nothing_to_route ? store::WriteLock::shared : store::WriteLock::exclusive;
    auto r = m_writer
                 .submit([&](store::Store& s) -> Result<void> {
                   const auto now = timeutil::now_ms();
                   // The in-process worker takes what it has room for leased:
                   // those deliveries need no claim.
                   std::optional<store::FanOutLease> lease;
                   if (hand_off.lease) lease = hand_off.lease(s, now);
                   auto out = fan_out_pending(s, k_batch, now, lease ? &*lease : nullptr,
                                              lock == store::WriteLock::exclusive);
                   if (!out) return std::unexpected(out.error());
                   // Work this process did not keep: others' senders and
                   // runners hear of it at the commit.
                   if (out->deliveries > static_cast<int>(out->leased.size()) || out->runs > 0 || out->automation_runs > 0)
                     store::announce_work(s);
                   batch = std::move(*out);  // a redone transaction replaces what the rolled-back one made
                   return {};
                 }, store::Durability::normal, lock)  // redone whole if lost: the events stay pending in the same transaction
                 .get();
    const int leased = r ? static_cast<int>(batch.leased.size()) : 0;
    if (hand_off.take) hand_off.take(r ? std::move(batch.leased) : std::vector<store::LeasedDelivery>{});
    if (!r) return std::unexpected(r.error());
    m_nothing_to_route = batch.nothing_to_route;
    if (batch.must_route) continue;  // something to route to now: again, with the whole lock
    total.events += batch.events;
    total.deliveries += batch.deliveries;
    total.skipped += batch.skipped;
    if (batch.skipped > 0 && m_hooks.deliveries_skipped) m_hooks.deliveries_skipped(batch.skipped);
    total.runs += batch.runs;
    if (batch.deliveries > leased && m_hooks.deliveries_queued) m_hooks.deliveries_queued();
    total.automation_runs += batch.automation_runs;
    if ((batch.runs > 0 || batch.automation_runs > 0) && m_hooks.runs_queued) m_hooks.runs_queued();
    if (batch.events < k_batch) return total;
  }
}

void Dispatcher::loop()
{
  while (true) {
    const auto pass_start = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return;
      m_woken = false;
    }
    // A failing store is tried again at the next poll; whoever runs us
    // hears of it once, so a corrupt or full store is not silent.
    if (auto r = drain(); r) {
      m_last_failure.clear();
    } else if (r.error().message != m_last_failure) {
      m_last_failure = r.error().message;
      if (m_hooks.fan_out_failed) m_hooks.fan_out_failed(r.error());
    }
    std::unique_lock lock(m_mutex);
    if (m_stopping) return;
    if (!m_woken) {
      m_sleeping = true;
      m_cv.wait_for(lock, m_poll, [&] { return m_stopping || m_woken; });
      m_sleeping = false;
    } else {
      // Woken during the pass: more is arriving. Let it gather.
      m_cv.wait_until(lock, pass_start + k_min_pass_interval, [&] { return m_stopping; });
    }
  }
}

} // namespace centrali::dispatch

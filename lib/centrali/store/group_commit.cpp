#include "centrali/store/group_commit.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace centrali::store {

namespace {
// How long relaxed work may wait for company, and how much company is
// enough. At 20k attempts/s, 4 ms gathers about 80.
constexpr auto k_gather_wait = std::chrono::milliseconds(4);
constexpr std::size_t k_gather_target = 128;
} // namespace

GroupCommitter::GroupCommitter(Store store, std::size_t max_batch)
    : m_store(std::move(store)), m_max_batch(max_batch), m_thread([this] {
        ::pthread_setname_np(::pthread_self(), "store-writer");  // for top -H and perf
        run();
      })
{
}

GroupCommitter::~GroupCommitter()
{
  stop();
}

std::future<Result<void>> GroupCommitter::submit(Work work, Durability durability)
{
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  submit(std::move(work), durability, [promise](Result<void> r) { promise->set_value(std::move(r)); });
  return future;
}

void GroupCommitter::submit(Work work, Durability durability, Completion done, Latency latency)
{
  Item item{std::move(work), durability, std::move(done), latency};
  bool wake = false;
  bool refused = false;
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) {
      refused = true;
    } else {
      // A busy writer takes the queue after its commit anyway; a futex wake
      // per request is a measurable share of ingestion's cost.
      wake = m_sleeping ||
             (m_gathering && (latency == Latency::prompt || m_queue.size() + 1 >= k_gather_target));
      m_queue.push_back(std::move(item));
      m_sleeping = false;
      if (wake) m_gathering = false;
    }
  }
  if (refused) {
    // Outside the lock: the completion may do anything but submit-and-wait.
    if (item.done) item.done(fail(ErrorKind::store, "the store writer is shutting down"));
    return;
  }
  if (wake) m_wake.notify_one();
}

void GroupCommitter::stop()
{
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && !m_thread.joinable()) return;
    m_stopping = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

void GroupCommitter::run()
{
  std::deque<Item> batch;
  while (true) {
    {
      std::unique_lock lock(m_mutex);
      while (!m_stopping && m_queue.empty()) {
        m_sleeping = true;
        m_wake.wait(lock);
      }
      m_sleeping = false;
      if (m_queue.empty() && m_stopping) return;
      // No artificial delay for prompt work: whatever queued while the last
      // commit was fsyncing forms the next batch, so batches grow exactly
      // with load. Only a queue of relaxed work waits a little for company.
      gather(lock);
      while (!m_queue.empty() && batch.size() < m_max_batch) {
        batch.push_back(std::move(m_queue.front()));
        m_queue.pop_front();
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void GroupCommitter::gather(std::unique_lock<std::mutex>& lock)
{
  auto all_relaxed = [&] {
    return std::all_of(m_queue.begin(), m_queue.end(), [](const Item& i) { return i.latency == Latency::relaxed; });
  };
  if (m_stopping || !all_relaxed()) return;
  const auto deadline = std::chrono::steady_clock::now() + k_gather_wait;
  while (!m_stopping && m_queue.size() < k_gather_target && all_relaxed()) {
    m_gathering = true;
    if (m_wake.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  m_gathering = false;
}

void GroupCommitter::commit_batch(std::deque<Item>& batch)
{
  // First try the whole batch as one plain transaction. Only when some work
  // fails is the batch rolled back and run again with a savepoint per work,
  // so one caller's failure never undoes another's writes. Work must
  // therefore be safe to run twice (it only writes through `store`).
  std::vector<Result<void>> results;
  bool need_full = false;
  for (const auto& item : batch) need_full |= item.durability == Durability::full;
  auto wanted = need_full ? Durability::full : Durability::normal;
  if (wanted != m_current) {
    // A connection setting, read at COMMIT: change it between transactions.
    try {
      m_store.db().exec(need_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      m_current = wanted;
    } catch (...) {
      m_current.reset();  // unknown: set it again before the next batch
    }
  }
  auto run_all = [&](bool isolate) {
    return guarded("store write", [&]() -> Result<void> {
      results.clear();
      m_store.reset_statements();
      m_store.statement("BEGIN IMMEDIATE").exec();
      for (auto& item : batch) {
        if (isolate) m_store.statement("SAVEPOINT work").exec();
        Result<void> r;
        try {
          r = item.work(m_store);
        } catch (const std::exception& e) {
          r = fail(ErrorKind::store, std::string("store write failed: ") + e.what());
        }
        if (!r && !isolate) return fail(ErrorKind::store, "retry isolated");
        if (isolate) {
          if (!r) m_store.statement("ROLLBACK TO work").exec();
          m_store.statement("RELEASE work").exec();
        }
        results.push_back(std::move(r));
      }
      m_store.reset_statements();  // before COMMIT: no statement may hold the snapshot past it
      m_store.statement("COMMIT").exec();
      return {};
    });
  };
  auto rollback = [&] {
    try {
      m_store.db().exec("ROLLBACK");
    } catch (...) {
      // No transaction was open (BEGIN itself failed): nothing to undo.
    }
  };
  auto outcome = run_all(false);
  if (!outcome) {
    rollback();
    outcome = run_all(true);
  }
  if (!outcome) {
    rollback();
    // Nothing in this batch is durable: every caller hears so.
    for (auto& item : batch)
      if (item.done) item.done(std::unexpected(outcome.error()));
    return;
  }
  ++m_batches;
  m_items += batch.size();
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].done) batch[i].done(std::move(results[i]));
}

} // namespace centrali::store

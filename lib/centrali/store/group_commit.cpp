#include "centrali/store/group_commit.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>


namespace centrali::store {

namespace {
// How long relaxed work may wait for company, and how much company is
// enough. At 20k attempts/s, 4 ms gathers about 80.
constexpr auto k_gather_wait = std::chrono::milliseconds(4);
constexpr std::size_t k_gather_target = 128;
} // namespace

GroupCommitter::GroupCommitter(Store store, std::size_t max_batch, std::chrono::milliseconds lock_wait)
    : m_store(std::move(store)), m_max_batch(max_batch), m_lock_wait(lock_wait), m_thread([this] {
        ::pthread_setname_np(::pthread_self(), "store-writer");  // for top -H and perf
        run();
      })
{
}

GroupCommitter::~GroupCommitter()
{
  stop();
}

std::future<Result<void>> GroupCommitter::submit(Work work, Durability durability, WriteLock lock)
{
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  submit(std::move(work), durability, [promise](Result<void> r) { promise->set_value(std::move(r)); },
         Latency::prompt, lock);
  return future;
}

void GroupCommitter::submit(Work work, Durability durability, Completion done, Latency latency, WriteLock lock,
                            Planning planning)
{
  Item item{std::move(work), durability, std::move(done), latency, lock, planning,
            std::chrono::steady_clock::now() + m_lock_wait};
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

std::optional<std::chrono::steady_clock::time_point> GroupCommitter::locked_since() const
{
  std::lock_guard lock(m_mutex);
  return m_locked_since;
}

std::optional<Error> GroupCommitter::broken() const
{
  std::lock_guard lock(m_mutex);
  return m_broken;
}

void GroupCommitter::note_broken(const Error& e)
{
  if (e.fault != StoreFault::broken) return;
  std::lock_guard lock(m_mutex);
  if (!m_broken) m_broken = e;
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
  auto write_lock = WriteLock::shared;
  auto lock_deadline = std::chrono::steady_clock::time_point::max();
  auto planning = Planning::once;
  for (const auto& item : batch) {
    need_full |= item.durability == Durability::full;
    if (item.lock == WriteLock::exclusive) write_lock = WriteLock::exclusive;
    if (item.planning == Planning::each_run) planning = Planning::each_run;
    lock_deadline = std::min(lock_deadline, item.lock_deadline);
  }
  auto wanted = need_full ? Durability::full : Durability::normal;
  if (wanted != m_current) {
    // A connection setting, read at COMMIT: change it between transactions.
    try {
      m_store.connection().set_durability(wanted);
      m_current = wanted;
    } catch (...) {
      m_current.reset();  // unknown: set it again before the next batch
    }
  }
  // BEGIN IMMEDIATE waits for another process's lock only until the oldest
  // work here has waited its bound: a sender is answered (503) in time,
  // however long the lock is held. With none left, it looks once.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lock_deadline -
                                                                          std::chrono::steady_clock::now());
  m_store.connection().set_planning(planning);
  try {
    m_store.connection().set_lock_wait(static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, m_lock_wait.count())));
  } catch (...) {
    // Cannot fail on an open connection; the previous wait stays if it did.
  }
  enum class Isolate { no, yes };
  auto run_all = [&](Isolate isolate) {
    return guarded("store write", [&]() -> Result<void> {
      results.clear();
      m_store.reset_statements();
      m_store.connection().begin_write(write_lock);
      for (auto& item : batch) {
        if (isolate == Isolate::yes) m_store.statement("SAVEPOINT work").exec();
        Result<void> r;
        try {
          r = item.work(m_store);
        } catch (const std::exception& e) {
          r = fail(ErrorKind::store, std::string("store write failed: ") + e.what());
        }
        if (!r && isolate == Isolate::no) {
          // Locked out mid-batch is the batch's failure, not this work's.
          if (r.error().fault == StoreFault::locked) return r;
          return fail(ErrorKind::store, "retry isolated");
        }
        if (isolate == Isolate::yes) {
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
      m_store.exec("ROLLBACK");
    } catch (...) {
      // No transaction was open (BEGIN itself failed): nothing to undo.
    }
  };
  auto outcome = run_all(Isolate::no);
  if (!outcome && outcome.error().fault != StoreFault::locked && outcome.error().fault != StoreFault::unavailable) {
    // Some work failed: run each in isolation so it alone fails. Not when
    // the store was locked: every work would wait for the lock again, and
    // a sender would hear its 503 after twice the wait. Nor when its server
    // is out of reach: no work could succeed.
    rollback();
    ++m_isolation_retries;
    outcome = run_all(Isolate::yes);
  }
  if (!outcome) {
    rollback();
    note_broken(outcome.error());
    if (outcome.error().fault == StoreFault::locked) return locked_out(batch, outcome.error());
    // Nothing in this batch is durable: every caller hears so.
    for (auto& item : batch)
      if (item.done) item.done(std::unexpected(outcome.error()));
    return;
  }
  if (m_locked_out) {  // the writer's own copy: no lock taken per commit otherwise
    std::lock_guard lock(m_mutex);
    m_locked_since.reset();
    m_locked_out = false;
  }
  ++m_batches;
  m_items += batch.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) note_broken(results[i].error());
    if (batch[i].done) batch[i].done(std::move(results[i]));
  }
}

void GroupCommitter::locked_out(std::deque<Item>& batch, const Error& locked)
{
  const auto now = std::chrono::steady_clock::now();
  // SQLite counts its own sleeps, which can end a little before our clock
  // says the deadline has come: work that close to it fails now rather than
  // look once more.
  constexpr auto k_close_enough = std::chrono::milliseconds(50);
  std::deque<Item> again;
  std::vector<Item> expired;
  // Writes have waited for the lock since the oldest of these was submitted.
  auto waiting_since = now;
  for (auto& item : batch) {
    waiting_since = std::min(waiting_since, item.lock_deadline - m_lock_wait);
    if (item.lock_deadline <= now + k_close_enough) expired.push_back(std::move(item));
    else again.push_back(std::move(item));
  }
  {
    std::lock_guard lock(m_mutex);
    if (!m_locked_since) m_locked_since = waiting_since;
    m_locked_out = true;
    // In front, in their order: they were queued before what waits there.
    m_queue.insert(m_queue.begin(), std::make_move_iterator(again.begin()), std::make_move_iterator(again.end()));
  }
  for (auto& item : expired)
    if (item.done) item.done(std::unexpected(locked));
  // Locked out at once, before any deadline (SQLite gives up without
  // waiting in a few cases): do not spin on the lock.
  if (expired.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

} // namespace centrali::store

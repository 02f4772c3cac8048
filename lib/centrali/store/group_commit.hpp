#pragma once
// Group commit: one writer thread owns a store connection and runs the work
// of many concurrent callers inside one transaction, then fsyncs once. Each
// caller's future resolves only after the transaction holding its work has
// committed, so "acknowledged" can mean "durable" at a fraction of the cost
// of one commit per request (~147k rows/s batched vs ~5.6k/s one by one).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "centrali/store/store.hpp"

namespace centrali::store {

// Whether someone is held up until the work commits. Relaxed work (attempt
// logs nobody waits on) may wait a few milliseconds for company, so that a
// busy writer commits tens of items at once instead of a handful: a commit
// costs about 100 µs here whatever it holds.
enum class Latency { prompt, relaxed };

// The longest any work waits for another process's write lock (a `sqlite3`
// shell in a transaction, a long `store vacuum`), counted from its submit:
// then it fails with StoreFault::locked. So `listen` answers 503 within
// about this long however long the lock is held (README: "Store locked").
inline constexpr std::chrono::milliseconds k_max_lock_wait{5'000};

class GroupCommitter {
public:
  using Work = std::function<Result<void>(Store&)>;
  // Runs on the writer thread once the work's transaction has committed (or
  // failed); it must be quick and must not submit and wait.
  using Completion = std::function<void(Result<void>)>;

  // Takes ownership of `store` (open it with Durability::full for acks that
  // survive power loss). At most `max_batch` works share one transaction.
  // `lock_wait`: see k_max_lock_wait.
  explicit GroupCommitter(Store store, std::size_t max_batch = 512,
                          std::chrono::milliseconds lock_wait = k_max_lock_wait);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues `work`; its failure rolls back only its own writes, and the
  // future carries its result after the commit. A batch is fsynced when any
  // work in it asks for Durability::full (acknowledged events); bookkeeping
  // that may be redone after a power loss (leases, attempt logs) asks for
  // `normal` and then costs no fsync of its own. While another process
  // holds the write lock, work waits for it at most `lock_wait` from its
  // submit, then fails with StoreFault::locked.
  std::future<Result<void>> submit(Work work, Durability durability = Durability::full,
                                   WriteLock lock = WriteLock::exclusive);
  // The same, without a thread waiting: `done` hears the result. This lets
  // an event loop acknowledge a whole batch without a thread per request.
  // `lock`: WriteLock::shared for work that stays right beside its copies
  // in other processes (see Connection::begin_write); a batch of such work
  // alone may commit alongside other processes' batches of it.
  // `planning`: Planning::once for work whose statements plan alike
  // whatever the tables hold; a batch keeps plans when all its work does.
  void submit(Work work, Durability durability, Completion done, Latency latency = Latency::prompt,
              WriteLock lock = WriteLock::exclusive, Planning planning = Planning::each_run);

  // Runs and commits everything already queued, then stops the thread.
  // Later submits fail with ErrorKind::store.
  void stop();

  std::uint64_t batches() const { return m_batches; }
  std::uint64_t items() const { return m_items; }
  // Batches run again with a savepoint per work because some work failed
  // (never because the store was locked: waiting again would not help).
  std::uint64_t isolation_retries() const { return m_isolation_retries; }

  // Since when writes have waited for a lock that another process holds,
  // if they failed for it and none has committed since.
  std::optional<std::chrono::steady_clock::time_point> locked_since() const;
  // The first failure, of any work, that showed the store itself unusable
  // (StoreFault::broken: corrupt, I/O error, full disk), if one happened.
  std::optional<Error> broken() const;

private:
  struct Item {
    Work work;
    Durability durability;
    Completion done;
    Latency latency;
    WriteLock lock;
    Planning planning;
    std::chrono::steady_clock::time_point lock_deadline;  // fails once locked out past this
  };
  void run();
  // With only relaxed work in hand, waits (lock held through `lock`) until
  // enough has queued to share a commit, prompt work arrives, or the
  // longest a relaxed item may wait has passed.
  void gather(std::unique_lock<std::mutex>& lock);
  void commit_batch(std::deque<Item>& batch);
  // The batch could not take the write lock: work locked out past its
  // deadline fails with `locked`, the rest is queued again in front.
  void locked_out(std::deque<Item>& batch, const Error& locked);
  void note_broken(const Error& e);

  Store m_store;
  std::size_t m_max_batch;
  std::chrono::milliseconds m_lock_wait;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<Item> m_queue;
  bool m_stopping = false;
  bool m_sleeping = false;  // the writer waits for work: only then is a wake-up needed
  bool m_gathering = false; // the writer holds relaxed work back, waiting for company
  std::optional<Durability> m_current;  // the connection's synchronous setting, once we set it
  std::atomic<std::uint64_t> m_batches{0};
  std::atomic<std::uint64_t> m_items{0};
  std::atomic<std::uint64_t> m_isolation_retries{0};
  std::optional<std::chrono::steady_clock::time_point> m_locked_since;  // under m_mutex
  bool m_locked_out = false;  // m_locked_since is set (the writer thread's copy)
  std::optional<Error> m_broken;                                        // under m_mutex
  std::thread m_thread;
};

} // namespace centrali::store

#include "centrali/store/group_commit.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace centrali::store {

GroupCommitter::GroupCommitter(Store store, std::size_t max_batch)
    : m_store(std::move(store)), m_max_batch(max_batch), m_thread([this] { run(); })
{
}

GroupCommitter::~GroupCommitter()
{
  stop();
}

std::future<Result<void>> GroupCommitter::submit(Work work)
{
  Item item{std::move(work), {}};
  auto future = item.done.get_future();
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) {
      item.done.set_value(fail(ErrorKind::store, "the store writer is shutting down"));
      return future;
    }
    m_queue.push_back(std::move(item));
  }
  m_wake.notify_one();
  return future;
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
      m_wake.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty() && m_stopping) return;
      // No artificial delay: whatever queued while the last commit was
      // fsyncing forms the next batch, so batches grow exactly with load.
      while (!m_queue.empty() && batch.size() < m_max_batch) {
        batch.push_back(std::move(m_queue.front()));
        m_queue.pop_front();
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void GroupCommitter::commit_batch(std::deque<Item>& batch)
{
  std::vector<Result<void>> results;
  results.reserve(batch.size());
  auto outcome = guarded("store write", [&]() -> Result<void> {
    m_store.statement("BEGIN IMMEDIATE").exec();
    for (auto& item : batch) {
      m_store.statement("SAVEPOINT work").exec();
      Result<void> r;
      try {
        r = item.work(m_store);
      } catch (const std::exception& e) {
        r = fail(ErrorKind::store, std::string("store write failed: ") + e.what());
      }
      if (!r) m_store.statement("ROLLBACK TO work").exec();
      m_store.statement("RELEASE work").exec();
      results.push_back(std::move(r));
    }
    m_store.statement("COMMIT").exec();
    return {};
  });
  if (!outcome) {
    // Nothing in this batch is durable: every caller hears so.
    try {
      m_store.db().exec("ROLLBACK");
    } catch (...) {
      // No transaction was open (BEGIN itself failed): nothing to undo.
    }
    for (auto& item : batch) item.done.set_value(std::unexpected(outcome.error()));
    return;
  }
  ++m_batches;
  m_items += batch.size();
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(results[i]));
}

} // namespace centrali::store

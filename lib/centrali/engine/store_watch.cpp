#include "centrali/engine/store_watch.hpp"

#include "centrali/util/time.hpp"

namespace centrali::engine {

bool StoreWatch::must_stop(const Error* read)
{
  if (m_failure) return true;
  if (auto broken = m_writer.broken()) {
    m_failure = std::move(*broken);
    return true;
  }
  // Real waiting, not the (possibly fast-forwarded) clock of the work.
  const auto now = std::chrono::steady_clock::now();
  if (read) {
    // A store's server out of reach is waited for as a lock is: it may be
    // back in a moment (a restart, a failover).
    if (read->fault != StoreFault::locked && read->fault != StoreFault::unavailable) {
      m_failure = *read;
      return true;
    }
    if (!m_reads_locked_since) m_reads_locked_since = now;
  }
  auto since = m_writer.locked_since();
  if (m_reads_locked_since && (!since || *m_reads_locked_since < *since)) since = m_reads_locked_since;
  if (since && m_patience && now - *since >= *m_patience) {
    m_failure = Error{ErrorKind::store,
                      "the store has been locked by another process for more than " +
                          timeutil::format_duration(*m_patience) + " (a 'sqlite3' shell in a transaction?)",
                      StoreFault::locked};
    return true;
  }
  return false;
}

} // namespace centrali::engine

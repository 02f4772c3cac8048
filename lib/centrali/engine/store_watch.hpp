#pragma once
// What a store failure means for a run of the engine (`dispatch`): a store
// that another process holds locked is looked at again, until it has been
// locked for `patience` (none: for ever); anything else (a corrupt file, an
// I/O error, a full disk) ends the run at once.
#include <chrono>
#include <optional>

#include "centrali/store/group_commit.hpp"
#include "centrali/util/error.hpp"

namespace centrali::engine {

// Watches the reads of the thread that owns it and, through the writer,
// every write of the fan-out, the sender and the runners.
class StoreWatch {
public:
  StoreWatch(const store::GroupCommitter& writer, std::optional<std::chrono::milliseconds> patience)
      : m_writer(writer), m_patience(patience)
  {
  }

  // True when the run must end (failure() says why): checks the writer, and
  // `read`, a failure of this thread's own store read, if given.
  bool must_stop(const Error* read = nullptr);
  // This thread's last read succeeded: its reads are not locked out.
  void read_ok() { m_reads_locked_since.reset(); }
  const std::optional<Error>& failure() const { return m_failure; }

private:
  const store::GroupCommitter& m_writer;
  std::optional<std::chrono::milliseconds> m_patience;
  std::optional<std::chrono::steady_clock::time_point> m_reads_locked_since;
  std::optional<Error> m_failure;
};

} // namespace centrali::engine

#pragma once
// Which processes send deliveries from a store. Every `listen` and
// `dispatch` holds a shared lock on `<store>-senders` while it runs (on a
// PostgreSQL store, an advisory lock of a session it keeps open); the
// kernel drops it when the process ends, however it ends (kill -9 too). A
// sender that finds nobody else holding it knows every lease in the store
// belongs to a process that is gone. On a PostgreSQL store each sender is
// also named (owner()) in the leases it takes, and the others see it go.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "centrali/store/connection.hpp"
#include "centrali/util/error.hpp"

namespace centrali::store {

namespace postgres {
class SenderPresence;
}

class SenderLock {
public:
  // Joins the store's senders. alone() tells whether no other process was
  // one: the lock is then held exclusively until share(), so that no sender
  // starts while this one frees what the dead left leased.
  static Result<SenderLock> acquire(const std::filesystem::path& store_path);

  SenderLock(SenderLock&& other) noexcept;
  SenderLock& operator=(SenderLock&& other) noexcept;
  SenderLock(const SenderLock&) = delete;
  SenderLock& operator=(const SenderLock&) = delete;
  ~SenderLock();

  bool alone() const { return m_alone; }
  // This sender's name in the leases it takes (Delivery::lease_owner): on
  // a PostgreSQL store, a number the others see while it runs (it may
  // change at a look(), should its session have been lost); 0 on a SQLite
  // file, whose senders cannot see one another.
  std::int64_t owner() const;
  struct Look {
    int senders = 1;            // sending from the store now, this one included
    bool someone_left = false;  // a sender seen at the last look has gone since
  };
  // Looks at the store's senders. On a SQLite file: 1 (each process keeps
  // its own count there), and nobody is seen to leave.
  Look look();
  // Lets other senders join (after the cleanup alone() allowed).
  void share();

private:
  SenderLock(int fd, bool alone);
  int m_fd = -1;
  bool m_alone = false;
  std::unique_ptr<postgres::SenderPresence> m_presence;  // PostgreSQL: the session holding the locks
  std::vector<std::int64_t> m_seen;                      // the owners running at the last look, sorted
};

} // namespace centrali::store

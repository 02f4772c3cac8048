#pragma once
// Which processes send deliveries from a store. Every `listen` and
// `dispatch` holds a shared lock on `<store>-senders` while it runs (on a
// PostgreSQL store, an advisory lock of a session it keeps open); the
// kernel drops it when the process ends, however it ends (kill -9 too). A
// sender that finds nobody else holding it knows every lease in the store
// belongs to a process that is gone.
#include <filesystem>
#include <memory>

#include "centrali/store/connection.hpp"
#include "centrali/util/error.hpp"

namespace centrali::store {

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
  // How many processes send from the store now, this one included. On a
  // PostgreSQL store, the sessions holding the lock; on a SQLite file, 1
  // (each process keeps its own count there).
  int senders();
  // Lets other senders join (after the cleanup alone() allowed).
  void share();

private:
  SenderLock(int fd, bool alone) : m_fd(fd), m_alone(alone) {}
  int m_fd = -1;
  bool m_alone = false;
  std::unique_ptr<Connection> m_session;  // PostgreSQL: the session holding the lock
};

} // namespace centrali::store

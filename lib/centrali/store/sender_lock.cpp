#include "centrali/store/sender_lock.hpp"
#include "centrali/store/postgres/presence.hpp"
#include "centrali/store/postgres/url.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace centrali::store {

Result<SenderLock> SenderLock::acquire(const std::filesystem::path& store_path)
{
  if (postgres::is_postgres_url(store_path.string())) {
    auto joined = postgres::join_senders(store_path.string());
    if (!joined) return std::unexpected(joined.error());
    SenderLock lock(-1, joined->alone);
    lock.m_session = std::move(joined->session);
    return lock;
  }
  const auto path = store_path.string() + "-senders";
  // 0600 like the store: it holds nothing, but sits beside what does.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorKind::store, "cannot open " + path + ": " + std::strerror(errno));
  // flock, not fcntl locks: those belong to the process and SQLite's own
  // (on other files) would not mix, but closing any descriptor of this file
  // would drop an fcntl lock; a flock belongs to this descriptor alone.
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return SenderLock(fd, true);
  int rc = 0;
  do rc = ::flock(fd, LOCK_SH);  // waits out a sender that is still cleaning up
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    return fail(ErrorKind::store, "cannot lock " + path + ": " + std::strerror(err));
  }
  return SenderLock(fd, false);
}

SenderLock::SenderLock(SenderLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_alone(other.m_alone), m_session(std::move(other.m_session))
{
}

SenderLock& SenderLock::operator=(SenderLock&& other) noexcept
{
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_alone = other.m_alone;
    m_session = std::move(other.m_session);
  }
  return *this;
}

SenderLock::~SenderLock()
{
  if (m_fd >= 0) ::close(m_fd);
}

int SenderLock::senders()
{
  return m_session ? postgres::count_senders(*m_session) : 1;
}

void SenderLock::share()
{
  // Converting may let another sender take it exclusively for a moment; it
  // then frees leases too, before this one has taken any (share() comes
  // before the first claim), so nothing in use is touched.
  if (m_session && m_alone) postgres::share_senders(*m_session);
  if (m_fd >= 0 && m_alone) (void)::flock(m_fd, LOCK_SH);
}

} // namespace centrali::store

#include "centrali/store/sender_lock.hpp"
#include "centrali/store/postgres/presence.hpp"
#include "centrali/store/postgres/url.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace centrali::store {

Result<SenderLock> SenderLock::acquire(const std::filesystem::path& store_path)
{
  if (postgres::is_postgres_url(store_path.string())) {
    auto joined = postgres::SenderPresence::join(store_path.string());
    if (!joined) return std::unexpected(joined.error());
    SenderLock lock(-1, joined->alone());
    lock.m_presence = std::make_unique<postgres::SenderPresence>(std::move(*joined));
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

SenderLock::SenderLock(int fd, bool alone) : m_fd(fd), m_alone(alone) {}

SenderLock::SenderLock(SenderLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_alone(other.m_alone),
      m_presence(std::move(other.m_presence)), m_seen(std::move(other.m_seen))
{
}

SenderLock& SenderLock::operator=(SenderLock&& other) noexcept
{
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_alone = other.m_alone;
    m_presence = std::move(other.m_presence);
    m_seen = std::move(other.m_seen);
  }
  return *this;
}

SenderLock::~SenderLock()
{
  if (m_fd >= 0) ::close(m_fd);
}

std::int64_t SenderLock::owner() const
{
  return m_presence ? m_presence->owner() : 0;
}

SenderLock::Look SenderLock::look()
{
  if (!m_presence) return {};
  auto seen = m_presence->look();
  if (seen.owners.empty()) return {};  // no answer: the next look will say
  std::sort(seen.owners.begin(), seen.owners.end());
  // Having joined again, this sender saw nobody in between: only those it
  // sees from now on can be seen to go.
  const bool someone_left = !seen.rejoined && !std::includes(seen.owners.begin(), seen.owners.end(),
                                                             m_seen.begin(), m_seen.end());
  m_seen = std::move(seen.owners);
  return {static_cast<int>(m_seen.size()), someone_left};
}

void SenderLock::share()
{
  // Converting may let another sender take it exclusively for a moment; it
  // then frees leases too, before this one has taken any (share() comes
  // before the first claim), so nothing in use is touched.
  if (m_presence && m_alone) m_presence->share();
  if (m_fd >= 0 && m_alone) (void)::flock(m_fd, LOCK_SH);
}

} // namespace centrali::store

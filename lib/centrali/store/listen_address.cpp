#include "centrali/store/listen_address.hpp"
#include "centrali/store/postgres/presence.hpp"
#include "centrali/store/postgres/url.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace centrali::store {
namespace {

std::string address_file(const std::filesystem::path& store_path)
{
  return store_path.string() + "-listen";
}

} // namespace

Result<ListenAddress> ListenAddress::publish(const std::filesystem::path& store_path, const std::string& url)
{
  if (postgres::is_postgres_url(store_path.string())) {
    auto session = postgres::publish_listener(store_path.string(), url);
    if (!session) return std::unexpected(session.error());
    ListenAddress published(-1);
    published.m_session = std::move(*session);
    return published;
  }
  const auto path = address_file(store_path);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorKind::store, "cannot open " + path + ": " + std::strerror(errno));
  int rc = 0;
  do rc = ::flock(fd, LOCK_SH);
  while (rc != 0 && errno == EINTR);
  const std::string text = url + "\n";
  // pwrite at 0 then truncate: a reader sees the old URL or the new one,
  // either of which names a live listener while any lock is held.
  if (rc != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      ::ftruncate(fd, static_cast<off_t>(text.size())) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(ErrorKind::store, "cannot write " + path + ": " + std::strerror(err));
  }
  return ListenAddress(fd);
}

ListenAddress::ListenAddress(ListenAddress&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_session(std::move(other.m_session))
{
}

ListenAddress& ListenAddress::operator=(ListenAddress&& other) noexcept
{
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_session = std::move(other.m_session);
  }
  return *this;
}

ListenAddress::~ListenAddress()
{
  if (m_fd >= 0) ::close(m_fd);
}

std::optional<std::string> running_listener(const std::filesystem::path& store_path)
{
  if (postgres::is_postgres_url(store_path.string())) return postgres::running_listener(store_path.string());
  int fd = ::open(address_file(store_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // Taking it exclusively succeeds only when no listener holds it.
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    ::close(fd);
    return std::nullopt;
  }
  char buf[512];
  auto n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string url(buf, static_cast<std::size_t>(n));
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  if (url.empty()) return std::nullopt;
  return url;
}

} // namespace centrali::store

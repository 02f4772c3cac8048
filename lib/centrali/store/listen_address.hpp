#pragma once
// Where a running `centrali listen` on a store can be reached, for commands
// that would rather go through it (`send --source` posts to it, so the
// request shows in its log like any other). `<store>-listen` holds the URL
// of the listener that started last; each listener holds a shared lock on
// it while it runs, which the kernel drops however the process ends. No
// lock held means no listener, whatever the file says. On a PostgreSQL
// store a session named after the URL plays the file's part.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "centrali/store/connection.hpp"
#include "centrali/util/error.hpp"

namespace centrali::store {

class ListenAddress {
public:
  // Writes `url` and holds the lock until destroyed.
  static Result<ListenAddress> publish(const std::filesystem::path& store_path, const std::string& url);
  ListenAddress(ListenAddress&& other) noexcept;
  ListenAddress& operator=(ListenAddress&& other) noexcept;
  ListenAddress(const ListenAddress&) = delete;
  ListenAddress& operator=(const ListenAddress&) = delete;
  ~ListenAddress();

private:
  explicit ListenAddress(int fd) : m_fd(fd) {}
  int m_fd = -1;
  std::unique_ptr<Connection> m_session;  // PostgreSQL: the session that names the listener
};

// The URL of a listener running on this store now; nullopt when none runs.
std::optional<std::string> running_listener(const std::filesystem::path& store_path);

} // namespace centrali::store

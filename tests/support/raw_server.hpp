#pragma once
// A loopback server that answers with exactly the bytes a test writes:
// for clients facing servers that misbehave on purpose (chunked,
// close-delimited, cut short, trickling). Header-only.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "loopback.hpp"

namespace testing {

// Accepts connections on 127.0.0.1 (port 0) and runs `serve(fd)` for each
// on its own thread; the handler owns the descriptor.
class RawServer {
public:
  explicit RawServer(std::function<void(int fd)> serve) : m_serve(std::move(serve))
  {
    m_fd = testing::bind_loopback(m_port);
    REQUIRE(m_fd >= 0);
    m_thread = std::thread([this] {
      while (!m_stop) {
        int c = ::accept(m_fd, nullptr, nullptr);
        if (c < 0) break;
        m_handlers.emplace_back([this, c] { m_serve(c); });
      }
    });
  }
  ~RawServer()
  {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
    for (auto& t : m_handlers) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }
  int accepted() const { return static_cast<int>(m_handlers.size()); }

private:
  std::function<void(int)> m_serve;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  std::vector<std::thread> m_handlers;
};

// Reads one request (headers and a Content-Length body); false on EOF.
inline bool read_request(int fd)
{
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  auto head_end = got.find("\r\n\r\n") + 4;
  std::size_t length = 0;
  auto at = got.find("Content-Length: ");
  if (at != std::string::npos) length = std::stoul(got.substr(at + 16));
  while (got.size() < head_end + length) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

inline void write_all(int fd, const std::string& bytes)
{
  std::size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

} // namespace testing

#pragma once
// A raw loopback client for tests of the listener's HTTP server: what it
// sends is exactly the bytes given, and responses are split by their
// Content-Length, so framing, pipelining and limits can be checked.
// Header-only.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "loopback.hpp"

namespace testing {

// A raw client of the listener's own server: exact bytes out, responses
// in. Reads wait at most `timeout_s` (a server that never answers fails the
// test instead of hanging it).
class RawClient {
public:
  explicit RawClient(int port, int timeout_s = 10)
  {
    m_fd = connect_loopback(port, timeout_s);
    REQUIRE(m_fd >= 0);
    int one = 1;  // small pieces go out as they are written
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};  // a send the server never lets through fails the test rather than hanging it
    ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { ::close(m_fd); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  int fd() const { return m_fd; }

  // The whole of `bytes`, required to go out.
  void send(const std::string& bytes) { REQUIRE(send_all(bytes)); }

  // After a HEAD request, responses carry a Content-Length but no body.
  void expect_head_only(bool yes) { m_head_only = yes; }

  // Sends from `bytes` until the kernel's buffers are full (what a client
  // can have queued before the server reads); returns how much went.
  std::size_t send_until_full(std::string_view bytes)
  {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(m_fd, bytes.data() + sent, std::min<std::size_t>(bytes.size() - sent, 64 * 1024),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    return sent;
  }

  // False once the server stops taking bytes (closed, reset, or timed out).
  bool send_all(std::string_view bytes)
  {
    while (!bytes.empty()) {
      ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response (head and Content-Length body); empty when the connection
  // closed or went quiet first.
  std::string response()
  {
    while (true) {
      auto end = m_buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        auto cl = m_buffer.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(m_buffer.substr(cl + 16));
        if (m_buffer.starts_with("HTTP/1.1 100") || m_head_only) length = 0;  // interim or HEAD: no body
        if (m_buffer.size() >= end + 4 + length) {
          std::string out = m_buffer.substr(0, end + 4 + length);
          m_buffer.erase(0, end + 4 + length);
          return out;
        }
      }
      if (!fill()) return {};
    }
  }

  // Reads exactly `n` bytes; fewer when the connection closed first.
  std::string read_exactly(std::size_t n)
  {
    while (m_buffer.size() < n && fill()) {
    }
    std::string out = m_buffer.substr(0, std::min(n, m_buffer.size()));
    m_buffer.erase(0, out.size());
    return out;
  }

  // Whether bytes (or EOF) arrive within `wait`.
  bool readable_within(std::chrono::milliseconds wait)
  {
    if (!m_buffer.empty()) return true;
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }

  // True when the server closed the connection (EOF) within the read timeout.
  bool closed()
  {
    while (fill()) {
    }
    return m_eof;
  }

private:
  bool fill()
  {
    char buf[65536];
    ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
    if (n <= 0) {
      m_eof = n == 0;
      return false;
    }
    m_buffer.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int m_fd = -1;
  std::string m_buffer;
  bool m_eof = false;
  bool m_head_only = false;
};

} // namespace testing

#pragma once
// Raw TCP sockets on 127.0.0.1 for tests that speak bytes rather than HTTP
// through a client: servers that misbehave on purpose, clients that send
// exact framing. Header-only, so unit and binary tests can both use it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace testing {

// A socket bound to a free loopback port (written to `port`), listening when
// asked; -1 on failure.
inline int bind_loopback(int& port, bool listening = true)
{
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || (listening && ::listen(fd, 64) != 0)) {
    ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// A port nothing listens on (it was free a moment ago). Racy: another
// process may take it before it is used; prefer RefusingPort.
inline int unused_loopback_port()
{
  int port = 0;
  int fd = bind_loopback(port, false);
  if (fd >= 0) ::close(fd);
  return port;
}

// A loopback port held, for as long as this lives, by a socket that is
// bound but does not listen: connections to it are refused ("the receiver
// is down"), and no other program can take the port meanwhile. The socket
// has SO_REUSEPORT, as cpp-httplib's servers do, so a test's own server can
// bind the same port later ("the receiver comes up") without a moment
// where the port is free.
class RefusingPort {
public:
  RefusingPort()
  {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int yes = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      m_port = ntohs(addr.sin_port);
  }
  ~RefusingPort()
  {
    if (m_fd >= 0) ::close(m_fd);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return m_port; }  // 0 when no port could be held
  std::string url(const std::string& path = "/hook") const
  {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }

private:
  int m_fd = -1;
  int m_port = 0;
};

// A connection to 127.0.0.1:`port` whose reads give up after `timeout_s`;
// -1 on failure.
inline int connect_loopback(int port, int timeout_s = 10)
{
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

} // namespace testing

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

// A port nothing listens on (it was free a moment ago).
inline int unused_loopback_port()
{
  int port = 0;
  int fd = bind_loopback(port, false);
  if (fd >= 0) ::close(fd);
  return port;
}

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

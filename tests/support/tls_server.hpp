#pragma once
// A loopback TLS server that answers with exactly the bytes a test writes,
// as RawServer does for plain TCP: for the https:// client facing receivers
// that misbehave on purpose (endless headers, trickled responses). Its
// certificate is self-signed for 127.0.0.1, so clients need `insecure`.
// Header-only.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "loopback.hpp"
#include "temp_dir.hpp"

namespace testing {

// Accepts connections on 127.0.0.1 (port 0), completes the TLS handshake,
// and runs `serve(ssl)` for each on its own thread; the connection is
// closed when `serve` returns.
class TlsServer {
public:
  explicit TlsServer(std::function<void(SSL* ssl)> serve) : m_serve(std::move(serve))
  {
    m_ctx = make_context();
    REQUIRE(m_ctx != nullptr);
    m_fd = bind_loopback(m_port);
    REQUIRE(m_fd >= 0);
    m_thread = std::thread([this] {
      while (!m_stop) {
        int c = ::accept(m_fd, nullptr, nullptr);
        if (c < 0) break;
        ++m_accepted;
        m_handlers.emplace_back([this, c] { handle(c); });
      }
    });
  }
  ~TlsServer()
  {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
    for (auto& t : m_handlers) t.join();
    SSL_CTX_free(m_ctx);
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(m_port) + "/hook"; }
  // TCP connections accepted so far.
  int accepted() const { return m_accepted; }
  // Set when the server is being torn down: endless handlers stop on it.
  bool stopping() const { return m_stop; }

private:
  // A certificate for CN=127.0.0.1 made by the openssl tool in a temp
  // folder, loaded, and the folder removed.
  static SSL_CTX* make_context()
  {
    unit::TempDir dir;
    auto key = (dir.path() / "key.pem").string(), cert = (dir.path() / "cert.pem").string();
    auto command = "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout '" + key +
                   "' -out '" + cert + "' 2>/dev/null";
    if (std::system(command.c_str()) != 0) return nullptr;
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return nullptr;
    if (SSL_CTX_use_certificate_file(ctx, cert.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }

  void handle(int fd)
  {
    // A client that hangs up while the handler writes must not kill the
    // test with SIGPIPE: blocked here, it stays pending on this thread.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    timeval tv{10, 0};  // no handler waits on a silent client for ever
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(m_ctx);
    if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1) {
      m_serve(ssl);
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(fd);
  }

  std::function<void(SSL*)> m_serve;
  SSL_CTX* m_ctx = nullptr;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_accepted{0};
  std::thread m_thread;
  std::vector<std::thread> m_handlers;
};

// Reads one request (head and a Content-Length body) and returns its
// bytes; nothing on EOF or error.
inline std::optional<std::string> tls_read_request(SSL* ssl)
{
  std::string got;
  char buf[4096];
  auto more = [&] {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  while (got.find("\r\n\r\n") == std::string::npos)
    if (!more()) return std::nullopt;
  auto head_end = got.find("\r\n\r\n") + 4;
  std::size_t length = 0;
  auto at = got.find("Content-Length: ");
  if (at != std::string::npos && at < head_end) length = std::stoul(got.substr(at + 16));
  while (got.size() < head_end + length)
    if (!more()) return std::nullopt;
  return got;
}

// Writes all of `bytes`; false once the client has gone.
inline bool tls_write_all(SSL* ssl, const std::string& bytes)
{
  std::size_t off = 0;
  while (off < bytes.size()) {
    int n = SSL_write(ssl, bytes.data() + off, static_cast<int>(bytes.size() - off));
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace testing

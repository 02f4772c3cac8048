// The listener's HTTP server against clients that try to make it hold
// memory or a connection without end: floods, pipelined requests whose
// answers are never read, heads sent in many pieces, heads trickled forever.
// Raw sockets on loopback; what the server held and did is read from its own
// counters (Server::stats), never from timings.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include <catch2/catch.hpp>

#include "centrali/http/server.hpp"
#include "loopback.hpp"
#include "raw_client.hpp"

using centrali::http::Request;
using centrali::http::Response;
using centrali::http::Server;
using centrali::http::ServerOptions;
using centrali::http::ServerStats;
using namespace std::chrono_literals;
using testing::RawClient;

namespace {

constexpr std::size_t k_mib = 1024 * 1024;

enum class Start { now, later };

// A server on port 0 with one plain route, `/echo`, that answers with the
// size of the body it received (413 when it was too large). Started later,
// it lets connections queue bytes in the kernel before it reads any.
struct LimitServer {
  std::unique_ptr<Server> server;
  int port = 0;
  std::thread thread;
  std::atomic<int> handled{0};
  std::atomic<bool> saw_too_large{false};

  explicit LimitServer(ServerOptions options = {}, Start start_when = Start::now)
  {
    options.port = 0;
    options.loops = 2;
    server = std::make_unique<Server>(options);
    server->route("/echo", [this](Request& req, Response& res) {
      ++handled;
      if (req.body_too_large) {
        saw_too_large = true;
        res.status = 413;
        res.body = R"({"error":"payload_too_large"})";
        return;
      }
      res.body = std::to_string(req.body.size());
    });
    auto bound = server->bind();
    REQUIRE(bound);
    port = *bound;
    if (start_when == Start::now) start();
  }

  void start() { thread = std::thread([this] { server->run(); }); }

  ~LimitServer()
  {
    server->stop();
    if (thread.joinable()) thread.join();
  }

  ServerStats stats() const { return server->stats(); }
};

// Polls until `done` or the bound passes (which fails the caller's REQUIRE).
template <class Done>
bool eventually(Done done, std::chrono::seconds bound = 10s)
{
  auto give_up = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}


// Sends `bytes` from its own thread, as a client that writes without
// reading would; stopped (its socket shut) and joined however the test ends.
class Sender {
public:
  Sender(RawClient& client, std::string bytes) : m_client(client), m_bytes(std::move(bytes))
  {
    m_thread = std::thread([this] { m_all_sent = m_client.send_all(m_bytes); });
  }
  ~Sender()
  {
    if (!m_thread.joinable()) return;
    ::shutdown(m_client.fd(), SHUT_RDWR);
    m_thread.join();
  }
  bool finish()
  {
    m_thread.join();
    return m_all_sent;
  }

private:
  RawClient& m_client;
  std::string m_bytes;
  std::atomic<bool> m_all_sent{false};
  std::thread m_thread;
};

} // namespace

// What the server may hold for a flood: the limit and one read of the
// socket (64 KiB), with room for the answer.
constexpr std::size_t k_one_read = 64 * 1024;
constexpr std::size_t k_slack = 16 * 1024;

TEST_CASE("server limits: a chunked flood is answered 413 once past max_body, holding the limit and one read",
          "[http][limits]")
{
  ServerOptions options;
  options.max_body = 16 * 1024;
  LimitServer s(options, Start::later);
  RawClient c(s.port);
  const std::string chunk = "1000\r\n" + std::string(0x1000, 'x') + "\r\n";
  std::string flood = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  while (flood.size() < 32 * k_mib) flood += chunk;
  // Megabytes wait in the socket when the server first reads, and more follow.
  auto queued = c.send_until_full(flood);
  REQUIRE(queued > k_mib);
  s.start();
  Sender sender(c, flood.substr(queued));
  auto res = c.response();
  CHECK(res.starts_with("HTTP/1.1 413 "));
  CHECK(res.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.saw_too_large);
  CHECK(s.stats().peak_connection_bytes <= options.max_body + k_one_read + k_slack);
}

TEST_CASE("server limits: a header flood is answered 431 once past the head limit, holding the limit and one read",
          "[http][limits]")
{
  ServerOptions options;
  options.max_head_bytes = 16 * 1024;
  LimitServer s(options, Start::later);
  RawClient c(s.port);
  std::string flood = "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Flood: ";
  flood.resize(32 * k_mib, 'a');
  auto queued = c.send_until_full(flood);
  REQUIRE(queued > k_mib);
  s.start();
  Sender sender(c, flood.substr(queued));
  auto res = c.response();
  CHECK(res.starts_with("HTTP/1.1 431 "));
  CHECK(res.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.handled == 0);
  CHECK(s.stats().peak_connection_bytes <= options.max_head_bytes + k_one_read + k_slack);
}

TEST_CASE("server limits: pipelined requests whose answers go unread stop being read until the client reads",
          "[http][limits]")
{
  LimitServer s;
  RawClient c(s.port);
  // Each is answered at once (404, no route), so nothing but the client
  // holds the answers back; 100,000 of them are ~15 MB of answers, more than
  // the kernel's socket buffers take.
  const std::string request = "GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n";
  const int count = 100'000;
  std::string requests;
  for (int i = 0; i < count; ++i) requests += request;
  Sender sender(c, requests);
  // The server stops reading while the answers are unread...
  CHECK(eventually([&] { return s.stats().paused_for_unsent > 0; }));
  // ... and serves every request, in order, as the client reads.
  auto first = c.response();
  REQUIRE(first.starts_with("HTTP/1.1 404 "));
  auto rest = c.read_exactly(first.size() * (count - 1));
  REQUIRE(rest.size() == first.size() * (count - 1));
  for (std::size_t at = 0; at < rest.size(); at += first.size())
    if (std::string_view(rest).substr(at, first.size()) != first) FAIL("answer " << at / first.size() + 2 << " differs");
  CHECK(sender.finish());
  // A bounded backlog of answers and the read-ahead, not 15 MB.
  CHECK(s.stats().peak_connection_bytes < k_mib);
}

TEST_CASE("server limits: a head that arrives in many small pieces is parsed in one pass", "[http][limits]")
{
  LimitServer s;
  RawClient c(s.port);
  std::string head = "GET /echo HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 0; i < 900; ++i) head += "X-Pad-" + std::to_string(i) + ": " + std::string(100, 'p') + "\r\n";  // ~100 KB, under 1000 fields
  head += "\r\n";
  // 100 bytes at a time, each read by the server before the next is sent.
  for (std::size_t at = 0; at < head.size(); at += 100) {
    REQUIRE(c.send_all(std::string_view(head).substr(at, 100)));
    const auto sent = std::min(head.size(), at + 100);
    REQUIRE(eventually([&] { return s.stats().bytes_received >= sent; }));
  }
  CHECK(c.response().starts_with("HTTP/1.1 200 "));
  // Re-parsing from the start at every piece would examine ~500 times as much.
  auto examined = s.stats().head_bytes_examined;
  CAPTURE(examined, head.size());
  CHECK(examined <= 2 * head.size());
}

TEST_CASE("server limits: a head trickled forever is answered 408 and closed at the head deadline", "[http][limits]")
{
  ServerOptions options;
  options.head_timeout_s = 1;  // 60 by default
  LimitServer s(options);
  RawClient c(s.port);
  REQUIRE(c.send_all("GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));
  // A byte every 100 ms: each resets the idle timer (10 s), so only the
  // deadline on the whole head ends this. The bound fails the test.
  auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!c.readable_within(100ms)) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    c.send_all("a");
  }
  auto res = c.response();
  CHECK(res.starts_with("HTTP/1.1 408 "));
  CHECK(res.find("Connection: close\r\n") != std::string::npos);
  CHECK(c.closed());
  CHECK(s.stats().heads_timed_out == 1);
  CHECK(s.handled == 0);
}

TEST_CASE("server limits: the head deadline runs from a head's first byte, not from the connection's start",
          "[http][limits]")
{
  ServerOptions options;
  options.head_timeout_s = 1;
  LimitServer s(options);
  RawClient c(s.port);
  REQUIRE(c.send_all("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  CHECK(c.response().starts_with("HTTP/1.1 200 "));
  // Idle on a keep-alive connection for longer than the head deadline: the
  // idle time is the keep-alive timeout's business (30 s), not the head's.
  std::this_thread::sleep_for(2500ms);
  REQUIRE(c.send_all("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  CHECK(c.response().starts_with("HTTP/1.1 200 "));
  CHECK(s.stats().heads_timed_out == 0);
}

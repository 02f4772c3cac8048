#pragma once
// The HTTP/1.1 server centrali listens with: a few epoll event loops own
// the connections (keep-alive, pipelining, chunked bodies, 100-continue),
// so a waiting request costs a little memory rather than a parked thread.
// What a client can make a connection hold is bounded: the head (size and
// time), the body, bytes read ahead, and responses it does not read.
// Handlers see neutral types. Async handlers run on a loop and answer
// later from any thread (ingestion answers a whole group commit at once);
// plain handlers may block (a trigger's command) and run on a thread pool.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/util/error.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::http {

struct Request {
  std::string_view method;
  std::string_view path;     // decoded path, no query
  std::string_view target;   // path and query exactly as sent (origin-form)
  std::string_view host;     // Host, or an absolute-form target's authority; empty only for HTTP/1.0
  std::string_view remote_addr;
  HeaderList headers;        // every header received (duplicates kept)
  std::size_t header_bytes = 0;  // total size of the header block as received
  std::string body;          // exact bytes
  bool body_too_large = false;  // body exceeded the limit; `body` is empty
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string content_type = "application/json";
  std::string body;
  std::string note;          // for the access log only; never sent
};

struct ServerOptions {
  std::string host = "127.0.0.1";       // the address to bind
  // Names requests may carry in Host and Origin besides loopback and the
  // bound address (HostPolicy): a tunnel's public name, `.example.com`,
  // or `*` for any. Others are answered 403 without reaching a route.
  std::vector<std::string> allowed_hosts;
  int port = 8787;                       // 0 = any free port
  std::size_t max_body = 1 << 20;
  int loops = 0;                         // event-loop threads; 0 = one per core, at most 4
  int threads = 64;                      // at most this many plain handlers at once
  int keep_alive_timeout_s = 30;
  int read_timeout_s = 10;               // a request that stops arriving midway is dropped
  // A request head must be whole this long after its first byte (408 and
  // close otherwise), however steadily its bytes trickle in (slowloris).
  int head_timeout_s = 60;
  std::size_t max_head_bytes = 256 * 1024;  // larger heads get 431 without reaching a handler
  std::size_t max_connections = 10'000;
};

// What the server has done so far, summed over its event loops; for tests
// and diagnostics that memory and work stay bounded.
struct ServerStats {
  std::uint64_t bytes_received = 0;       // request bytes read from clients
  std::uint64_t head_bytes_examined = 0;  // by the head parser: linear in the head bytes received
  // The most one connection held at once: bytes read and not yet parsed,
  // the body being received, and responses not yet sent.
  std::size_t peak_connection_bytes = 0;
  std::uint64_t paused_for_unsent = 0;    // times a connection stopped reading until its client read its responses
  std::uint64_t heads_timed_out = 0;      // heads answered 408 for taking longer than head_timeout_s
};

// Called for every request once its response is written, with how long the
// request took; for access logs.
using AccessLog = std::function<void(const Request& req, const Response& res, double millis)>;

class Server {
public:
  // Handlers may move the body out of the request.
  using Handler = std::function<void(Request&, Response&)>;
  // Answers a request once, from any thread. The request stays valid until
  // then; a reply after the client has gone is dropped.
  using Reply = std::function<void(Response)>;
  // Runs on an event loop, so it must not block: it hands the work on and
  // calls `reply` when done.
  using AsyncHandler = std::function<void(Request&, Reply)>;

  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Requests whose path starts with `prefix` go to `handler`, whatever the
  // method (handlers answer 405 themselves). Longest prefix wins.
  void route(std::string prefix, Handler handler);
  void route_async(std::string prefix, AsyncHandler handler);
  void set_access_log(AccessLog log);

  // Binds the socket (port 0 picks a free one) and returns the bound port.
  Result<int> bind();
  // Serves until stop(); returns after in-flight requests have finished.
  void run();
  // Stops accepting; safe to call from any thread (e.g. a signal watcher).
  void stop();
  // Counters so far; safe to call from any thread, also after run().
  ServerStats stats() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// A JSON body `{"error": code, ...extra}`; never carries internal text.
std::string error_body(std::string_view code, std::string_view reason = {});

} // namespace centrali::http

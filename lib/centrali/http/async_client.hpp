#pragma once
// An event-driven HTTP/1.1 client for plain http:// targets: one thread and
// one epoll set carry every request in flight, so thousands of deliveries
// need no thread each. Keep-alive connections are reused per origin; each
// request has one deadline covering connect, send and receive; redirects are
// not followed. https:// stays with the blocking ClientPool (TLS, certificate
// checks) — callers route by scheme.
#include <functional>
#include <memory>

#include "centrali/http/client.hpp"

namespace centrali::http {

struct AsyncClientOptions {
  std::size_t max_response_body = 64 * 1024;  // kept; the rest is read and dropped
  // Requests beyond wait for a free connection (their deadline runs). A
  // receiver with a thread per connection reads no more connections than
  // it has threads: keep this at or below that.
  int max_connections_per_origin = 8;
};

class AsyncClient {
public:
  // Hears the outcome of one request, on the client's thread: it must be
  // quick (hand work elsewhere) and may call send() again.
  using Done = std::function<void(SendOutcome)>;

  explicit AsyncClient(AsyncClientOptions options = {});
  // Stops; requests still in flight complete with an error.
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Queues `request` (http:// only; anything else completes with an error).
  // Thread-safe. `done` runs exactly once.
  void send(OutboundRequest request, Done done);

  // Fails what is still in flight, closes every connection, joins the thread.
  void stop();

  // Connections opened so far (for tests of keep-alive reuse).
  std::size_t connections_opened() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace centrali::http

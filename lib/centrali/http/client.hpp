#pragma once
// Outbound HTTP for forwards, deliveries and replays, over libcurl. Keeps
// idle keep-alive connections per origin so repeated sends to one endpoint
// reuse them, and lets many threads send at once (each borrows its own
// connection).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "centrali/util/error.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::http {

struct OutboundRequest {
  std::string url;
  std::string method = "POST";
  HeaderList headers;
  std::string body;
  std::string content_type;  // empty: taken from headers, else application/json
  std::chrono::milliseconds timeout{15'000};
  bool insecure = false;     // skip TLS certificate verification
  // Set by the caller once this request should no longer go out (its
  // webhook answered 410 Gone): a request still waiting for a connection
  // then completes unsent, with SendOutcome::withdrawn. One already on the
  // wire is not recalled.
  std::shared_ptr<const std::atomic<bool>> withdrawn;
};

struct OutboundResponse {
  int status = 0;
  HeaderList headers;
  std::string body;          // at most max_response_body bytes
  bool body_truncated = false;
};

// Result of one send: a response, or why there was none (`error` set).
struct SendOutcome {
  std::optional<OutboundResponse> response;
  std::string error;         // "connect to 127.0.0.1:9: connection refused", "timed out after 15s", ...
  std::int64_t duration_ms = 0;
  // The request's headers, handed back by AsyncClient (which owned the
  // request while sending) so a caller that logs them needs no copy. Empty
  // from ClientPool, whose caller still holds its request.
  HeaderList request_headers;
  std::string request_body;  // likewise handed back by AsyncClient
  bool withdrawn = false;    // not sent: the caller withdrew it (OutboundRequest::withdrawn)
};

class ClientPool {
public:
  explicit ClientPool(std::size_t max_response_body = 64 * 1024);
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // Sends one request; never follows redirects. `request.timeout` bounds
  // the whole attempt (connect, send and response); a response head over
  // 64 KiB is an error, and a header that could split the request (CR, LF
  // or NUL in its value, or a name that is not a token) refuses the send
  // before anything is sent. Thread-safe.
  SendOutcome send(const OutboundRequest& request);

private:
  struct Conn;
  std::unique_ptr<Conn> borrow(const std::string& key);
  void give_back(std::unique_ptr<Conn> conn);

  std::size_t m_max_body;
  std::mutex m_mutex;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> m_idle;
};

} // namespace centrali::http

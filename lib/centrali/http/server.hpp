#pragma once
// The HTTP server centrali listens with. This layer (with client.hpp) is
// the only code that includes cpp-httplib; handlers see neutral types.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::http {

struct Request {
  std::string_view method;
  std::string_view path;     // decoded path, no query
  std::string_view target;   // path and query exactly as sent
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
  std::string host = "127.0.0.1";
  int port = 8787;                       // 0 = any free port
  std::size_t max_body = 1 << 20;
  int threads = 64;                      // a keep-alive connection holds one
  int keep_alive_timeout_s = 30;
};

// Called for every request once its response is written, with how long the
// request took; for access logs.
using AccessLog = std::function<void(const Request& req, const Response& res, double millis)>;

class Server {
public:
  // Handlers may move the body out of the request.
  using Handler = std::function<void(Request&, Response&)>;

  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Requests whose path starts with `prefix` go to `handler`, whatever the
  // method (handlers answer 405 themselves). Longest prefix wins.
  void route(std::string prefix, Handler handler);
  void set_access_log(AccessLog log);

  // Binds the socket (port 0 picks a free one) and returns the bound port.
  Result<int> bind();
  // Serves until stop(); returns after in-flight requests have finished.
  void run();
  // Stops accepting; safe to call from any thread (e.g. a signal watcher).
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// A JSON body `{"error": code, ...extra}`; never carries internal text.
std::string error_body(std::string_view code, std::string_view reason = {});

} // namespace centrali::http

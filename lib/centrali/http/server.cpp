#include "centrali/http/server.hpp"

#include <sys/socket.h>

#include <chrono>
#include <map>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace centrali::http {
namespace {

// cpp-httplib fixes the listen backlog at 5, which drops connections under
// a burst of new clients; widen it between bind and listen.
class WideBacklogServer : public httplib::Server {
public:
  void widen_backlog() { ::listen(svr_sock_, 1024); }
};

HeaderList to_header_list(const httplib::Headers& headers, std::size_t& bytes)
{
  HeaderList out;
  out.reserve(headers.size());
  bytes = 0;
  for (const auto& [name, value] : headers) {
    // httplib adds these for its own bookkeeping; they were not sent.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT") continue;
    bytes += name.size() + value.size() + 4;
    out.push_back({name, value});
  }
  return out;
}

// Per-request facts carried from the handler to the access log, which
// cpp-httplib calls on the same thread after writing the response.
struct RequestTrace {
  std::chrono::steady_clock::time_point start;
  Request request;
  Response response;
  bool handled = false;
};
thread_local RequestTrace t_trace;

} // namespace

std::string error_body(std::string_view code, std::string_view reason)
{
  nlohmann::json j = {{"error", code}};
  if (!reason.empty()) j["reason"] = reason;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Server::Impl {
  ServerOptions options;
  WideBacklogServer server;
  std::map<std::string, Handler, std::greater<>> routes;  // longest prefix first
  AccessLog access_log;

  const Handler* find(std::string_view path) const
  {
    for (const auto& [prefix, handler] : routes)
      if (path.substr(0, prefix.size()) == prefix) return &handler;
    return nullptr;
  }

  void dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader)
  {
    auto& trace = t_trace;
    trace.handled = true;
    Request& r = trace.request;
    r = Request{};
    r.method = req.method;
    r.path = req.path;
    r.target = req.target;
    r.remote_addr = req.remote_addr;
    r.headers = to_header_list(req.headers, r.header_bytes);
    if (reader) {
      // Read the raw bytes ourselves: cpp-httplib would otherwise parse
      // multipart bodies into parts, and signatures are over raw bytes.
      bool ok = (*reader)([&](const char* data, std::size_t len) {
        if (r.body.size() + len > options.max_body) {
          r.body_too_large = true;
          return false;
        }
        r.body.append(data, len);
        return true;
      });
      if (!ok || res.status == 413) {
        r.body_too_large = true;
        r.body.clear();
      }
    } else {
      r.body = req.body;
    }
    Response& out = trace.response;
    out = Response{};
    if (const Handler* h = find(r.path)) {
      (*h)(r, out);
    } else {
      out.status = 404;
      out.body = error_body("not_found", "no route for this path");
    }
    if (r.body_too_large) out.headers.push_back({"Connection", "close"});
    res.status = out.status;
    for (const auto& h : out.headers) res.set_header(h.name, h.value);
    res.set_content(out.body, out.content_type);
  }
};

Server::Server(ServerOptions options) : m_impl(std::make_unique<Impl>())
{
  m_impl->options = std::move(options);
  auto& svr = m_impl->server;
  auto& opts = m_impl->options;
  // Without TCP_NODELAY each response waits ~40 ms for a delayed ACK.
  svr.set_tcp_nodelay(true);
  int threads = opts.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  svr.set_keep_alive_max_count(1'000'000);
  svr.set_keep_alive_timeout(opts.keep_alive_timeout_s);
  svr.set_read_timeout(10, 0);
  svr.set_write_timeout(10, 0);
  svr.set_idle_interval(0, 100'000);  // notice stop() within 100 ms on idle keep-alive connections
  svr.set_payload_max_length(opts.max_body);
  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_trace.start = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Never let an exception's text reach the client (cpp-httplib would put
  // it in an EXCEPTION_WHAT header).
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(error_body("internal_error"), "application/json");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = "error";
    switch (res.status) {
    case 400: code = "bad_request"; break;
    case 404: code = "not_found"; break;
    case 405: code = "method_not_allowed"; break;
    case 413: code = "payload_too_large"; break;
    case 414: code = "uri_too_long"; break;
    default: break;
    }
    res.set_content(error_body(code), "application/json");
  });
  auto plain = [this](const httplib::Request& req, httplib::Response& res) { m_impl->dispatch(req, res, nullptr); };
  auto with_reader = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) { m_impl->dispatch(req, res, &reader); };
  svr.Get(".*", plain);
  svr.Options(".*", plain);
  svr.Post(".*", with_reader);
  svr.Put(".*", with_reader);
  svr.Patch(".*", with_reader);
  svr.Delete(".*", with_reader);
  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    auto& trace = t_trace;
    if (!m_impl->access_log) return;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - trace.start).count();
    if (trace.handled) {
      trace.handled = false;
      trace.response.status = res.status;
      m_impl->access_log(trace.request, trace.response, ms);
      return;
    }
    // Refused by cpp-httplib before any handler ran (malformed request).
    Request r;
    r.method = req.method;
    r.path = req.path;
    r.target = req.target;
    r.remote_addr = req.remote_addr;
    Response out;
    out.status = res.status;
    m_impl->access_log(r, out, ms);
  });
}

Server::~Server() = default;

void Server::route(std::string prefix, Handler handler)
{
  m_impl->routes[std::move(prefix)] = std::move(handler);
}

void Server::set_access_log(AccessLog log)
{
  m_impl->access_log = std::move(log);
}

Result<int> Server::bind()
{
  auto& opts = m_impl->options;
  int port = opts.port;
  if (port == 0) {
    port = m_impl->server.bind_to_any_port(opts.host);
    if (port < 0) return fail(ErrorKind::network, "cannot bind " + opts.host + ": no free port");
  } else if (!m_impl->server.bind_to_port(opts.host, port)) {
    return fail(ErrorKind::network, "cannot listen on " + opts.host + ":" + std::to_string(port) +
                                        " (address in use, or not an address of this machine)");
  }
  m_impl->server.widen_backlog();
  return port;
}

void Server::run()
{
  m_impl->server.listen_after_bind();
}

void Server::stop()
{
  m_impl->server.stop();
}

} // namespace centrali::http

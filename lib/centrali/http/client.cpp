#include "centrali/http/client.hpp"

#include <httplib.h>

#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"

namespace centrali::http {
namespace {

// Bodies past this are read and dropped so the connection stays reusable;
// past the hard cap the connection is abandoned instead.
constexpr std::size_t k_drain_cap = 8 << 20;

std::string describe(httplib::Error error, const Url& url, std::chrono::milliseconds timeout, std::int64_t elapsed)
{
  auto where = url.host + ":" + std::to_string(url.port);
  switch (error) {
  case httplib::Error::Connection: return "connect to " + where + ": connection refused or host unreachable";
  case httplib::Error::ConnectionTimeout:
    return "connect to " + where + ": timed out after " + timeutil::format_duration(timeout);
  case httplib::Error::BindIPAddress: return "cannot bind local address for " + where;
  case httplib::Error::Read:
    if (elapsed + 50 >= timeout.count())
      return "timed out after " + timeutil::format_duration(timeout) + " waiting for " + where;
    return "connection to " + where + " closed before a complete response";
  case httplib::Error::Write: return "connection to " + where + " closed while sending the request";
  case httplib::Error::SSLConnection: return "TLS handshake with " + where + " failed";
  case httplib::Error::SSLLoadingCerts: return "cannot load the system CA certificates";
  case httplib::Error::SSLServerVerification:
    return "TLS certificate of " + where + " failed verification (use --insecure for self-signed local servers)";
  case httplib::Error::Compression: return "cannot decompress the response from " + where;
  case httplib::Error::Canceled: return "response from " + where + " too large";
  default: return "request to " + where + " failed";
  }
}

} // namespace

struct ClientPool::Conn {
  std::string origin;
  bool insecure = false;
  std::unique_ptr<httplib::Client> client;
};

ClientPool::ClientPool(std::size_t max_response_body) : m_max_body(max_response_body) {}
ClientPool::~ClientPool() = default;

std::unique_ptr<ClientPool::Conn> ClientPool::borrow(const std::string& origin, bool insecure)
{
  {
    std::lock_guard lock(m_mutex);
    auto& idle = m_idle[origin + (insecure ? "#insecure" : "")];
    if (!idle.empty()) {
      auto conn = std::move(idle.back());
      idle.pop_back();
      return conn;
    }
  }
  auto conn = std::make_unique<Conn>();
  conn->origin = origin;
  conn->insecure = insecure;
  conn->client = std::make_unique<httplib::Client>(origin);
  conn->client->set_keep_alive(true);
  conn->client->set_tcp_nodelay(true);
  conn->client->set_follow_location(false);
  conn->client->enable_server_certificate_verification(!insecure);
  return conn;
}

void ClientPool::give_back(std::unique_ptr<Conn> conn)
{
  std::lock_guard lock(m_mutex);
  auto& idle = m_idle[conn->origin + (conn->insecure ? "#insecure" : "")];
  if (idle.size() < 64) idle.push_back(std::move(conn));
}

SendOutcome ClientPool::send(const OutboundRequest& request)
{
  SendOutcome outcome;
  auto started = timeutil::now_ms();
  auto url = parse_url(request.url);
  if (!url) {
    outcome.error = url.error().message;
    return outcome;
  }
  auto conn = borrow(url->origin(), request.insecure);
  auto& client = *conn->client;
  auto seconds = std::chrono::duration_cast<std::chrono::microseconds>(request.timeout);
  client.set_connection_timeout(std::min(seconds, std::chrono::microseconds(10'000'000)));
  client.set_read_timeout(seconds);
  client.set_write_timeout(seconds);

  httplib::Request req;
  req.method = request.method;
  req.path = url->target;
  std::string content_type = request.content_type;
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Content-Type")) {
      if (content_type.empty()) content_type = h.value;
      continue;
    }
    req.headers.emplace(h.name, h.value);
  }
  if (content_type.empty()) content_type = "application/json";
  req.headers.emplace("Content-Type", content_type);
  req.body = request.body;

  // One deadline for the whole attempt, as in the event-driven client:
  // cpp-httplib's timeouts are per read, so a server trickling bytes could
  // otherwise hold the attempt (and this thread) far past it, and a 2xx
  // that arrives late would count as a success.
  const auto deadline = started + request.timeout.count();
  bool late = false;
  httplib::Response res;
  std::string body;
  bool truncated = false;
  std::size_t seen = 0;
  req.content_receiver = [&](const char* data, std::size_t len, uint64_t, uint64_t) {
    if (timeutil::now_ms() > deadline) {
      late = true;
      return false;
    }
    seen += len;
    if (body.size() < m_max_body) {
      auto take = std::min(len, m_max_body - body.size());
      body.append(data, take);
      if (take < len) truncated = true;
    } else {
      truncated = true;
    }
    return seen <= k_drain_cap;
  };
  httplib::Error error = httplib::Error::Success;
  bool ok = client.send(req, res, error);
  outcome.duration_ms = timeutil::now_ms() - started;
  if (late || outcome.duration_ms > request.timeout.count()) {
    outcome.error = "timed out after " + timeutil::format_duration(request.timeout) + " waiting for " + url->host +
                    ":" + std::to_string(url->port);
    return outcome;  // nor is a connection left mid-response
  }
  if (ok || (error == httplib::Error::Canceled && res.status > 0)) {
    OutboundResponse out;
    out.status = res.status;
    for (const auto& [name, value] : res.headers) out.headers.push_back({name, value});
    out.body = std::move(body);
    out.body_truncated = truncated;
    outcome.response = std::move(out);
    if (ok) give_back(std::move(conn));
    return outcome;
  }
  outcome.error = describe(error, *url, request.timeout, outcome.duration_ms);
  return outcome;  // a failed connection is not reused
}

} // namespace centrali::http

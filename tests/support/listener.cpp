#include "listener.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.hpp"

namespace testing {

Sent post(const std::string& url, const std::string& path, const std::string& body,
          const std::vector<std::pair<std::string, std::string>>& headers, const std::string& content_type)
{
  httplib::Client client(url);
  client.set_read_timeout(30, 0);
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  auto res = client.Post(path.c_str(), h, body, content_type.c_str());
  Sent out;
  if (res) {
    out.status = res->status;
    out.body = res->body;
    out.headers = res->headers;
  }
  return out;
}

Sent get(const std::string& url, const std::string& path)
{
  httplib::Client client(url);
  auto res = client.Get(path.c_str());
  Sent out;
  if (res) {
    out.status = res->status;
    out.body = res->body;
    out.headers = res->headers;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> sign(const std::string& scheme, const std::string& secret,
                                                      const std::string& body, const std::vector<std::string>& extra)
{
  std::vector<std::string> args{"sign", "--scheme", scheme, "--secret", secret};
  args.insert(args.end(), extra.begin(), extra.end());
  RunOptions opts;
  opts.stdin_data = body;
  if (body.empty()) args.insert(args.end(), {"--data", ""});
  auto r = centrali(args, opts);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    auto line = r.out.substr(start, end - start);
    auto colon = line.find(": ");
    if (colon != std::string::npos) headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    start = end + 1;
  }
  return headers;
}

Listen::Listen(const std::string& store, const std::vector<std::string>& extra, const RunOptions& options)
{
  std::vector<std::string> argv{centrali_binary(), "--store", store, "listen", "--port", "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  m_process = std::make_unique<Background>(argv, options);
  auto line = m_process->read_line();
  INFO("stderr: " << m_process->err());
  REQUIRE(line);
  m_url = url_in_line(*line);
  REQUIRE(!m_url.empty());
}

Receiver::Receiver(int port)
{
  m_server.set_tcp_nodelay(true);
  m_server.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(m_mutex);
      m_got.push_back({req.path, req.body, req.headers});
    }
    res.status = status.load();
    res.set_content("{\"ok\":true}", "application/json");
  });
  if (port == 0) {
    m_port = m_server.bind_to_any_port("127.0.0.1");
  } else {
    // A port a RefusingPort holds: cpp-httplib's SO_REUSEPORT shares it.
    m_port = port;
    REQUIRE(m_server.bind_to_port("127.0.0.1", port));
  }
  REQUIRE(m_port > 0);
  m_thread = std::thread([this] { m_server.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the server runs (see HttplibServer).
  for (int i = 0; i < 10'000 && !m_server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(m_server.is_running());
}

Receiver::~Receiver()
{
  m_server.stop();
  if (m_thread.joinable()) m_thread.join();
}

std::string Receiver::url(const std::string& path) const
{
  return "http://127.0.0.1:" + std::to_string(m_port) + path;
}

std::vector<Receiver::Got> Receiver::received()
{
  std::lock_guard lock(m_mutex);
  return m_got;
}

bool Receiver::wait_for(std::size_t n, std::chrono::milliseconds timeout)
{
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(m_mutex);
      if (m_got.size() >= n) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int unused_port()
{
  return unused_loopback_port();
}

} // namespace testing

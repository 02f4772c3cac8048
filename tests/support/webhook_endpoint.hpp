#pragma once
// Outbound webhook tests through the built binary: a receiver whose answers
// are scripted per request, and the CLI steps those tests repeat.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "wait.hpp"
#include "independent_signatures.hpp"
#include "process.hpp"

namespace testing::webhooks {

using json = nlohmann::json;

inline bool standard_webhooks_valid(const std::string& secret, const httplib::Request& req)
{
  return testing::standard_webhooks_valid(secret, req.get_header_value("webhook-id"),
                                          req.get_header_value("webhook-timestamp"),
                                          req.get_header_value("webhook-signature"), req.body);
}

// A receiver whose behaviour per request is a function of the request count.
class Endpoint {
public:
  using Behaviour = std::function<void(int n, const httplib::Request&, httplib::Response&)>;
  explicit Endpoint(Behaviour behaviour = {}) : m_behaviour(std::move(behaviour))
  {
    m_server.set_tcp_nodelay(true);
    // A keep-alive connection holds a server thread: enough for every
    // connection the senders may open at once (8 per process to one origin;
    // with cpp-httplib's 8 threads, three senders' requests waited past
    // their timeout, and the retry met the original at the receiver).
    m_server.new_task_queue = [] { return new httplib::ThreadPool(80); };
    m_server.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      int n;
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(req);
        m_times.push_back(std::chrono::steady_clock::now());
        n = static_cast<int>(m_requests.size());
      }
      res.status = 200;
      res.set_content("{\"ok\":true}", "application/json");
      if (m_behaviour) m_behaviour(n, req, res);
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    REQUIRE(testing::wait_until([this] { return m_server.is_running(); }, std::chrono::seconds(20), std::chrono::milliseconds(1)));  // see HttplibServer
  }
  ~Endpoint()
  {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }
  std::vector<httplib::Request> requests()
  {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  std::vector<std::chrono::steady_clock::time_point> times()
  {
    std::lock_guard lock(m_mutex);
    return m_times;
  }

private:
  Behaviour m_behaviour;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  std::vector<httplib::Request> m_requests;
  std::vector<std::chrono::steady_clock::time_point> m_times;
};

struct Hook {
  std::string id;
  std::string secret;
};

inline Hook add_webhook(const std::string& store, const std::string& url, std::vector<std::string> extra = {})
{
  std::vector<std::string> args{"--store", store, "--json", "webhooks", "add", "--url", url, "--events", "order.*"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = centrali(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  return {j["id"], j["secret"]};
}

inline std::string emit(const std::string& store, const std::string& type, const std::string& data)
{
  auto r = centrali({"--store", store, "events", "emit", type, "--data", data});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

inline json deliveries(const std::string& store, std::vector<std::string> extra = {})
{
  std::vector<std::string> args{"--store", store, "--json", "deliveries", "list", "--limit", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = centrali(args);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

inline json show_delivery(const std::string& store, const std::string& id)
{
  auto r = centrali({"--store", store, "--json", "deliveries", "show", id});
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}


} // namespace testing::webhooks

#pragma once
// Test support for the listener: start `centrali listen` on port 0 with a
// temp store, send real HTTP requests to it, and run a local receiver.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "process.hpp"

namespace testing {

struct Sent {
  int status = 0;  // 0 when no response arrived
  std::string body;
  httplib::Headers headers;
};

// POSTs `body` with `headers` to `url` + `path` on a fresh connection.
Sent post(const std::string& url, const std::string& path, const std::string& body,
          const std::vector<std::pair<std::string, std::string>>& headers = {},
          const std::string& content_type = "application/json");
Sent get(const std::string& url, const std::string& path);

// `centrali sign ...` as `Name: value` pairs (fails the test on error).
std::vector<std::pair<std::string, std::string>> sign(const std::string& scheme, const std::string& secret,
                                                      const std::string& body,
                                                      const std::vector<std::string>& extra = {});

// A running `centrali listen --port 0` on `store` (+ extra args).
class Listen {
public:
  Listen(const std::string& store, const std::vector<std::string>& extra = {}, const RunOptions& options = {});
  const std::string& url() const { return m_url; }
  Background& process() { return *m_process; }

private:
  std::unique_ptr<Background> m_process;
  std::string m_url;
};

// A local HTTP receiver on port 0 that records what it gets and answers
// with `status` (changeable while it runs).
class Receiver {
public:
  struct Got {
    std::string path;
    std::string body;
    httplib::Headers headers;
  };
  // On port 0, or on a port a RefusingPort holds (the app comes up late).
  explicit Receiver(int port = 0);
  ~Receiver();
  int port() const { return m_port; }
  std::string url(const std::string& path = "/hook") const;
  std::vector<Got> received();
  // Waits until at least `n` requests arrived; false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::atomic<int> status{200};

private:
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  std::vector<Got> m_got;
};

// A port that was free a moment ago. Racy (another process may take it):
// prefer a RefusingPort (loopback.hpp) for "the receiver is down".
int unused_port();

} // namespace testing

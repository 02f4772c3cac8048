#pragma once
// A cpp-httplib server on 127.0.0.1 (port 0) for tests that need an ordinary
// keep-alive HTTP endpoint: POSTs to any path run `handler` on the server's
// threads. Header-only, so unit and binary tests can both use it.
#include <sys/socket.h>

#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "wait.hpp"

namespace testing {

// cpp-httplib listens with a backlog of 5: a burst of connects beyond that
// waits for SYN retransmits. Widen it as centrali's own listener does.
class WideServer : public httplib::Server {
public:
  void widen() { ::listen(svr_sock_, 1024); }
};

// A cpp-httplib server on 127.0.0.1 (port 0) running `handler` for POSTs.
class HttplibServer {
public:
  explicit HttplibServer(std::function<void(const httplib::Request&, httplib::Response&)> handler)
  {
    m_server.set_tcp_nodelay(true);
    m_server.set_keep_alive_max_count(1000);
    // A keep-alive connection holds a server thread: enough for every
    // connection the client may open to one origin.
    m_server.new_task_queue = [] { return new httplib::ThreadPool(80); };
    m_server.Post(".*", std::move(handler));
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_server.widen();
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    // cpp-httplib's stop() does nothing until the server runs: a test that
    // ends before the thread got that far would wait in join() for ever.
    REQUIRE(testing::wait_until([this] { return m_server.is_running(); }, std::chrono::seconds(20), std::chrono::milliseconds(1)));
  }
  ~HttplibServer()
  {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }

private:
  WideServer m_server;
  int m_port = 0;
  std::thread m_thread;
};

} // namespace testing

// The ceiling for ingestion: cpp-httplib configured exactly as centrali's
// listener (TCP_NODELAY, 64 threads, long keep-alive, backlog 1024), whose
// handler answers 202 and does nothing else. Prints its port, serves until killed.
#include <sys/socket.h>

#include <cstdio>

#include <httplib.h>

class Wide : public httplib::Server {
public:
  void widen() { ::listen(svr_sock_, 1024); }
};

int main()
{
  Wide svr;
  svr.set_tcp_nodelay(true);
  svr.new_task_queue = [] { return new httplib::ThreadPool(64); };
  svr.set_keep_alive_max_count(1'000'000);
  svr.set_keep_alive_timeout(30);
  svr.Post(".*", [](const httplib::Request&, httplib::Response& res) {
    res.status = 202;
    res.set_content(R"({"status":"queued","id":"evt_01M8EBXYN10QJ5SGBQY2B0FWQB"})", "application/json");
  });
  int port = svr.bind_to_any_port("127.0.0.1");
  svr.widen();
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  svr.listen_after_bind();
}

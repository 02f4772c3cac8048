// The blocking client (https:// deliveries, `webhooks test`, resend and
// replay) against raw loopback servers that misbehave on purpose.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "centrali/http/client.hpp"
#include "raw_server.hpp"

using namespace centrali;
using testing::RawServer;
using testing::read_request;
using testing::write_all;

namespace {

http::SendOutcome send(const std::string& url, std::chrono::milliseconds timeout)
{
  http::ClientPool clients;
  http::OutboundRequest request;
  request.url = url;
  request.method = "POST";
  request.body = R"({"type":"order.created"})";
  request.timeout = timeout;
  return clients.send(request);
}

// Writes `bytes` one at a time, `gap` apart: every read finishes well within
// any per-read timeout.
void trickle(int fd, const std::string& bytes, std::chrono::milliseconds gap, const std::atomic<bool>& stop)
{
  for (std::size_t i = 0; !stop && i < bytes.size(); ++i) {
    write_all(fd, std::string(1, bytes[i]));
    std::this_thread::sleep_for(gap);
  }
}

} // namespace

TEST_CASE("http::ClientPool gives up on a body trickling past the attempt's timeout", "[http]")
{
  std::atomic<bool> stop{false};
  RawServer server([&](int fd) {
    if (read_request(fd))
      trickle(fd, "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + std::string(20'000, 'x'),
              std::chrono::milliseconds(20), stop);
    ::close(fd);
  });
  auto started = std::chrono::steady_clock::now();
  auto out = send(server.url(), std::chrono::milliseconds(600));
  auto took = std::chrono::steady_clock::now() - started;
  stop = true;
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("timed out after 600ms waiting for 127.0.0.1:"));
  // Released near the deadline, not when the body ends (20,000 × 20 ms).
  CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("http::ClientPool counts a 2xx that completes after the timeout as a timeout", "[http]")
{
  // The head arrives in pieces 150 ms apart, each within a per-read timeout
  // of 400 ms, and is complete after about 1.2 s.
  std::atomic<bool> stop{false};
  RawServer server([&](int fd) {
    if (read_request(fd)) {
      for (const char* part : {"HTTP/1.1 200 OK\r\n", "A: 1\r\n", "B: 2\r\n", "C: 3\r\n", "D: 4\r\n", "E: 5\r\n",
                               "F: 6\r\n", "Content-Length: 2\r\n\r\nok"}) {
        if (stop) break;
        write_all(fd, part);
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
      }
    }
    ::close(fd);
  });
  auto out = send(server.url(), std::chrono::milliseconds(400));
  stop = true;
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("timed out after 400ms"));
}

TEST_CASE("http::ClientPool returns a response that arrives within the timeout", "[http]")
{
  RawServer server([](int fd) {
    if (read_request(fd)) write_all(fd, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    ::close(fd);
  });
  auto out = send(server.url(), std::chrono::milliseconds(2'000));
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 204);
}

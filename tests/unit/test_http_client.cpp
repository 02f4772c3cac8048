// The blocking client (https:// deliveries, `webhooks test`, resend and
// replay) against raw loopback servers that misbehave on purpose.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "centrali/http/client.hpp"
#include "raw_server.hpp"
#include "tls_server.hpp"

using namespace centrali;
using testing::RawServer;
using testing::read_request;
using testing::TlsServer;
using testing::tls_read_request;
using testing::tls_write_all;
using testing::write_all;
using namespace std::chrono_literals;

namespace {

http::OutboundRequest make_request(const std::string& url, std::chrono::milliseconds timeout)
{
  http::OutboundRequest request;
  request.url = url;
  request.method = "POST";
  request.body = R"({"type":"order.created"})";
  request.timeout = timeout;
  request.insecure = url.starts_with("https:");  // TlsServer's certificate is self-signed
  return request;
}

http::SendOutcome send(const std::string& url, std::chrono::milliseconds timeout)
{
  http::ClientPool clients;
  return clients.send(make_request(url, timeout));
}

// Resident memory of this process, in KiB (VmRSS).
long resident_kib()
{
  std::ifstream status("/proc/self/status");
  std::string word;
  while (status >> word)
    if (word == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
  return -1;
}

// Answers every request on the connection with `response`, keeping each
// request's bytes for the test to look at.
struct Recorder {
  std::mutex mutex;
  std::vector<std::string> requests;

  void serve(SSL* ssl, const std::string& response)
  {
    while (auto request = tls_read_request(ssl)) {
      {
        std::lock_guard lock(mutex);
        requests.push_back(*request);
      }
      if (!tls_write_all(ssl, response)) return;
    }
  }
  std::vector<std::string> seen()
  {
    std::lock_guard lock(mutex);
    return requests;
  }
};

// Writes `bytes` one at a time, `gap` apart: every read finishes well within
// any per-read timeout.
void trickle(int fd, const std::string& bytes, std::chrono::milliseconds gap, const std::atomic<bool>& stop,
             std::atomic<std::size_t>& written)
{
  for (std::size_t i = 0; !stop && i < bytes.size(); ++i) {
    write_all(fd, std::string(1, bytes[i]));
    ++written;
    std::this_thread::sleep_for(gap);
  }
}

} // namespace

TEST_CASE("http::ClientPool gives up on a body trickling past the attempt's timeout", "[http]")
{
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> written{0};
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + std::string(20'000, 'x');
  RawServer server([&](int fd) {
    if (read_request(fd)) trickle(fd, response, std::chrono::milliseconds(20), stop, written);
    ::close(fd);
  });
  auto out = send(server.url(), std::chrono::milliseconds(600));
  const std::size_t written_when_released = written;
  stop = true;
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("timed out after 600ms waiting for 127.0.0.1:"));
  // Released at the deadline, not when the body ends: most of it was still
  // to come (how near the deadline is bench/timings.sh's).
  CHECK(written_when_released < response.size() / 2);
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

TEST_CASE("http::ClientPool stops reading an HTTPS response head past 64 KiB", "[http]")
{
  // The receiver streams header lines for as long as anyone reads them.
  std::atomic<bool> stop{false};
  TlsServer server([&](SSL* ssl) {
    if (!tls_read_request(ssl) || !tls_write_all(ssl, "HTTP/1.1 200 OK\r\n")) return;
    const std::string fill(1000, 'a');
    for (long i = 0; !stop; ++i)
      if (!tls_write_all(ssl, "X-Fill-" + std::to_string(i) + ": " + fill + "\r\n")) return;
  });
  auto before = resident_kib();
  auto out = send(server.url(), 5s);
  auto grown_kib = resident_kib() - before;
  stop = true;
  CHECK_FALSE(out.response);
  // At the cap, not at the timeout: the error says which.
  CHECK_THAT(out.error, Catch::Contains("response headers from 127.0.0.1:") && Catch::Contains("over 64 KiB"));
  CHECK(out.error.find("timed out") == std::string::npos);
  CHECK(grown_kib < 32 * 1024);
}

TEST_CASE("http::ClientPool ends an HTTPS attempt whose response trickles in at the timeout", "[http]")
{
  // A byte every 200 ms: every read is quick, the whole response takes 8 s.
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> written{0};
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  TlsServer server([&](SSL* ssl) {
    if (!tls_read_request(ssl)) return;
    for (char c : response) {
      if (stop || !tls_write_all(ssl, std::string(1, c))) return;
      ++written;
      std::this_thread::sleep_for(200ms);
    }
  });
  auto out = send(server.url(), 1s);
  const std::size_t written_when_released = written;
  stop = true;
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("timed out after 1s waiting for 127.0.0.1:"));
  // Released at the deadline, not when the response ends (bench/timings.sh
  // measures how near the deadline).
  CHECK(written_when_released < response.size());
}

TEST_CASE("http::ClientPool refuses a header value holding CR LF and sends nothing of it", "[http]")
{
  Recorder recorder;
  TlsServer server([&](SSL* ssl) { recorder.serve(ssl, "HTTP/1.1 204 No Content\r\n\r\n"); });
  http::ClientPool clients;
  auto injected = make_request(server.url(), 5s);
  injected.headers.push_back({"X-Event-Type", "order.paid\r\nX-Injected: yes"});
  auto out = clients.send(injected);
  CHECK_FALSE(out.response);
  CHECK(out.error == "refused to send header 'X-Event-Type': its value holds a line break or NUL");
  CHECK(server.accepted() == 0);

  // The same pool then sends a clean request, and that is all the receiver got.
  auto clean = make_request(server.url(), 5s);
  clean.headers.push_back({"X-Event-Type", "order.paid"});
  auto ok = clients.send(clean);
  INFO(ok.error);
  REQUIRE(ok.response);
  CHECK(ok.response->status == 204);
  auto seen = recorder.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].find("X-Event-Type: order.paid\r\n") != std::string::npos);
  CHECK(seen[0].find("X-Injected") == std::string::npos);
}

TEST_CASE("http::ClientPool refuses a NUL in a header value, a header name or method that is no token, a URL with CR LF", "[http]")
{
  TlsServer server([](SSL* ssl) {
    if (tls_read_request(ssl)) tls_write_all(ssl, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  http::ClientPool clients;
  auto nul = make_request(server.url(), 5s);
  nul.headers.push_back({"X-Trace", std::string("a\0b", 3)});
  CHECK(clients.send(nul).error == "refused to send header 'X-Trace': its value holds a line break or NUL");

  auto spaced = make_request(server.url(), 5s);
  spaced.headers.push_back({"X Trace", "a"});
  CHECK(clients.send(spaced).error == "refused to send header 'X Trace': not a valid header name");

  // The name is shown escaped: the message is printed and stored.
  auto split = make_request(server.url(), 5s);
  split.headers.push_back({"X-A\r\nX-Injected", "yes"});
  CHECK(clients.send(split).error == "refused to send header 'X-A\\x0d\\x0aX-Injected': not a valid header name");

  auto content_type = make_request(server.url(), 5s);
  content_type.content_type = "text/plain\r\nX-Injected: yes";
  CHECK(clients.send(content_type).error ==
        "refused to send header 'Content-Type': its value holds a line break or NUL");

  // The request line is written as given too.
  auto method = make_request(server.url(), 5s);
  method.method = "POST /other HTTP/1.1\r\nX-Injected: yes\r\n\r\nPOST";
  CHECK_THAT(clients.send(method).error, Catch::StartsWith("refused to send method 'POST /other HTTP/1.1\\x0d\\x0a"));
  auto target = make_request(server.url() + "\r\nX-Injected: yes", 5s);
  CHECK_THAT(clients.send(target).error, Catch::StartsWith("invalid URL '") && Catch::Contains("\\x0d\\x0aX-Injected"));
  CHECK(server.accepted() == 0);
}

TEST_CASE("http::ClientPool reuses its HTTPS connection and sets the framing headers itself", "[http]")
{
  Recorder recorder;
  TlsServer server([&](SSL* ssl) { recorder.serve(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
  http::ClientPool clients;
  auto request = make_request(server.url(), 10s);
  // Framing copied from elsewhere (a stored request) must not reach the wire.
  request.headers = {{"Host", "elsewhere.example"}, {"Content-Length", "1"}, {"Transfer-Encoding", "chunked"},
                     {"Connection", "close"},       {"X-Custom", "1"},      {"X-Empty", ""}};
  request.body = std::string(2 << 20, 'x');  // big enough for libcurl to want Expect: 100-continue
  for (int i = 0; i < 2; ++i) {
    auto out = clients.send(request);
    INFO(out.error);
    REQUIRE(out.response);
    CHECK(out.response->status == 200);
    CHECK(out.response->body == "ok");
  }
  CHECK(server.accepted() == 1);
  auto seen = recorder.seen();
  REQUIRE(seen.size() == 2);
  auto head = seen[1].substr(0, seen[1].find("\r\n\r\n") + 2);
  CHECK_THAT(head, Catch::StartsWith("POST /hook HTTP/1.1\r\n"));
  auto port = server.url().substr(std::string("https://127.0.0.1:").size());
  CHECK(head.find("\r\nHost: 127.0.0.1:" + port.substr(0, port.find('/')) + "\r\n") != std::string::npos);
  CHECK(head.find("\r\nContent-Length: 2097152\r\n") != std::string::npos);
  CHECK(head.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  CHECK(head.find("\r\nX-Custom: 1\r\n") != std::string::npos);
  CHECK(head.find("\r\nX-Empty:") != std::string::npos);
  for (const char* absent : {"elsewhere", "Transfer-Encoding", "Connection", "Expect", "Accept"})
    CHECK_THAT(head, !Catch::Contains(absent, Catch::CaseSensitive::No));
}

TEST_CASE("http::ClientPool keeps the final response's headers after an interim 1xx", "[http]")
{
  RawServer server([](int fd) {
    if (read_request(fd))
      write_all(fd, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok");
    ::close(fd);
  });
  auto out = send(server.url(), 2s);
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 201);
  CHECK(out.response->body == "ok");
  REQUIRE(out.response->headers.size() == 2);
  CHECK(out.response->headers[0].name == "X-A");
  CHECK(out.response->headers[0].value == "1");
  CHECK(out.response->headers[1].name == "Content-Length");
}

TEST_CASE("http::ClientPool keeps max_response_body bytes of a longer body and says it was cut", "[http]")
{
  RawServer server([](int fd) {
    if (read_request(fd)) write_all(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'e'));
    ::close(fd);
  });
  http::ClientPool clients(16);
  auto out = clients.send(make_request(server.url(), 2s));
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 500);
  CHECK(out.response->body == std::string(16, 'e'));
  CHECK(out.response->body_truncated);
}

TEST_CASE("http::ClientPool does not follow a redirect: the 3xx is the answer, and the new location gets nothing",
          "[http]")
{
  // A receiver that moved: a redirect for the webhook's path, a 200 for the
  // place it points to. Following it would send the signed delivery to a
  // URL nobody configured and count the move as a success.
  std::atomic<int> to_old{0};
  std::atomic<int> to_new{0};
  TlsServer server([&](SSL* ssl) {
    while (auto request = tls_read_request(ssl)) {
      if (request->rfind("POST /moved", 0) == 0) {
        ++to_new;
        if (!tls_write_all(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) return;
      } else {
        ++to_old;
        if (!tls_write_all(ssl, "HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n")) return;
      }
    }
  });
  auto out = send(server.url(), 5s);
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 302);
  CHECK(to_old == 1);
  CHECK(to_new == 0);
}

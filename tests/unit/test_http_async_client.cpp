// The event-driven HTTP client against real loopback servers: cpp-httplib
// for ordinary keep-alive traffic, and raw sockets that answer exactly the
// bytes a case needs (chunked, close-delimited, cut short, trickling).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "centrali/http/async_client.hpp"
#include "centrali/http/response_parser.hpp"
#include "loopback.hpp"
#include "httplib_server.hpp"
#include "raw_server.hpp"

using namespace centrali;

using testing::HttplibServer;
using testing::RawServer;
using testing::read_request;
using testing::write_all;

namespace {

http::SendOutcome send_and_wait(http::AsyncClient& client, const std::string& url,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
  http::OutboundRequest request;
  request.url = url;
  request.body = R"({"type":"order.created"})";
  request.headers = {{"webhook-id", "msg_1"}};
  request.timeout = timeout;
  std::promise<http::SendOutcome> done;
  auto future = done.get_future();
  client.send(std::move(request), [&done](http::SendOutcome outcome) { done.set_value(std::move(outcome)); });
  return future.get();
}

// Sends `count` requests at once, each with a deadline long enough that
// only a request nobody serves reaches it; the outcomes in sending order.
std::vector<http::SendOutcome> send_all(http::AsyncClient& client, const std::string& url, int count)
{
  std::vector<std::promise<http::SendOutcome>> promises(static_cast<std::size_t>(count));
  std::vector<std::future<http::SendOutcome>> futures;
  for (auto& p : promises) {
    futures.push_back(p.get_future());
    http::OutboundRequest request;
    request.url = url;
    request.body = "{}";
    request.timeout = std::chrono::seconds(30);
    client.send(std::move(request), [&p](http::SendOutcome o) { p.set_value(std::move(o)); });
  }
  std::vector<http::SendOutcome> outcomes;
  for (auto& f : futures) outcomes.push_back(f.get());
  return outcomes;
}

// Every outcome is an error saying `expected`, and none a timeout.
void check_all_failed_with(const std::vector<http::SendOutcome>& outcomes, const std::string& expected)
{
  std::size_t as_expected = 0;
  int timed_out = 0;
  for (const auto& out : outcomes) {
    CHECK_FALSE(out.response);
    if (out.error.find("timed out") != std::string::npos) ++timed_out;
    if (out.error.find(expected) != std::string::npos) ++as_expected;
    else UNSCOPED_INFO(out.error);
  }
  CHECK(timed_out == 0);
  CHECK(as_expected == outcomes.size());
}

} // namespace

TEST_CASE("http::AsyncClient reuses one keep-alive connection for requests in sequence", "[http]")
{
  std::atomic<int> seen{0};
  std::string last_body, last_id;
  HttplibServer server([&](const httplib::Request& req, httplib::Response& res) {
    ++seen;
    last_body = req.body;
    last_id = req.get_header_value("webhook-id");
    res.status = 202;
    res.set_content("queued", "text/plain");
  });
  http::AsyncClient client;
  for (int i = 0; i < 5; ++i) {
    auto out = send_and_wait(client, server.url());
    INFO(out.error);
    REQUIRE(out.response);
    CHECK(out.response->status == 202);
    CHECK(out.response->body == "queued");
  }
  CHECK(seen == 5);
  CHECK(last_body == R"({"type":"order.created"})");
  CHECK(last_id == "msg_1");
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("http::AsyncClient reads a chunked response body", "[http]")
{
  RawServer server([](int fd) {
    if (read_request(fd))
      write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Test: yes\r\n\r\n"
                    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n");
    ::close(fd);
  });
  http::AsyncClient client;
  auto out = send_and_wait(client, server.url());
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 200);
  CHECK(out.response->body == "hello world");
  CHECK_FALSE(out.response->body_truncated);
  REQUIRE(find_header(out.response->headers, "x-test"));
  CHECK(*find_header(out.response->headers, "x-test") == "yes");
}

TEST_CASE("http::AsyncClient reads a body that ends when the server closes", "[http]")
{
  RawServer server([](int fd) {
    if (read_request(fd)) write_all(fd, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n\r\nbusy, come back later");
    ::close(fd);
  });
  http::AsyncClient client;
  auto out = send_and_wait(client, server.url());
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 503);
  CHECK(out.response->body == "busy, come back later");
  REQUIRE(find_header(out.response->headers, "Retry-After"));
}

TEST_CASE("http::AsyncClient keeps the first 64 KiB of a large body and can reuse the connection", "[http]")
{
  HttplibServer server([](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(std::string(200'000, 'b'), "text/plain");
  });
  http::AsyncClient client;
  for (int i = 0; i < 2; ++i) {
    auto out = send_and_wait(client, server.url());
    INFO(out.error);
    REQUIRE(out.response);
    CHECK(out.response->status == 200);
    CHECK(out.response->body.size() == 64 * 1024);
    CHECK(out.response->body_truncated);
  }
  // The rest of the first body was read and dropped, so the connection
  // stayed usable for the second request.
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("http::AsyncClient reports a server that closes mid-response", "[http]")
{
  RawServer server([](int fd) {
    if (read_request(fd)) write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
    ::close(fd);
  });
  http::AsyncClient client;
  auto out = send_and_wait(client, server.url());
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("closed before a complete response"));
}

TEST_CASE("http::AsyncClient resends once when the server closed an idle keep-alive connection", "[http]")
{
  // Answers as if keeping the connection alive, then closes it: the next
  // request on it meets a closed socket before any response byte.
  RawServer server([](int fd) {
    if (read_request(fd)) write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ::close(fd);
  });
  http::AsyncClient client;
  for (int i = 0; i < 3; ++i) {
    auto out = send_and_wait(client, server.url());
    INFO(out.error);
    REQUIRE(out.response);
    CHECK(out.response->body == "ok");
  }
}

TEST_CASE("http::AsyncClient reports a refused connection", "[http]")
{
  http::AsyncClient client;
  testing::RefusingPort refusing;
  auto out = send_and_wait(client, refusing.url("/x"));
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("connect to 127.0.0.1:") && Catch::Contains("refused"));
}

TEST_CASE("http::AsyncClient fails every one of many requests to a refused port with the refused error", "[http]")
{
  // Far more requests than connections per origin: most wait for a slot.
  // A refused connect frees its slot, so the next waiting request must try
  // its own connect then, not sit until its deadline and report a timeout.
  http::AsyncClient client;
  testing::RefusingPort refusing;
  REQUIRE(refusing.port() != 0);
  auto outcomes = send_all(client, refusing.url("/x"), 300);
  check_all_failed_with(outcomes, "connect to 127.0.0.1:" + std::to_string(refusing.port()) + ": connection refused");
}

TEST_CASE("http::AsyncClient fails requests waiting behind connections the server breaks, each with its own error",
          "[http]")
{
  // Whatever ends a connection under a request frees its slot for the next
  // waiting one: an answer that is not HTTP, or a close before any answer.
  SECTION("not HTTP")
  {
    RawServer server([](int fd) {
      if (read_request(fd)) write_all(fd, "SMTP ready\r\n");
      ::close(fd);
    });
    http::AsyncClient client;
    check_all_failed_with(send_all(client, server.url(), 40), "invalid response from 127.0.0.1:");
  }
  SECTION("closed before an answer")
  {
    RawServer server([](int fd) {
      read_request(fd);
      ::close(fd);
    });
    http::AsyncClient client;
    check_all_failed_with(send_all(client, server.url(), 40), "closed before a complete response");
  }
}

TEST_CASE("http::AsyncClient gives up on a server that trickles bytes past the total timeout", "[http]")
{
  // Each byte arrives well within any per-read timeout; only a deadline for
  // the whole attempt ends this.
  std::atomic<bool> stop{false};
  RawServer server([&](int fd) {
    if (read_request(fd)) {
      std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
      for (std::size_t i = 0; !stop && i < 100'000; ++i) {
        write_all(fd, std::string(1, i < response.size() ? response[i] : 'x'));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    ::close(fd);
  });
  http::AsyncClient client;
  auto out = send_and_wait(client, server.url(), std::chrono::milliseconds(600));
  stop = true;
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("timed out after 600ms"));
}

TEST_CASE("http::AsyncClient does not follow redirects", "[http]")
{
  HttplibServer server([](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "http://127.0.0.1:9/elsewhere");
  });
  http::AsyncClient client;
  auto out = send_and_wait(client, server.url());
  REQUIRE(out.response);
  CHECK(out.response->status == 302);
}

TEST_CASE("http::AsyncClient sends many requests at once to one origin", "[http]")
{
  std::atomic<int> seen{0};
  HttplibServer server([&](const httplib::Request&, httplib::Response& res) {
    ++seen;
    res.status = 204;
  });
  http::AsyncClient client;
  std::vector<std::future<http::SendOutcome>> futures;
  std::vector<std::promise<http::SendOutcome>> promises(100);
  for (auto& p : promises) {
    futures.push_back(p.get_future());
    http::OutboundRequest request;
    request.url = server.url();
    request.body = "{}";
    client.send(std::move(request), [&p](http::SendOutcome o) { p.set_value(std::move(o)); });
  }
  int ok = 0;
  for (auto& f : futures) {
    auto out = f.get();
    if (out.response && out.response->status == 204) ++ok;
    else UNSCOPED_INFO(out.error);
  }
  CHECK(ok == 100);
  CHECK(seen == 100);
  CHECK(client.connections_opened() <= 8);
}

TEST_CASE("http::AsyncClient resolves host names and tries each address", "[http]")
{
  // localhost may resolve to ::1 first while the server listens on
  // 127.0.0.1 only: the refused address is skipped, the next one answers.
  HttplibServer server([](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  auto url = server.url();
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  http::AsyncClient client;
  auto out = send_and_wait(client, url);
  INFO(out.error);
  REQUIRE(out.response);
  CHECK(out.response->status == 200);
}

TEST_CASE("http::AsyncClient names an unknown host", "[http]")
{
  http::AsyncClient client;
  auto out = send_and_wait(client, "http://no-such-host.invalid/hook", std::chrono::seconds(5));
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("cannot resolve host no-such-host.invalid"));
}

TEST_CASE("http::AsyncClient refuses https URLs - they go through the TLS client", "[http]")
{
  http::AsyncClient client;
  auto out = send_and_wait(client, "https://127.0.0.1:9/hook");
  CHECK_FALSE(out.response);
  CHECK_THAT(out.error, Catch::Contains("http://"));
}

TEST_CASE("http::ResponseParser skips 100 Continue and takes bytes split anywhere", "[http]")
{
  std::string bytes = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nmade";
  http::ResponseParser parser;
  for (char c : bytes) parser.feed(std::string_view(&c, 1));
  REQUIRE(parser.state() == http::ResponseParser::State::done);
  CHECK(parser.status() == 201);
  CHECK(parser.body() == "made");
  CHECK(parser.keep_alive());
}

TEST_CASE("http::ResponseParser reads a long body sent in many small chunks", "[http]")
{
  std::string bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20'000; ++i) bytes += "a\r\n0123456789\r\n";
  bytes += "0\r\n\r\n";
  http::ResponseParser parser;
  parser.feed(bytes);
  REQUIRE(parser.state() == http::ResponseParser::State::done);
  CHECK(parser.body_total() == 200'000);
  CHECK(parser.body().size() == 64 * 1024);
  CHECK(parser.body_truncated());
}

TEST_CASE("http::ResponseParser rejects a malformed status line", "[http]")
{
  http::ResponseParser parser;
  parser.feed("SMTP ready\r\n");
  CHECK(parser.state() == http::ResponseParser::State::error);
}

TEST_CASE("http::AsyncClient refuses a header with CR, LF or NUL and sends nothing", "[http]")
{
  std::atomic<int> seen{0};
  HttplibServer server([&](const httplib::Request&, httplib::Response& res) {
    ++seen;
    res.status = 200;
  });
  http::AsyncClient client;
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Centrali-Event-Type", "order.paid\r\nX-Injected: yes"},
           {"X-Nul", std::string("a\0b", 3)},
           {"X-Lf", "a\nb"},
           {"Bad Name", "v"}}) {
    http::OutboundRequest request;
    request.url = server.url();
    request.body = "{}";
    request.headers = {{"webhook-id", "msg_1"}, {name, value}};
    std::promise<http::SendOutcome> done;
    auto future = done.get_future();
    client.send(std::move(request), [&done](http::SendOutcome outcome) { done.set_value(std::move(outcome)); });
    auto outcome = future.get();
    INFO(name);
    CHECK_FALSE(outcome.response);
    CHECK_THAT(outcome.error, Catch::StartsWith("refused to send header '"));
  }
  CHECK(seen == 0);
}

// The listener's HTTP/1.1 server on a real loopback socket, spoken to with
// raw bytes so framing edge cases (pipelining, chunked bodies, 100-continue,
// oversized heads, smuggling attempts) are exercised exactly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "centrali/http/request_parser.hpp"
#include "centrali/http/server.hpp"
#include "loopback.hpp"
#include "raw_client.hpp"

using centrali::http::Request;
using centrali::http::Response;
using centrali::http::Server;
using centrali::http::ServerOptions;

namespace {

// A server on port 0 with an echoing plain route and a delayed async route,
// run on its own thread.
struct TestServer {
  std::unique_ptr<Server> server;
  int port = 0;
  std::thread thread;
  std::atomic<int> handled{0};
  std::atomic<bool> saw_too_large{false};

  explicit TestServer(ServerOptions options = {})
  {
    options.port = 0;
    options.loops = 2;
    server = std::make_unique<Server>(options);
    server->route("/echo", [this](Request& req, Response& res) {
      ++handled;
      if (req.body_too_large) {
        saw_too_large = true;
        res.status = 413;
        res.body = R"({"error":"payload_too_large"})";
        return;
      }
      res.content_type = "text/plain";
      res.body = std::string(req.method) + " " + std::string(req.target) + " " + req.body;
    });
    server->route("/evil", [](Request&, Response& res) {
      res.headers.push_back({"X-Ok", "fine"});
      res.headers.push_back({"X-Split", "a\r\nInjected: yes"});
      res.body = "{}";
    });
    server->route_async("/later", [this](Request& req, Server::Reply reply) {
      ++handled;
      std::string body = req.body;
      std::thread([body, reply = std::move(reply)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        Response res;
        res.status = 202;
        res.body = "later:" + body;
        reply(std::move(res));
      }).detach();
    });
    auto bound = server->bind();
    REQUIRE(bound);
    port = *bound;
    thread = std::thread([this] { server->run(); });
  }

  ~TestServer() { stop(); }

  void stop()
  {
    if (!thread.joinable()) return;
    server->stop();
    thread.join();
  }
};

// A raw client connection; reads give up after 5 s.
struct Raw : testing::RawClient {
  explicit Raw(int port) : RawClient(port, 5) {}
};

std::string body_of(const std::string& response)
{
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

} // namespace

TEST_CASE("server: keep-alive and pipelined requests are answered in order on one connection")
{
  TestServer s;
  Raw c(s.port);
  c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc");
  auto first = c.response();
  CHECK(first.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(body_of(first) == "POST /echo abc");
  // Three at once, one of them answered later from another thread.
  c.send("GET /echo?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
         "POST /later HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi"
         "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\nz");
  CHECK(body_of(c.response()) == "GET /echo?a=1 ");
  auto later = c.response();
  CHECK(later.starts_with("HTTP/1.1 202 Accepted\r\n"));
  CHECK(body_of(later) == "later:hi");
  CHECK(body_of(c.response()) == "POST /echo z");
}

TEST_CASE("server: a chunked body is decoded to its exact bytes, extensions and trailers dropped")
{
  TestServer s;
  Raw c(s.port);
  c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n");
  CHECK(body_of(c.response()) == "POST /echo Wikipedia in\r\n\r\nchunks.");
  // The connection stays usable after it.
  c.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(body_of(c.response()) == "GET /echo ");
}

TEST_CASE("server: Expect 100-continue gets an interim response before the body is sent")
{
  TestServer s;
  Raw c(s.port);
  c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  CHECK(c.response() == "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("body");
  CHECK(body_of(c.response()) == "POST /echo body");
}

TEST_CASE("server: a body over the limit reaches the handler flagged, and the connection closes")
{
  ServerOptions options;
  options.max_body = 10;
  TestServer s(options);
  Raw c(s.port);
  c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
  auto res = c.response();
  CHECK(res.starts_with("HTTP/1.1 413 "));
  CHECK(res.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.saw_too_large);
  CHECK(c.closed());
  // Chunked bodies are held to the same limit.
  Raw d(s.port);
  d.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
  CHECK(d.response().starts_with("HTTP/1.1 413 "));
}

TEST_CASE("server: malformed or ambiguous requests get a 4xx/5xx with a reason and the connection closes")
{
  ServerOptions options;
  options.max_head_bytes = 4096;
  TestServer s(options);
  struct Case {
    std::string bytes;
    std::string status;
  };
  std::vector<Case> cases = {
      {"NONSENSE\r\n\r\n", "400"},
      {"GET /echo HTTP/2.0\r\n\r\n", "505"},
      {"GET nopath HTTP/1.1\r\nHost: localhost\r\n\r\n", "400"},
      {"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400"},
      {"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "400"},
      {"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n", "400"},
      {"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
      {"GET /echo HTTP/1.1\r\nHost: localhost\r\n folded: x\r\n\r\n", "400"},
      {"GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n", "431"},
      {"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.bytes.substr(0, 60));
    Raw c(s.port);
    c.send(k.bytes);
    auto res = c.response();
    CHECK(res.starts_with("HTTP/1.1 " + k.status + " "));
    CHECK(body_of(res).starts_with("{\"error\":"));
    CHECK(c.closed());
  }
  CHECK(s.handled == 0);
}

TEST_CASE("server: HTTP/1.0 closes unless keep-alive is asked for, HEAD has no body, unknown paths 404")
{
  TestServer s;
  {
    Raw c(s.port);
    c.send("GET /echo HTTP/1.0\r\n\r\n");
    CHECK(body_of(c.response()) == "GET /echo ");
    CHECK(c.closed());
  }
  {
    Raw c(s.port);
    c.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    CHECK(body_of(c.response()) == "GET /echo ");
    auto last = c.response();
    CHECK(last.find("Connection: close\r\n") != std::string::npos);
    CHECK(c.closed());
  }
  {
    Raw c(s.port);
    c.expect_head_only(true);
    c.send("HEAD /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
    auto res = c.response();
    CHECK(res.starts_with("HTTP/1.1 200 "));
    CHECK(res.find("Content-Length: 11\r\n") != std::string::npos);
    CHECK(body_of(res).empty());
  }
  {
    Raw c(s.port);
    c.send("GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n");
    auto res = c.response();
    CHECK(res.starts_with("HTTP/1.1 404 "));
    CHECK(body_of(res) == R"({"error":"not_found","reason":"no route for this path"})");
  }
}

TEST_CASE("server: a handler's header that would split the response is not written")
{
  TestServer s;
  Raw c(s.port);
  c.send("GET /evil HTTP/1.1\r\nHost: localhost\r\n\r\n");
  auto res = c.response();
  CHECK(res.find("X-Ok: fine\r\n") != std::string::npos);
  CHECK(res.find("Injected") == std::string::npos);
}

TEST_CASE("server: a client that leaves before its async reply does not disturb the others")
{
  TestServer s;
  {
    Raw gone(s.port);
    gone.send("POST /later HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx");
  }  // closed before the reply
  Raw c(s.port);
  c.send("POST /later HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\ny");
  CHECK(body_of(c.response()) == "later:y");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  c.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(body_of(c.response()) == "GET /echo ");
}

TEST_CASE("server: stop() answers the requests in flight, closes idle connections and returns")
{
  TestServer s;
  Raw idle(s.port);
  idle.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(!idle.response().empty());
  Raw busy(s.port);
  busy.send("POST /later HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nq");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto stopped = std::async(std::launch::async, [&] { s.stop(); });
  auto res = busy.response();
  CHECK(res.starts_with("HTTP/1.1 202 "));
  CHECK(res.find("Connection: close\r\n") != std::string::npos);
  CHECK(stopped.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(idle.closed());
}

TEST_CASE("request parser: a head split at every byte parses the same as whole")
{
  std::string head = "POST /ingest/a%20b?x=1 HTTP/1.1\r\nHost: localhost\r\nX-A:  v  \r\nContent-Length: 5\r\n\r\n";
  for (std::size_t cut = 0; cut < head.size(); ++cut) {
    auto partial = centrali::http::parse_request_head(std::string_view(head).substr(0, cut));
    REQUIRE(partial.status == centrali::http::HeadStatus::incomplete);
  }
  auto whole = centrali::http::parse_request_head(head + "hello");
  REQUIRE(whole.status == centrali::http::HeadStatus::complete);
  CHECK(whole.head.path == "/ingest/a b");
  CHECK(whole.head.target == "/ingest/a%20b?x=1");
  CHECK(whole.head.head_bytes == head.size());
  CHECK(whole.head.content_length == 5);
  REQUIRE(whole.head.headers.size() == 3);
  CHECK(whole.head.headers[1].value == "v");
}

TEST_CASE("request parser: chunked bodies decode the same fed one byte at a time")
{
  std::string wire = "3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\nNEXT";
  centrali::http::ChunkedDecoder decoder;
  std::string out;
  centrali::http::ChunkedDecoder::State state{};
  std::size_t i = 0;
  for (; i < wire.size(); ++i) {
    std::string_view one(wire.data() + i, 1);
    state = decoder.feed(one, out);
    if (state != centrali::http::ChunkedDecoder::State::more) break;
  }
  CHECK(state == centrali::http::ChunkedDecoder::State::done);
  CHECK(out == "abc0123456789abcdef");
  CHECK(wire.substr(i + 1) == "NEXT");
}

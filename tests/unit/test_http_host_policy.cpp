#include <catch2/catch.hpp>

#include "centrali/http/host_policy.hpp"
#include "centrali/http/request_parser.hpp"

using namespace centrali;
using namespace centrali::http;

TEST_CASE("http::HostPolicy serves loopback names and addresses by default, nothing else", "[http]")
{
  HostPolicy policy;  // bound to 127.0.0.1
  for (const char* host : {"127.0.0.1:8787", "localhost:8787", "LOCALHOST", "app.localhost:1", "127.1.2.3", "[::1]:8787",
                           "localhost."})
    CHECK(policy.allows_host(host));
  for (const char* host : {"evil.example:8787", "192.168.1.5", "[2001:db8::1]", "localhost.evil.example", "", "a b",
                           "[::1", "x:port"})
    CHECK_FALSE(policy.allows_host(host));
}

TEST_CASE("http::HostPolicy adds allowed names, subdomain patterns, the bound address and '*'", "[http]")
{
  HostPolicy tunnel("127.0.0.1", {"abc.ngrok-free.app", ".trycloudflare.com"});
  CHECK(tunnel.allows_host("abc.ngrok-free.app"));
  CHECK(tunnel.allows_host("ABC.ngrok-free.app:443"));
  CHECK(tunnel.allows_host("x-y.trycloudflare.com"));
  CHECK(tunnel.allows_host("trycloudflare.com"));
  CHECK_FALSE(tunnel.allows_host("eviltrycloudflare.com"));
  CHECK_FALSE(tunnel.allows_host("def.ngrok-free.app"));

  HostPolicy lan("192.168.1.5");
  CHECK(lan.allows_host("192.168.1.5:8787"));
  CHECK_FALSE(lan.allows_host("192.168.1.6"));
  // Bound to every interface: any address literal (addresses cannot be
  // rebound), still no foreign names.
  HostPolicy everywhere("0.0.0.0");
  CHECK(everywhere.allows_host("10.0.0.7:8787"));
  CHECK(everywhere.allows_host("[2001:db8::1]:8787"));
  CHECK_FALSE(everywhere.allows_host("evil.example"));

  HostPolicy any("127.0.0.1", {"*"});
  CHECK(any.allows_host("evil.example"));
  CHECK(any.allows_origin("null"));
}

TEST_CASE("http::HostPolicy judges an Origin by its host", "[http]")
{
  HostPolicy policy("127.0.0.1", {"dashboard.example"});
  CHECK(policy.allows_origin("http://localhost:3000"));
  CHECK(policy.allows_origin("https://dashboard.example"));
  CHECK_FALSE(policy.allows_origin("https://evil.example"));
  CHECK_FALSE(policy.allows_origin("null"));
  CHECK_FALSE(policy.allows_origin("file://"));
  CHECK_FALSE(policy.allows_origin("http://localhost:3000/path"));
}

TEST_CASE("http::parse_request_head enforces RFC 9112's Host rules", "[http]")
{
  auto parse = [](const std::string& head) { return parse_request_head(head + "\r\n"); };
  auto ok = parse("POST /x HTTP/1.1\r\nHost: localhost:8787\r\n");
  REQUIRE(ok.status == HeadStatus::complete);
  CHECK(ok.head.host == "localhost:8787");
  for (const char* bad : {"POST /x HTTP/1.1\r\n", "POST /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n",
                          "POST /x HTTP/1.1\r\nHost: bad host\r\n", "POST /x HTTP/1.1\r\nHost:\r\n",
                          "POST /x HTTP/1.0\r\nHost: a\r\nhost: b\r\n"}) {
    INFO(bad);
    auto r = parse(bad);
    REQUIRE(r.status == HeadStatus::error);
    CHECK(r.error.status == 400);
  }
  auto old = parse("GET /x HTTP/1.0\r\n");
  CHECK(old.status == HeadStatus::complete);
  CHECK(old.head.host.empty());
}

TEST_CASE("http::parse_request_head accepts an absolute-form target, its authority as the host", "[http]")
{
  auto r = parse_request_head("POST http://127.0.0.1:8787/ingest/gh?a=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n");
  REQUIRE(r.status == HeadStatus::complete);
  CHECK(r.head.target == "/ingest/gh?a=1");
  CHECK(r.head.path == "/ingest/gh");
  CHECK(r.head.host == "127.0.0.1:8787");
  auto bare = parse_request_head("GET HTTP://localhost HTTP/1.1\r\n\r\n");
  REQUIRE(bare.status == HeadStatus::complete);
  CHECK(bare.head.target == "/");
  for (const char* bad : {"GET ftp://localhost/ HTTP/1.1\r\n\r\n", "GET http://user@localhost/ HTTP/1.1\r\n\r\n",
                          "GET http:///x HTTP/1.1\r\n\r\n", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"}) {
    INFO(bad);
    CHECK(parse_request_head(bad).status == HeadStatus::error);
  }
}

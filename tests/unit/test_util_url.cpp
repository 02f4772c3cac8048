#include <catch2/catch.hpp>

#include "centrali/util/url.hpp"

TEST_CASE("util::redact_url hides userinfo and credential query values, keeps the rest", "[util]")
{
  using centrali::redact_url;
  CHECK(redact_url("https://user:pa55@erp.example/hook?order=1") == "https://[redacted]@erp.example/hook?order=1");
  CHECK(redact_url("https://erp.example/hook?token=abc&order=1&api_key=k&accessToken=t#frag") ==
        "https://erp.example/hook?token=[redacted]&order=1&api_key=[redacted]&accessToken=[redacted]#frag");
  CHECK(redact_url("/ingest/gh?sig=abc&design=x&keyboard_layout=us") == "/ingest/gh?sig=[redacted]&design=x&keyboard_layout=us");
  CHECK(redact_url("http://127.0.0.1:8787/ingest/x") == "http://127.0.0.1:8787/ingest/x");
  CHECK(redact_url("/path/with@at?x") == "/path/with@at?x");
  CHECK(redact_url("http://h/p?token=") == "http://h/p?token=");
}

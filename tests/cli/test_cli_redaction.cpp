// Binary tests of credential redaction (README, "Refused" and "Forwarding"
// under listen, and "The log" under outbound webhooks): every credential
// header is stored and shown as "[redacted]" at ingest, is not forwarded,
// and is redacted in the attempt log of forwards and of outbound webhooks,
// requests and responses alike. Forwarding also drops the framing and the
// encodings, which the client sets for the message it sends.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "centrali/util/headers.hpp"
#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"
#include "webhook_endpoint.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Every credential header (util/headers.cpp), each with a value that must
// never be shown: found anywhere in output, it leaked.
const Headers k_credentials = {{"Authorization", "Bearer sk_live_leak_authorization"},
                               {"Proxy-Authorization", "Basic leak_proxy_authorization"},
                               {"Cookie", "session=leak_cookie"},
                               {"Set-Cookie", "id=leak_set_cookie"},
                               {"X-Api-Key", "leak_x_api_key"},
                               {"X-Auth-Token", "leak_x_auth_token"},
                               {"Api-Key", "leak_api_key"},
                               {"X-CSRF-Token", "leak_x_csrf_token"}};

// Stored and forwarded as sent (README: shared-secret headers such as
// X-Gitlab-Token are kept).
const Headers k_kept = {{"X-Gitlab-Token", "gitlab-shared-secret"}, {"X-Request-Note", "kept-as-sent"}};

// Framing and encodings a forward must not copy: the client frames its own
// message, and the stored body is sent as it was stored.
const Headers k_not_forwarded = {{"Keep-Alive", "timeout=5"}, {"Proxy-Connection", "keep-alive"},
                                 {"TE", "trailers"},          {"Accept-Encoding", "br;q=0.5"},
                                 {"Content-Encoding", "identity"}};

std::string port_of(const std::string& url)
{
  return url.substr(url.rfind(':') + 1);
}

// POSTs exactly these headers (no client adds or merges any) and returns
// the whole answer.
std::string raw_post(const std::string& url, const std::string& path, const Headers& headers, const std::string& body)
{
  std::string wire = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  for (const auto& [name, value] : headers) wire += name + ": " + value + "\r\n";
  wire += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  int fd = connect_loopback(std::stoi(port_of(url)));
  REQUIRE(fd >= 0);
  REQUIRE(::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(wire.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

std::string queued_id(const std::string& answer)
{
  INFO(answer);
  REQUIRE(answer.rfind("HTTP/1.1 202 ", 0) == 0);
  return json::parse(answer.substr(answer.find("\r\n\r\n") + 4))["id"].get<std::string>();
}

Headers concat(std::initializer_list<Headers> lists)
{
  Headers out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// The value of `name` in a stored [[name, value], ...] list; nullopt when absent.
std::optional<std::string> header_in(const json& headers, const std::string& name)
{
  for (const auto& h : headers)
    if (centrali::iequals(h[0].get<std::string>(), name)) return h[1].get<std::string>();
  return std::nullopt;
}

void check_no_credential_value_in(const std::string& text)
{
  for (const auto& [name, value] : k_credentials) {
    INFO(name << " leaked");
    CHECK(text.find(value) == std::string::npos);
  }
}

// Polls `deliveries list` until one delivery has `status`; fails the test
// after the bound.
json wait_for_delivery(const std::string& store, const std::string& status)
{
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = cli_json(store, {"deliveries", "list", "--limit", "0"});
    if (list.size() == 1 && list[0]["status"] == status) return list[0];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("no delivery reached status " << status);
  return {};
}

// A receiver that answers with a session cookie and a key of its own: the
// attempt log keeps response headers too, and must redact those.
void answer_with_credentials(int, const httplib::Request&, httplib::Response& res)
{
  res.set_header("Set-Cookie", "session=leak_response_cookie");
  res.set_header("X-Api-Key", "leak_response_api_key");
}

void check_response_redacted(const json& attempt)
{
  CHECK(header_in(attempt["response_headers"], "Set-Cookie") == "[redacted]");
  CHECK(header_in(attempt["response_headers"], "X-Api-Key") == "[redacted]");
}

void check_no_response_credential_in(const std::string& text)
{
  CHECK(text.find("leak_response_cookie") == std::string::npos);
  CHECK(text.find("leak_response_api_key") == std::string::npos);
}

} // namespace

TEST_CASE("ingest stores every credential header redacted and keeps the others as sent", "[cli][ingest][redaction]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  std::string id;
  {
    Listen l(store);
    id = queued_id(raw_post(l.url(), "/ingest/open", concat({k_credentials, k_kept}), R"({"type":"order.created"})"));
  }
  auto shown = cli_json(store, {"events", "show", id});
  for (const auto& [name, value] : k_credentials) {
    INFO(name);
    CHECK(header_in(shown["headers"], name) == "[redacted]");
  }
  for (const auto& [name, value] : k_kept) {
    INFO(name);
    CHECK(header_in(shown["headers"], name) == value);
  }
  check_no_credential_value_in(shown.dump());
  auto text = cli(store, {"events", "show", id});
  REQUIRE(text.exit_code == 0);
  check_no_credential_value_in(text.out);
  CHECK(text.out.find("[redacted]") != std::string::npos);
  auto exported = cli(store, {"events", "export"});
  REQUIRE(exported.exit_code == 0);
  check_no_credential_value_in(exported.out);
}

TEST_CASE("a forward sends neither credentials nor framing, and its attempt log shows no credential",
          "[cli][ingest][redaction]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  webhooks::Endpoint app(answer_with_credentials);
  Listen l(store, {"--forward-to", app.url()});
  const std::string body = R"({"type":"order.created","n":1})";
  queued_id(raw_post(l.url(), "/ingest/open", concat({k_credentials, k_not_forwarded, k_kept}), body));
  auto delivery = wait_for_delivery(store, "succeeded");

  auto got = app.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == body);
  for (const auto& [name, value] : concat({k_credentials, k_not_forwarded})) {
    INFO(name << " was forwarded");
    CHECK(got[0].get_header_value(name) != value);
    if (centrali::is_credential_header(name)) CHECK_FALSE(got[0].has_header(name));
  }
  for (const auto& h : got[0].headers) CHECK(h.second != "[redacted]");
  for (const auto& [name, value] : k_kept) {
    INFO(name);
    CHECK(got[0].get_header_value(name) == value);
  }

  auto shown = cli_json(store, {"deliveries", "show", delivery["id"].get<std::string>()});
  REQUIRE(shown["attempt_log"].size() == 1);
  const auto& attempt = shown["attempt_log"][0];
  for (const auto& [name, value] : k_credentials) {
    INFO(name);
    CHECK_FALSE(header_in(attempt["request_headers"], name).has_value());
  }
  CHECK(header_in(attempt["request_headers"], "X-Gitlab-Token") == "gitlab-shared-secret");
  check_response_redacted(attempt);
  check_no_credential_value_in(shown.dump());
  check_no_response_credential_in(shown.dump());
  auto text = cli(store, {"deliveries", "show", delivery["id"].get<std::string>()});
  REQUIRE(text.exit_code == 0);
  check_no_credential_value_in(text.out);
  check_no_response_credential_in(text.out);
}

TEST_CASE("an outbound webhook sends its credential headers and its attempt log shows them redacted",
          "[cli][webhooks][redaction]")
{
  TempDir dir;
  auto store = dir.store();
  webhooks::Endpoint receiver(answer_with_credentials);
  std::vector<std::string> extra;
  for (const auto& [name, value] : k_credentials) extra.insert(extra.end(), {"--header", name + ": " + value});
  auto hook = webhooks::add_webhook(store, receiver.url(), extra);
  webhooks::emit(store, "order.created", R"({"n":1})");
  cli_ok(store, {"dispatch", "--until-idle"});

  auto got = receiver.requests();
  REQUIRE(got.size() == 1);
  for (const auto& [name, value] : k_credentials) {
    INFO(name);
    CHECK(got[0].get_header_value(name) == value);  // the receiver needs them: only the log hides them
  }

  auto listed = webhooks::deliveries(store);
  REQUIRE(listed.size() == 1);
  const auto id = listed[0]["id"].get<std::string>();
  auto shown = cli_json(store, {"deliveries", "show", id});
  REQUIRE(shown["attempt_log"].size() == 1);
  const auto& attempt = shown["attempt_log"][0];
  for (const auto& [name, value] : k_credentials) {
    INFO(name);
    CHECK(header_in(attempt["request_headers"], name) == "[redacted]");
  }
  check_response_redacted(attempt);
  check_no_credential_value_in(shown.dump());
  check_no_response_credential_in(shown.dump());
  auto text = cli(store, {"deliveries", "show", id});
  REQUIRE(text.exit_code == 0);
  check_no_credential_value_in(text.out);
  check_no_response_credential_in(text.out);
  // Nor does the webhook's own listing show them.
  auto webhook = cli(store, {"--json", "webhooks", "show", hook.id});
  REQUIRE(webhook.exit_code == 0);
  check_no_credential_value_in(webhook.out);
  check_no_credential_value_in(cli(store, {"webhooks", "show", hook.id}).out);
}

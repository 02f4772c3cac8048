// What a forward sends of a stored event (README, "Forwarding"): its
// original headers and exact body, minus the framing and encodings the
// client sets itself and minus the redacted credentials, which are not in
// the store and so are never sent as "[redacted]".
#include <catch2/catch.hpp>

#include "centrali/delivery/forward.hpp"
#include "centrali/util/headers.hpp"

using namespace centrali;

namespace {

store::Event stored_event(HeaderList headers)
{
  store::Event e;
  e.id = "evt_1";
  e.source = "local";  // not signed again: the test is about which headers go
  e.status = "accepted";
  e.type = "order.created";
  e.body = R"({"type":"order.created"})";
  e.headers = redact_credentials(std::move(headers));
  return e;
}

} // namespace

TEST_CASE("delivery::forward_request drops framing, encodings and credentials and keeps the rest in order", "[delivery][forward]")
{
  const HeaderList kept = {{"Content-Type", "application/json"}, {"X-Gitlab-Token", "shared-secret"},
                           {"webhook-id", "msg_1"},              {"User-Agent", "Stripe/1.0"},
                           {"X-Custom", "a"},                    {"X-Custom", "b"}};
  const std::vector<std::string> dropped = {
      "Host",          "Content-Length", "Connection",          "Keep-Alive", "Transfer-Encoding", "TE",
      "Trailer",       "Upgrade",        "Expect",              "Proxy-Connection", "Accept-Encoding",
      "Content-Encoding", "Authorization", "Proxy-Authorization", "Cookie",   "Set-Cookie",        "X-Api-Key",
      "X-Auth-Token",  "Api-Key",        "X-CSRF-Token"};
  HeaderList received;
  for (std::size_t i = 0; i < kept.size() || i < dropped.size(); ++i) {
    if (i < dropped.size()) received.push_back({dropped[i], "value-" + std::to_string(i)});
    if (i < kept.size()) received.push_back(kept[i]);
  }
  auto event = stored_event(received);
  auto forward = delivery::forward_request(event, "http://127.0.0.1:9/app", {}, 1'795'000'000'000);
  const auto& sent = forward.request.headers;
  HeaderList originals;
  for (const auto& h : sent)
    if (!iequals(h.name, "Centrali-Event-Id") && !iequals(h.name, "Centrali-Forward-Hops")) originals.push_back(h);
  REQUIRE(originals.size() == kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CHECK(originals[i].name == kept[i].name);
    CHECK(originals[i].value == kept[i].value);
  }
  for (const auto& name : dropped) {
    INFO(name);
    CHECK(find_header(sent, name) == nullptr);
  }
  for (const auto& h : sent) CHECK(h.value != "[redacted]");
  CHECK(forward.request.body == event.body);
}

TEST_CASE("delivery::forward_request names the event and counts the hop, replacing copies it was sent", "[delivery][forward]")
{
  auto event = stored_event({{"Centrali-Event-Id", "evt_spoofed"}, {"Centrali-Forward-Hops", "2"}});
  auto forward = delivery::forward_request(event, "http://127.0.0.1:9/app", {}, 1'795'000'000'000);
  const auto& sent = forward.request.headers;
  int ids = 0, hops = 0;
  for (const auto& h : sent) {
    if (iequals(h.name, "Centrali-Event-Id")) {
      ++ids;
      CHECK(h.value == "evt_1");
    }
    if (iequals(h.name, "Centrali-Forward-Hops")) {
      ++hops;
      CHECK(h.value == "3");
    }
  }
  CHECK(ids == 1);
  CHECK(hops == 1);
}

#include <catch2/catch.hpp>

#include "centrali/ingest/event_type.hpp"
#include "centrali/ingest/json_peek.hpp"
#include "centrali/ingest/providers.hpp"

using namespace centrali;
using namespace centrali::ingest;

TEST_CASE("ingest::sanitize_event_type keeps valid types and neutralises control bytes", "[ingest]")
{
  CHECK(sanitize_event_type("invoice.paid") == "invoice.paid");
  CHECK(sanitize_event_type("commande.payée") == "commande.payée");
  CHECK(sanitize_event_type("order.paid\r\nX-Injected: yes") == "order.paid__X-Injected:_yes");
  CHECK(sanitize_event_type("a\x1b[2Jb") == "a_[2Jb");
  CHECK(sanitize_event_type(std::string("a\0b", 3)) == "a_b");
  CHECK(sanitize_event_type("a\xc2\x9b" "b") == "a_b");  // C1 CSI
  CHECK(sanitize_event_type("a\xff\xfe" "b") == "a__b");  // not UTF-8
  CHECK(sanitize_event_type("a\x7f") == "a_");
}

TEST_CASE("ingest::sanitize_event_type cuts at 200 bytes on a character boundary", "[ingest]")
{
  CHECK(sanitize_event_type(std::string(300'000, 'x')) == std::string(200, 'x'));
  auto accented = sanitize_event_type(std::string(199, 'x') + "é");  // é is two bytes: it does not fit
  CHECK(accented == std::string(199, 'x'));
  CHECK(event_type_problem(accented).empty());
}

TEST_CASE("ingest::event_type_problem says why a typed event type is refused", "[ingest]")
{
  CHECK(event_type_problem("order.created").empty());
  CHECK(event_type_problem("") == "must be 1-200 characters");
  CHECK(event_type_problem(std::string(201, 'a')) == "must be 1-200 characters");
  CHECK(event_type_problem("a b") == "must not contain spaces or control characters");
  CHECK(event_type_problem("a\xff") == "must be UTF-8");
}

TEST_CASE("ingest::event_type from a body or header is stored sanitised", "[ingest]")
{
  HeaderList headers{{"X-Event-Type", "evil\r\nInjected: 1"}};
  CHECK(event_type(Provider::none, headers, peek_json("{}")) == "evil__Injected:_1");
  auto peek = peek_json(R"({"type":"order.paid\r\nX: y"})");
  CHECK(event_type(Provider::stripe, {}, peek) == "order.paid__X:_y");
  CHECK(event_type(Provider::none, {{"X-Event-Type", "\x01"}}, peek_json("{}")) == "_");
  CHECK(event_type(Provider::standard, {}, peek_json(R"({"type":""})")) == "webhook");
}

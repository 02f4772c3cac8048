// The provider's delivery id is the dedupe key (README, "Dedupe"): where
// each provider puts it, and that a request without one has none.
#include <catch2/catch.hpp>

#include "centrali/ingest/json_peek.hpp"
#include "centrali/ingest/providers.hpp"

using namespace centrali;
using ingest::Provider;

namespace {

std::string key(Provider provider, const HeaderList& headers, std::string_view body = "{}")
{
  return ingest::dedupe_key(provider, headers, ingest::peek_json(body));
}

} // namespace

TEST_CASE("ingest::dedupe_key is Stripe's body id", "[ingest][dedupe]")
{
  const std::string body = R"({"id":"evt_1NG8Du2eZvKYlo2C","object":"event","type":"invoice.paid"})";
  CHECK(key(Provider::stripe, {}, body) == "evt_1NG8Du2eZvKYlo2C");
  // Headers that name ids for other providers are not Stripe's.
  CHECK(key(Provider::stripe, {{"webhook-id", "msg_1"}, {"Idempotency-Key", "k"}}, R"({"type":"a"})").empty());
  // A nested id is the object's, not the event's.
  CHECK(key(Provider::stripe, {}, R"({"data":{"object":{"id":"pi_1"}}})").empty());
}

TEST_CASE("ingest::dedupe_key is GitHub's X-GitHub-Delivery", "[ingest][dedupe]")
{
  CHECK(key(Provider::github, {{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "72d3162e-cc78-11e3"}},
            R"({"id":"not-this"})") == "72d3162e-cc78-11e3");
  CHECK(key(Provider::github, {{"x-github-delivery", "lower-case"}}) == "lower-case");
  CHECK(key(Provider::github, {{"X-GitHub-Event", "push"}}, R"({"id":"not-this"})").empty());
}

TEST_CASE("ingest::dedupe_key is Shopify's X-Shopify-Event-Id, else its X-Shopify-Webhook-Id", "[ingest][dedupe]")
{
  CHECK(key(Provider::shopify, {{"X-Shopify-Webhook-Id", "wh-1"}, {"X-Shopify-Event-Id", "ev-1"}}) == "ev-1");
  CHECK(key(Provider::shopify, {{"X-Shopify-Webhook-Id", "wh-1"}}) == "wh-1");
  CHECK(key(Provider::shopify, {{"X-Shopify-Topic", "orders/create"}}, R"({"id":820982911946154508})").empty());
}

TEST_CASE("ingest::dedupe_key is Slack's body event_id", "[ingest][dedupe]")
{
  CHECK(key(Provider::slack, {}, R"({"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention"}})") ==
        "Ev08MFMKH6");
  CHECK(key(Provider::slack, {{"webhook-id", "msg_1"}}, R"({"type":"url_verification","challenge":"c"})").empty());
}

TEST_CASE("ingest::dedupe_key is webhook-id for Standard Webhooks and svix-id for Svix and Clerk", "[ingest][dedupe]")
{
  CHECK(key(Provider::standard, {{"webhook-id", "msg_std"}}, R"({"id":"not-this"})") == "msg_std");
  CHECK(key(Provider::standard, {{"svix-id", "msg_svix"}}).empty());
  for (auto provider : {Provider::svix, Provider::clerk}) {
    INFO(ingest::provider_name(provider));
    CHECK(key(provider, {{"svix-id", "msg_svix"}}, R"({"id":"not-this"})") == "msg_svix");
    CHECK(key(provider, {{"Svix-Id", "msg_case"}}) == "msg_case");
    CHECK(key(provider, {{"webhook-id", "msg_std"}}).empty());
  }
}

TEST_CASE("ingest::dedupe_key is Twilio's I-Twilio-Idempotency-Token", "[ingest][dedupe]")
{
  CHECK(key(Provider::twilio, {{"I-Twilio-Idempotency-Token", "tok-1"}}, "CallSid=CA1") == "tok-1");
  CHECK(key(Provider::twilio, {}, "CallSid=CA1").empty());
}

TEST_CASE("ingest::dedupe_key of a `none` source is Idempotency-Key, else webhook-id", "[ingest][dedupe]")
{
  CHECK(key(Provider::none, {{"webhook-id", "msg_1"}, {"Idempotency-Key", "idem-1"}}) == "idem-1");
  CHECK(key(Provider::none, {{"webhook-id", "msg_1"}}) == "msg_1");
  CHECK(key(Provider::none, {}, R"({"id":"not-this"})").empty());
}

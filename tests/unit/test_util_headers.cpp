// Which headers are credentials (stored and shown as "[redacted]", never
// forwarded) and which frame one HTTP message (never copied onto another).
#include <catch2/catch.hpp>

#include <cctype>

#include "centrali/util/headers.hpp"

using namespace centrali;

namespace {

// Every credential header centrali redacts (README: Authorization, Cookie,
// API-key headers), in the case a sender might use.
const std::vector<std::string> k_credentials = {"Authorization", "Proxy-Authorization", "Cookie",       "Set-Cookie",
                                                "X-Api-Key",     "X-Auth-Token",        "Api-Key",      "X-CSRF-Token"};

// What a signature check needs later (`events show` re-verifies, forwards
// carry them) or what the README says is kept as sent.
const std::vector<std::string> k_kept = {"webhook-signature",     "svix-signature",  "Stripe-Signature",
                                         "X-Hub-Signature-256",   "X-Slack-Signature", "X-Shopify-Hmac-Sha256",
                                         "X-Twilio-Signature",    "X-Gitlab-Token",  "Content-Type",
                                         "X-Api-Key-Id-Not-Secret", "Authorization-Hint", "webhook-id"};

} // namespace

TEST_CASE("util::is_credential_header names every credential header, in any case", "[util][headers]")
{
  for (const auto& name : k_credentials) {
    INFO(name);
    CHECK(is_credential_header(name));
    std::string lower, upper;
    for (char c : name) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    CHECK(is_credential_header(lower));
    CHECK(is_credential_header(upper));
  }
  for (const auto& name : k_kept) {
    INFO(name);
    CHECK_FALSE(is_credential_header(name));
  }
}

TEST_CASE("util::redact_credentials hides every credential's value and keeps every other header as it was", "[util][headers]")
{
  HeaderList headers;
  for (const auto& name : k_kept) headers.push_back({name, "kept " + name});
  for (const auto& name : k_credentials) headers.push_back({name, "secret " + name});
  headers.push_back({"x-api-key", "second copy"});
  auto redacted = redact_credentials(headers);
  REQUIRE(redacted.size() == headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    INFO(headers[i].name);
    CHECK(redacted[i].name == headers[i].name);  // order and names kept
    if (is_credential_header(headers[i].name)) CHECK(redacted[i].value == "[redacted]");
    else CHECK(redacted[i].value == headers[i].value);
  }
  CHECK(redacted.back().value == "[redacted]");  // duplicates too, not just the first
}

TEST_CASE("util::is_framing_header names the headers that frame one message", "[util][headers]")
{
  for (const char* name : {"Host", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "TE",
                           "Trailer", "Upgrade", "Expect", "Proxy-Connection", "content-length", "HOST"}) {
    INFO(name);
    CHECK(is_framing_header(name));
  }
  for (const char* name : {"Content-Type", "Authorization", "webhook-id", "Accept", "X-Host", "Te-Thing"}) {
    INFO(name);
    CHECK_FALSE(is_framing_header(name));
  }
}

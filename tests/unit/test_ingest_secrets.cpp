#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "centrali/ingest/secrets.hpp"
#include "temp_dir.hpp"

using namespace centrali;
using namespace centrali::ingest;

TEST_CASE("ingest::redact_secret keeps only a known key prefix of a literal secret", "[ingest]")
{
  CHECK(redact_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == "whsec_…(redacted)");
  CHECK(redact_secret("whsk_c2VjcmV0") == "whsk_…(redacted)");
  CHECK(redact_secret("whpk_cHVibGlj") == "whpk_…(redacted)");
  // An underscore early in any other secret is part of the secret, not a prefix.
  CHECK(redact_secret("Xk3_abcdefghijklmnop") == "…(redacted)");
  CHECK(redact_secret("sk_live_abcdef") == "…(redacted)");
  CHECK(redact_secret("whsec") == "…(redacted)");
  CHECK(redact_secret("shpss_0123456789abcdef") == "…(redacted)");
  CHECK(redact_secret("8f14e45fceea167a5a36dedd4bea2543") == "…(redacted)");
  CHECK(redact_secret("") == "…(redacted)");
}

TEST_CASE("ingest::redact_secret shows env: and file: references as they are", "[ingest]")
{
  CHECK(redact_secret("env:GITHUB_WEBHOOK_SECRET") == "env:GITHUB_WEBHOOK_SECRET");
  CHECK(redact_secret("file:/run/secrets/stripe") == "file:/run/secrets/stripe");
}

TEST_CASE("ingest::resolve_secret reads env: and file: references and names them, not the value, on failure",
          "[ingest]")
{
  unit::TempDir dir;
  auto path = (dir.path() / "secret").string();
  std::ofstream(path) << "whsec_fromfile \r\nsecond line\n";
  auto from_file = resolve_secret("file:" + path);
  REQUIRE(from_file);
  CHECK(*from_file == "whsec_fromfile");
  CHECK(resolve_secret("literal_value").value_or("") == "literal_value");

  ::setenv("CENTRALI_TEST_SECRET_SET", "whsec_fromenv", 1);
  CHECK(resolve_secret("env:CENTRALI_TEST_SECRET_SET").value_or("") == "whsec_fromenv");
  ::unsetenv("CENTRALI_TEST_SECRET_SET");

  auto unset = resolve_secret("env:CENTRALI_TEST_SECRET_UNSET");
  REQUIRE(!unset);
  CHECK(unset.error().kind == ErrorKind::usage);
  CHECK(unset.error().message.find("env:CENTRALI_TEST_SECRET_UNSET") != std::string::npos);
  auto missing = resolve_secret("file:" + (dir.path() / "absent").string());
  REQUIRE(!missing);
  CHECK(missing.error().kind == ErrorKind::usage);
  CHECK(missing.error().message.find("absent") != std::string::npos);
}

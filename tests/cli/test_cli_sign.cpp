// Binary tests: `centrali sign`, `centrali verify` and `centrali keys
// generate` as a user (or a script piping one into the other) meets them.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "process.hpp"

using testing::centrali;
using testing::TempDir;
using json = nlohmann::json;

namespace {

constexpr const char* k_whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* k_body = R"({"test": 2432232314})";

// `Name: value` lines from sign, as --header arguments for verify.
std::vector<std::string> header_args(const std::string& sign_output)
{
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < sign_output.size()) {
    auto end = sign_output.find('\n', start);
    if (end == std::string::npos) end = sign_output.size();
    if (end > start) {
      args.push_back("--header");
      args.push_back(sign_output.substr(start, end - start));
    }
    start = end + 1;
  }
  return args;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b)
{
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

} // namespace

TEST_CASE("centrali sign prints the Standard Webhooks vector headers, one per line", "[cli][sign]")
{
  auto r = centrali({"sign", "--scheme", "standard", "--secret", k_whsec, "--id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                     "--timestamp", "1614265330", "--data", k_body});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\n"
                 "webhook-timestamp: 1614265330\n"
                 "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n");
  CHECK(r.err.empty());
}

TEST_CASE("centrali sign --json prints {\"headers\": {...}} with a generated id and timestamp when not given",
          "[cli][sign]")
{
  auto r = centrali({"sign", "--scheme", "svix", "--secret", k_whsec, "--data", "x", "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  auto id = doc["headers"]["svix-id"].get<std::string>();
  CHECK(id.starts_with("msg_"));
  CHECK(id.size() == 4 + 26);
  auto ts = std::stoll(doc["headers"]["svix-timestamp"].get<std::string>());
  CHECK(ts > 1700000000);
  CHECK(doc["headers"]["svix-signature"].get<std::string>().starts_with("v1,"));
}

TEST_CASE("centrali sign then verify round-trips for every scheme, body from --data, stdin and --data-file",
          "[cli][sign]")
{
  TempDir dir;
  std::string body = std::string("{\"binary\":\"") + '\x01' + "\xff" + "\"}\n";
  std::ofstream(dir.str("body.bin"), std::ios::binary) << body;
  struct Case {
    std::string scheme;
    std::string secret;
  };
  for (const auto& c : std::vector<Case>{{"standard", k_whsec},
                                         {"svix", k_whsec},
                                         {"clerk", k_whsec},
                                         {"stripe", "whsec_test_secret"},
                                         {"github", "gh-secret"},
                                         {"shopify", "shpss_x"},
                                         {"slack", "slack-secret"},
                                         {"twilio", "auth-token"}}) {
    INFO(c.scheme);
    std::vector<std::string> common = {"--scheme", c.scheme, "--secret", c.secret, "--url", "https://example.com/in"};
    auto s = centrali(concat({"sign"}, concat(common, {"--data-file", dir.str("body.bin")})));
    REQUIRE(s.exit_code == 0);
    testing::RunOptions piped;
    piped.stdin_data = body;
    auto v = centrali(concat(concat({"verify"}, common), header_args(s.out)), piped);
    CHECK(v.exit_code == 0);
    CHECK(v.out == "valid (" + c.scheme + ", matched secret #1)\n");
    auto f = centrali(concat(concat({"verify", "--data-file", dir.str("body.bin")}, common), header_args(s.out)));
    CHECK(f.exit_code == 0);
    auto d = centrali(concat(concat({"verify", "--data", body + "x"}, common), header_args(s.out)));
    CHECK(d.exit_code == 1);
  }
}

TEST_CASE("centrali verify exits 1 with the reason on stderr and hints as hint: lines", "[cli][sign]")
{
  auto s = centrali({"sign", "--scheme", "github", "--secret", "It's a Secret to Everybody", "--data", "Hello, World!"});
  REQUIRE(s.exit_code == 0);
  auto v = centrali(concat({"verify", "--scheme", "github", "--secret", "It's a Secret to Everybody", "--data",
                            "Hello, World!\n"},
                           header_args(s.out)));
  CHECK(v.exit_code == 1);
  CHECK(v.out.empty());
  CHECK_THAT(v.err, Catch::Contains("centrali: error: signature invalid: no signature matched"));
  CHECK_THAT(v.err, Catch::Contains("hint: the signature matches the body without its trailing newline"));
}

TEST_CASE("centrali verify --json prints valid, scheme, reason and hints on stdout", "[cli][sign]")
{
  auto s = centrali({"sign", "--scheme", "stripe", "--secret", "whsec_test_secret", "--timestamp", "1700000000",
                     "--data", k_body});
  REQUIRE(s.exit_code == 0);
  auto ok = centrali(concat({"verify", "--json", "--scheme", "stripe", "--secret", "whsec_test_secret", "--now",
                             "1700000100", "--data", k_body},
                            header_args(s.out)));
  REQUIRE(ok.exit_code == 0);
  auto doc = json::parse(ok.out);
  CHECK(doc["valid"] == true);
  CHECK(doc["scheme"] == "stripe");
  CHECK(doc["reason"].is_null());
  CHECK(doc["matched_secret"] == 1);

  auto late = centrali(concat({"verify", "--json", "--scheme", "stripe", "--secret", "whsec_test_secret", "--now",
                               "1700000412", "--data", k_body},
                              header_args(s.out)));
  CHECK(late.exit_code == 1);
  auto bad = json::parse(late.out);
  CHECK(bad["valid"] == false);
  CHECK(bad["failure"] == "timestamp_too_old");
  CHECK(bad["reason"] == "timestamp is 412 s older than now; tolerance is 300 s");
  CHECK(bad["hints"].is_array());
  CHECK_THAT(late.err, Catch::Contains("signature invalid: timestamp is 412 s older than now"));

  auto tolerant = centrali(concat({"verify", "--scheme", "stripe", "--secret", "whsec_test_secret", "--now",
                                   "1700000412", "--tolerance", "10m", "--data", k_body},
                                  header_args(s.out)));
  CHECK(tolerant.exit_code == 0);
}

TEST_CASE("centrali verify with two --secret accepts either and reports which matched", "[cli][sign]")
{
  auto s = centrali({"sign", "--scheme", "standard", "--secret", k_whsec, "--secret",
                     "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "--data", "x"});
  REQUIRE(s.exit_code == 0);
  CHECK_THAT(s.out, Catch::Contains("webhook-signature: v1,"));
  CHECK_THAT(s.out, Catch::Contains(" v1,"));
  auto v = centrali(concat({"verify", "--scheme", "standard", "--secret", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                            "--secret", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "--data", "x"},
                           header_args(s.out)));
  CHECK(v.exit_code == 0);
  CHECK(v.out == "valid (standard, matched secret #2)\n");
}

TEST_CASE("centrali verify usage errors exit 2: unknown scheme, header without colon, bad numbers, bad secret",
          "[cli][sign]")
{
  std::vector<std::string> hdr = {"--header", "X-Hub-Signature-256: sha256=00"};
  auto unknown = centrali(concat({"verify", "--scheme", "paypal", "--secret", "s", "--data", "x"}, hdr));
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown scheme 'paypal'"));

  auto colon = centrali({"verify", "--scheme", "github", "--secret", "s", "--header", "no colon", "--data", "x"});
  CHECK(colon.exit_code == 2);
  CHECK_THAT(colon.err, Catch::Contains("has no colon"));

  auto tol = centrali(concat({"verify", "--scheme", "github", "--secret", "s", "--tolerance", "-5", "--data", "x"}, hdr));
  CHECK(tol.exit_code == 2);
  auto now = centrali(concat({"verify", "--scheme", "github", "--secret", "s", "--now", "soon", "--data", "x"}, hdr));
  CHECK(now.exit_code == 2);

  auto secret = centrali({"verify", "--scheme", "standard", "--secret", "whsec_!!!", "--header", "webhook-id: m",
                          "--header", "webhook-timestamp: 1", "--header", "webhook-signature: v1,AAAA", "--data", "x"});
  CHECK(secret.exit_code == 2);
  CHECK_THAT(secret.err, Catch::Contains("not valid base64"));
  CHECK(secret.err.find("!!!") == std::string::npos);

  auto twilio = centrali({"verify", "--scheme", "twilio", "--secret", "s", "--header", "X-Twilio-Signature: AAAA",
                          "--data", "x"});
  CHECK(twilio.exit_code == 2);
  CHECK_THAT(twilio.err, Catch::Contains("--url"));

  auto both = centrali(concat({"verify", "--scheme", "github", "--secret", "s", "--data", "x", "--data-file", "/dev/null"}, hdr));
  CHECK(both.exit_code == 2);
  auto missing = centrali(concat({"verify", "--scheme", "github", "--data", "x"}, hdr));
  CHECK(missing.exit_code == 2);
}

TEST_CASE("centrali verify bad requests exit 1 with a reason: missing, malformed, huge and duplicate headers",
          "[cli][sign]")
{
  auto missing = centrali({"verify", "--scheme", "stripe", "--secret", "s", "--data", "x"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("the Stripe-Signature header is missing"));

  auto ts = centrali({"verify", "--scheme", "slack", "--secret", "s", "--header", "X-Slack-Signature: v0=00",
                      "--header", "X-Slack-Request-Timestamp: 99999999999999999999999", "--data", "x"});
  CHECK(ts.exit_code == 1);
  CHECK_THAT(ts.err, Catch::Contains("out of range"));

  auto huge = centrali({"verify", "--scheme", "shopify", "--secret", "s", "--header",
                        "X-Shopify-Hmac-Sha256: " + std::string(20000, 'A'), "--data", "x"});
  CHECK(huge.exit_code == 1);
  CHECK_THAT(huge.err, Catch::Contains("the limit is 8192"));

  auto dup = centrali({"verify", "--scheme", "shopify", "--secret", "s", "--header", "X-Shopify-Hmac-Sha256: AAAA",
                       "--header", "x-shopify-hmac-sha256: BBBB", "--data", "x"});
  CHECK(dup.exit_code == 1);
  CHECK_THAT(dup.err, Catch::Contains("appears 2 times"));

  auto hex = centrali({"verify", "--scheme", "github", "--secret", "s", "--header", "X-Hub-Signature-256: sha256=xyz",
                       "--data", ""});
  CHECK(hex.exit_code == 1);
  CHECK_THAT(hex.err, Catch::Contains("no well-formed signature"));
}

TEST_CASE("centrali keys generate makes secrets that sign and verify, including v1a with its public key",
          "[cli][sign]")
{
  for (std::string scheme : {"standard", "stripe"}) {
    INFO(scheme);
    auto k = centrali({"keys", "generate", "--scheme", scheme, "--json"});
    REQUIRE(k.exit_code == 0);
    auto doc = json::parse(k.out);
    CHECK(doc["scheme"] == scheme);
    CHECK(doc["public_key"].is_null());
    auto secret = doc["secret"].get<std::string>();
    CHECK(secret.starts_with("whsec_"));
    auto s = centrali({"sign", "--scheme", scheme, "--secret", secret, "--data", "hi"});
    REQUIRE(s.exit_code == 0);
    auto v = centrali(concat({"verify", "--scheme", scheme, "--secret", secret, "--data", "hi"}, header_args(s.out)));
    CHECK(v.exit_code == 0);
  }

  auto k = centrali({"keys", "generate", "--scheme", "v1a"});
  REQUIRE(k.exit_code == 0);
  auto nl = k.out.find('\n');
  REQUIRE(nl != std::string::npos);
  auto secret_line = k.out.substr(0, nl);
  auto public_line = k.out.substr(nl + 1, k.out.find('\n', nl + 1) - nl - 1);
  // Piped (as here), the lines are the bare keys, ready for $(...).
  REQUIRE(secret_line.starts_with("whsk_"));
  REQUIRE(public_line.starts_with("whpk_"));
  auto secret = secret_line;
  auto pub = public_line;
  auto s = centrali({"sign", "--scheme", "v1a", "--secret", secret, "--data", "hi"});
  REQUIRE(s.exit_code == 0);
  CHECK_THAT(s.out, Catch::Contains("webhook-signature: v1a,"));
  auto v = centrali(concat({"verify", "--scheme", "standard", "--secret", pub, "--data", "hi"}, header_args(s.out)));
  CHECK(v.exit_code == 0);
  auto wrong = centrali(concat({"verify", "--scheme", "v1a", "--secret", pub, "--data", "ho"}, header_args(s.out)));
  CHECK(wrong.exit_code == 1);

  auto github = centrali({"keys", "generate", "--scheme", "github"});
  CHECK(github.exit_code == 2);
}

TEST_CASE("centrali sign for twilio adds bodySHA256 to the URL for a JSON body and says where to send it",
          "[cli][sign]")
{
  auto s = centrali({"sign", "--json", "--scheme", "twilio", "--secret", "PSKtest1234567890abcdef", "--url",
                     "https://example.ngrok.io/webhook", "--data", R"({"event":"call.state"})"});
  REQUIRE(s.exit_code == 0);
  auto doc = json::parse(s.out);
  CHECK(doc["headers"]["X-Twilio-Signature"] == "dfO9ek8mxyFtn2nMz24plPmPfIY=");
  auto url = doc["url"].get<std::string>();
  CHECK(url ==
        "https://example.ngrok.io/webhook?bodySHA256=69f3cbfc18e386ef8236cb7008cd5a54b7fed637a8cb3373b5a1591d7f0fd5f4");
  auto v = centrali({"verify", "--scheme", "twilio", "--secret", "PSKtest1234567890abcdef", "--url", url, "--header",
                     "X-Twilio-Signature: dfO9ek8mxyFtn2nMz24plPmPfIY=", "--data", R"({"event":"call.state"})"});
  CHECK(v.exit_code == 0);
}

TEST_CASE("centrali sign usage errors exit 2: bad whsec_ secret, missing --scheme, bad --timestamp", "[cli][sign]")
{
  CHECK(centrali({"sign", "--scheme", "standard", "--secret", "whsec_%%%", "--data", "x"}).exit_code == 2);
  CHECK(centrali({"sign", "--secret", "s", "--data", "x"}).exit_code == 2);
  CHECK(centrali({"sign", "--scheme", "stripe", "--secret", "s", "--timestamp", "yesterday", "--data", "x"}).exit_code == 2);
  CHECK(centrali({"sign", "--scheme", "github", "--secret", "a", "--secret", "b", "--data", "x"}).exit_code == 2);
  CHECK(centrali({"sign", "--scheme", "twilio", "--secret", "a", "--data", "x"}).exit_code == 2);
}

TEST_CASE("centrali sign --secret env:NAME and file:PATH sign exactly as the literal secret does", "[cli][sign]")
{
  TempDir dir;
  std::ofstream(dir.str("secret")) << k_whsec << "\n";
  std::vector<std::string> fixed = {"--scheme", "standard", "--id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                    "--timestamp", "1614265330", "--data", k_body};
  auto literal = centrali(concat({"sign", "--secret", k_whsec}, fixed));
  REQUIRE(literal.exit_code == 0);
  CHECK_THAT(literal.out, Catch::Contains("webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));

  testing::RunOptions env;
  env.env["CENTRALI_TEST_SIGNING_SECRET"] = k_whsec;
  auto from_env = centrali(concat({"sign", "--secret", "env:CENTRALI_TEST_SIGNING_SECRET"}, fixed), env);
  CHECK(from_env.exit_code == 0);
  CHECK(from_env.out == literal.out);

  auto from_file = centrali(concat({"sign", "--secret", "file:" + dir.str("secret")}, fixed));
  CHECK(from_file.exit_code == 0);
  CHECK(from_file.out == literal.out);
}

TEST_CASE("centrali verify --secret env:NAME and file:PATH verify as the literal secret does", "[cli][sign]")
{
  TempDir dir;
  std::ofstream(dir.str("secret")) << "gh-secret\n";
  auto s = centrali({"sign", "--scheme", "github", "--secret", "gh-secret", "--data", k_body});
  REQUIRE(s.exit_code == 0);
  testing::RunOptions env;
  env.env["CENTRALI_TEST_VERIFY_SECRET"] = "gh-secret";
  env.env["CENTRALI_TEST_WRONG_SECRET"] = "another-secret";
  for (const std::string& ref : std::vector<std::string>{"env:CENTRALI_TEST_VERIFY_SECRET", "file:" + dir.str("secret")}) {
    INFO(ref);
    auto v = centrali(concat({"verify", "--scheme", "github", "--secret", ref, "--data", k_body}, header_args(s.out)),
                      env);
    CHECK(v.exit_code == 0);
    CHECK(v.out == "valid (github, matched secret #1)\n");
  }
  auto wrong = centrali(concat({"verify", "--scheme", "github", "--secret", "env:CENTRALI_TEST_WRONG_SECRET", "--data",
                                k_body},
                               header_args(s.out)),
                        env);
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("another-secret") == std::string::npos);
}

TEST_CASE("centrali sign and verify with an unreadable --secret reference exit 2, naming it and no secret",
          "[cli][sign]")
{
  TempDir dir;
  testing::RunOptions env;
  env.env["CENTRALI_TEST_SET_SECRET"] = k_whsec;
  env.unset_env = {"CENTRALI_TEST_UNSET_SECRET"};
  std::vector<std::string> hdr = {"--header", "X-Hub-Signature-256: sha256=00"};
  for (const std::string& ref : std::vector<std::string>{"env:CENTRALI_TEST_UNSET_SECRET", "file:" + dir.str("absent")}) {
    INFO(ref);
    // The usable secret given first must not show up in the error either.
    auto s = centrali({"sign", "--scheme", "standard", "--secret", "env:CENTRALI_TEST_SET_SECRET", "--secret", ref,
                       "--data", "x"},
                      env);
    CHECK(s.exit_code == 2);
    CHECK(s.out.empty());
    CHECK_THAT(s.err, Catch::StartsWith("centrali: error: "));
    CHECK_THAT(s.err, Catch::Contains(ref));
    CHECK(s.err.find(k_whsec) == std::string::npos);
    CHECK(s.err.find("MfKQ9r8") == std::string::npos);

    auto v = centrali(concat({"verify", "--scheme", "github", "--secret", "env:CENTRALI_TEST_SET_SECRET", "--secret",
                              ref, "--data", "x"},
                             hdr),
                      env);
    CHECK(v.exit_code == 2);
    CHECK(v.out.empty());
    CHECK_THAT(v.err, Catch::Contains(ref));
    CHECK(v.err.find("MfKQ9r8") == std::string::npos);
  }
}

TEST_CASE("a secret captured with $(centrali keys generate) is the bare secret, and a labelled or padded one is refused", "[cli][sign]")
{
  TempDir dir;
  auto store = dir.store();
  auto generated = centrali({"keys", "generate", "--scheme", "stripe"});
  REQUIRE(generated.exit_code == 0);
  auto secret = generated.out.substr(0, generated.out.find('\n'));
  CHECK(secret.starts_with("whsec_"));
  CHECK(centrali({"--store", store, "sources", "add", "st", "--provider", "stripe", "--secret", secret}).exit_code == 0);

  auto labelled = centrali({"--store", store, "sources", "add", "a", "--provider", "stripe", "--secret", "secret: " + secret});
  CHECK(labelled.exit_code == 2);
  CHECK_THAT(labelled.err, Catch::Contains("starts with 'secret:'"));
  auto padded = centrali({"--store", store, "sources", "add", "b", "--provider", "stripe", "--secret", secret + "\n"});
  CHECK(padded.exit_code == 2);
  CHECK_THAT(padded.err, Catch::Contains("spaces or a line break"));
}

// Binary tests: a source's secret given as `env:NAME` or `file:PATH` (README,
// Commands; centrali-listen(1), HTTP ANSWERS). The listener verifies with the
// value it reads there; when it cannot read it, the sender gets
// `500 {"error":"source_misconfigured"}` and nothing more, while the
// listener's log and the stored event say why. The secret's value is never
// stored, logged or shown.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

const std::string k_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string k_other_secret = "whsec_cGxlYXNlLWRvLW5vdC11c2UtdGhpcy1rZXk=";
const std::string k_body = R"({"type":"order.created","data":{"id":"ord_1"}})";

// Everything a person or a program can read back about `store`: the source,
// its events (with their headers and bodies) and the listener's log.
std::string everything_shown(const std::string& store, const std::string& log)
{
  std::string all = log + cli(store, {"sources", "list"}).out + cli(store, {"--json", "sources", "list"}).out;
  for (const auto& e : cli_json(store, {"events", "list"}))
    all += cli(store, {"--json", "events", "show", e["id"].get<std::string>()}).out;
  return all;
}

// A listener for `store` (with `env`) that must answer a request signed with
// `secret` with `status`; returns the answer and the listener's log.
std::pair<Sent, std::string> ingest_once(const std::string& store, const RunOptions& env, const std::string& secret)
{
  Listen l(store, {}, env);
  auto answer = post(l.url(), "/ingest/orders", k_body, sign("standard", secret, k_body));
  REQUIRE(l.process().stop(SIGTERM) == 0);
  return {answer, l.process().err()};
}

} // namespace

TEST_CASE("a source's env: secret verifies with the variable the listener was started with", "[cli][secrets]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"sources", "add", "orders", "--provider", "standard", "--secret", "env:CENTRALI_TEST_ORDERS_SECRET"});
  CHECK(cli_json(store, {"sources", "show", "orders"})["secrets"] == json{"env:CENTRALI_TEST_ORDERS_SECRET"});

  RunOptions env;
  env.env["CENTRALI_TEST_ORDERS_SECRET"] = k_secret;
  auto [good, good_log] = ingest_once(store, env, k_secret);
  CHECK(good.status == 202);
  // It checks: a request signed with another key is refused.
  auto [forged, forged_log] = ingest_once(store, env, k_other_secret);
  CHECK(forged.status == 401);

  CHECK(everything_shown(store, good_log + forged_log).find(k_secret.substr(6)) == std::string::npos);
}

TEST_CASE("a source's file: secret verifies with the file's first line", "[cli][secrets]")
{
  TempDir dir;
  const auto store = dir.store();
  std::ofstream(dir.str("secret")) << k_secret << "\n";
  cli_ok(store, {"sources", "add", "orders", "--provider", "standard", "--secret", "file:" + dir.str("secret")});
  auto [good, good_log] = ingest_once(store, {}, k_secret);
  CHECK(good.status == 202);
  auto [forged, forged_log] = ingest_once(store, {}, k_other_secret);
  CHECK(forged.status == 401);
  CHECK(everything_shown(store, good_log + forged_log).find(k_secret.substr(6)) == std::string::npos);
}

TEST_CASE("an unreadable env: or file: secret answers 500 source_misconfigured - the log and the store say why",
          "[cli][secrets]")
{
  TempDir dir;
  const auto store = dir.store();
  std::filesystem::create_directory(dir.path() / "a-folder");
  std::ofstream(dir.str("empty-line")) << "\n" << k_secret << "\n";
  struct Case {
    std::string reference;
    std::string why;  // what the log and the stored event say
  };
  const std::vector<Case> cases = {
      {"env:CENTRALI_TEST_NEVER_SET", "env:CENTRALI_TEST_NEVER_SET: environment variable is not set"},
      {"env:CENTRALI_TEST_EMPTY", "env:CENTRALI_TEST_EMPTY: environment variable is not set"},
      {"file:" + dir.str("absent"), "file:" + dir.str("absent") + ": cannot read the file"},
      {"file:" + dir.str("a-folder"), "file:" + dir.str("a-folder") + ": cannot read the file"},
      {"file:" + dir.str("empty-line"), "file:" + dir.str("empty-line") + ": the first line is empty"},
  };
  RunOptions env;
  env.env["CENTRALI_TEST_EMPTY"] = "";
  env.unset_env = {"CENTRALI_TEST_NEVER_SET"};
  for (const auto& c : cases) {
    INFO(c.reference);
    cli(store, {"sources", "rm", "orders"});  // the previous case's (not found the first time)
    cli_ok(store, {"sources", "add", "orders", "--provider", "standard", "--secret", c.reference});
    auto [answer, log] = ingest_once(store, env, k_secret);
    CHECK(answer.status == 500);
    // The sender learns that the source is misconfigured, not how.
    CHECK(json::parse(answer.body) == json{{"error", "source_misconfigured"}});
    CHECK(answer.body.find("CENTRALI_TEST") == std::string::npos);
    CHECK(answer.body.find(dir.path().string()) == std::string::npos);
    // The listener's log says why, and so does the stored refusal.
    INFO("log:\n" << log);
    CHECK_THAT(log, Catch::Contains("500"));
    CHECK_THAT(log, Catch::Contains(c.why));
    auto events = cli_json(store, {"events", "list", "--source", "orders", "--limit", "1"});
    REQUIRE(events.size() == 1);
    CHECK(events[0]["status"] == "rejected");
    CHECK(events[0]["http_status"] == 500);
    CHECK_THAT(events[0]["reason"].get<std::string>(), Catch::Contains(c.why));
  }
  // The one readable secret of the lot (the file's second line) was never taken.
  CHECK(everything_shown(store, "").find(k_secret.substr(6)) == std::string::npos);
}

// `centrali store copy --to LOCATION` as a user meets it: ingested events
// moved into a new store with every byte, a summary in text or one JSON
// document, an occupied target refused with exit 1, and a URL's password
// never shown. The PostgreSQL parts run when CENTRALI_TEST_POSTGRES is set.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "scratch_postgres.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

std::string queued_id(const Sent& sent)
{
  INFO(sent.body);
  REQUIRE(sent.status == 202);
  return json::parse(sent.body)["id"].get<std::string>();
}

// A store with events received over HTTP (one with a body of every byte)
// and made locally; returns their ids.
std::vector<std::string> store_with_events(const std::string& store)
{
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  std::vector<std::string> ids;
  {
    Listen l(store);
    std::string every_byte;
    for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
    ids.push_back(queued_id(post(l.url(), "/ingest/open", every_byte, {{"X-Event-Type", "blob.raw"}},
                                 "application/octet-stream")));
    for (int n = 0; n < 3; ++n)
      ids.push_back(queued_id(post(l.url(), "/ingest/open", R"({"type":"order.created","n":)" + std::to_string(n) + "}",
                                   {{"X-Event-Type", "order.created"}})));
  }
  ids.push_back(cli_json(store, {"events", "emit", "local.thing", "--data", R"({"caf\u00e9":true})"})["id"]);
  return ids;
}

void check_same_events(const std::string& a, const std::string& b, const std::vector<std::string>& ids)
{
  for (const auto& id : ids) {
    INFO(id);
    CHECK(cli_json(a, {"events", "show", id}) == cli_json(b, {"events", "show", id}));
  }
}

// `url` with `password` in its user part.
std::string with_password(const std::string& url, const std::string& password)
{
  const auto user = url.find("://") + 3;
  const auto at = url.find('@', user);
  REQUIRE(at != std::string::npos);
  return url.substr(0, at) + ":" + password + url.substr(at);
}

} // namespace

TEST_CASE("store copy moves ingested events into a new SQLite store byte for byte and says what it copied",
          "[cli][store]")
{
  TempDir dir;
  const auto from = dir.str("from.db");
  const auto ids = store_with_events(from);

  auto r = cli(from, {"store", "copy", "--to", dir.str("to.db")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("copied ") && Catch::Contains("5 events") && Catch::Contains("1 sources") &&
                        Catch::EndsWith(" to " + dir.str("to.db") + "\n"));
  check_same_events(from, dir.str("to.db"), ids);

  auto doc = cli_json(from, {"store", "copy", "--to", dir.str("again.db")});
  CHECK(doc["from"] == from);
  CHECK(doc["to"] == dir.str("again.db"));
  CHECK(doc["tables"]["events"] == 5);
  CHECK(doc["tables"]["sources"] == 1);
  CHECK(doc["tables"]["webhooks"] == 0);
  CHECK(doc.size() == 3);
}

TEST_CASE("store copy refuses a target that holds anything, exits 1, names it and copies nothing", "[cli][store]")
{
  TempDir dir;
  const auto from = dir.str("from.db");
  store_with_events(from);
  const auto to = dir.str("to.db");
  cli_ok(to, {"events", "emit", "mine", "--data", "{}"});

  auto r = cli(from, {"store", "copy", "--to", to});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: ") && Catch::Contains(to) && Catch::Contains("not empty"));
  CHECK(r.out.empty());
  CHECK(cli_json(to, {"store", "info"})["tables"]["events"] == 1);

  auto j = cli(from, {"--json", "store", "copy", "--to", to});
  CHECK(j.exit_code == 1);
  CHECK(json::parse(j.err)["error"]["kind"] == "rejected");
}

TEST_CASE("store copy to PostgreSQL and back keeps every event, and never shows the URL's password",
          "[cli][store][postgres]")
{
  if (!postgres_available()) {
    SUCCEED("skipped: set CENTRALI_TEST_POSTGRES to a PostgreSQL server URL (dev.sh test does)");
    return;
  }
  TempDir dir;
  ScratchDatabase database;
  const auto from = dir.str("from.db");
  const auto ids = store_with_events(from);
  // Trust authentication takes any password: only its absence from output is tested.
  const auto url = with_password(database.url(), "sekrit");
  auto no_password = [](const RunResult& run) {
    CHECK(run.out.find("sekrit") == std::string::npos);
    CHECK(run.err.find("sekrit") == std::string::npos);
  };

  auto there = cli(from, {"--json", "store", "copy", "--to", url});
  INFO(there.err);
  REQUIRE(there.exit_code == 0);
  no_password(there);
  const auto doc = json::parse(there.out);
  CHECK(doc["to"] == with_password(database.url(), "***"));
  CHECK(doc["tables"]["events"] == 5);

  auto again = cli(from, {"store", "copy", "--to", url});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains(with_password(database.url(), "***")));
  no_password(again);

  const auto back = dir.str("back.db");
  auto home = cli(url, {"store", "copy", "--to", back});
  INFO(home.err);
  REQUIRE(home.exit_code == 0);
  no_password(home);
  CHECK_THAT(home.out, Catch::Contains("5 events"));
  check_same_events(from, url, ids);
  check_same_events(from, back, ids);

  // The copied keys are taken: a new event on PostgreSQL needs the
  // sequence moved past them, and lists after them.
  auto fresh = cli_json(url, {"events", "emit", "after.copy", "--data", "{}"});
  auto newest = cli_json(url, {"events", "list", "--limit", "1"});
  REQUIRE(newest.is_array());
  REQUIRE(newest.size() == 1);
  CHECK(newest[0]["id"] == fresh["id"]);
}

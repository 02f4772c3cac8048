// Binary tests of `centrali records`: CRUD with merge patches and versions,
// the record_* events each change emits, and bad input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

TEST_CASE("records create, update with a merge patch, get, list and delete keep versions", "[cli][records]")
{
  TempDir dir;
  auto store = dir.store();
  auto created = cli_json(store, {"records", "create", "orders", "--data",
                                  R"({"total":10,"status":"new","customer":{"name":"Ada","country":"UK"}})"});
  std::string id = created["id"];
  CHECK_THAT(id, Catch::StartsWith("rec_"));
  CHECK(created["version"] == 1);
  CHECK(created["collection"] == "orders");

  auto human = cli(store, {"records", "create", "orders", "--data", R"({"total":5,"status":"paid"})"});
  REQUIRE(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::StartsWith("rec_") && Catch::Contains("version 1"));

  auto updated = cli_json(store, {"records", "update", id, "--data",
                                  R"({"status":"paid","customer":{"country":"DE"},"total":null})"});
  CHECK(updated["version"] == 2);
  CHECK(updated["data"] == json{{"status", "paid"}, {"customer", {{"name", "Ada"}, {"country", "DE"}}}});
  auto got = cli_json(store, {"records", "get", id});
  CHECK(got["data"] == updated["data"]);
  CHECK(got["version"] == 2);

  CHECK(cli_json(store, {"records", "list", "orders"}).size() == 2);
  auto paid = cli_json(store, {"records", "list", "orders", "--where", "status=paid", "--where", "customer.country=DE"});
  REQUIRE(paid.size() == 1);
  CHECK(paid[0]["id"] == id);
  CHECK(cli_json(store, {"records", "list", "orders", "--where", "total=5"}).size() == 1);
  CHECK(cli_json(store, {"records", "list", "orders", "--limit", "1"}).size() == 1);
  CHECK(cli_json(store, {"records", "list", "users"}).empty());

  RunOptions with_stdin;
  with_stdin.stdin_data = R"({"note":"from stdin"})";
  auto piped = cli(store, {"records", "update", id, "--data", "-"}, with_stdin);
  INFO(piped.err);
  REQUIRE(piped.exit_code == 0);
  CHECK_THAT(piped.out, Catch::Contains("version 3"));

  auto deleted = cli(store, {"records", "delete", id});
  REQUIRE(deleted.exit_code == 0);
  CHECK(cli(store, {"records", "get", id}).exit_code == 3);
}

TEST_CASE("records changes emit record_created, record_updated with before/after, and record_deleted", "[cli][records]")
{
  TempDir dir;
  auto store = dir.store();
  std::string id = cli_json(store, {"records", "create", "orders", "--data", R"({"a":1})"})["id"];
  cli_json(store, {"records", "update", id, "--data", R"({"a":2})"});
  cli_json(store, {"records", "delete", id});
  auto events = cli_json(store, {"events", "list", "--type", "record_*", "--source", "local"});
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "record_deleted");
  CHECK(events[1]["type"] == "record_updated");
  CHECK(events[2]["type"] == "record_created");
  auto created = json::parse(cli_json(store, {"events", "show", events[2]["id"]})["body"].get<std::string>());
  CHECK(created == json{{"collection", "orders"}, {"id", id}, {"version", 1}, {"data", {{"a", 1}}}});
  auto updated = json::parse(cli_json(store, {"events", "show", events[1]["id"]})["body"].get<std::string>());
  CHECK(updated["before"] == json{{"a", 1}});
  CHECK(updated["after"] == json{{"a", 2}});
  CHECK(updated["data"] == json{{"a", 2}});
  CHECK(updated["version"] == 2);
  auto deleted = json::parse(cli_json(store, {"events", "show", events[0]["id"]})["body"].get<std::string>());
  CHECK(deleted["data"] == json{{"a", 2}});
  CHECK(deleted["version"] == 2);
}

TEST_CASE("records refuse malformed JSON, non-objects, bad names and unknown ids with the right exit codes",
          "[cli][records]")
{
  TempDir dir;
  auto store = dir.store();
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"records", "create", "orders", "--data", "{bad"}, 2, "not valid JSON"},
      {{"records", "create", "orders", "--data", "[1,2]"}, 2, "must be a JSON object"},
      {{"records", "create", "bad name", "--data", "{}"}, 2, "invalid collection name"},
      {{"records", "update", "rec_missing", "--data", "{}"}, 3, "no record rec_missing"},
      {{"records", "delete", "rec_missing"}, 3, "no record"},
      {{"records", "get", "rec_missing"}, 3, "no record"},
      {{"records", "list", "orders", "--where", "novalue"}, 2, "expected field=value"},
  };
  for (const auto& c : cases) {
    auto r = cli(store, c.args);
    INFO(c.args[1] << " " << c.args[2] << ": " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK_THAT(r.err, Catch::Contains(c.message));
    CHECK(r.out.empty());
  }
  CHECK(cli_json(store, {"events", "list"}).empty());  // nothing half-written
}

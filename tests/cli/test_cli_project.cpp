// Binary tests of the project file: `apply`, `export-config` and
// `listen --config`, on real stores.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

const std::string k_standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string write(const TempDir& dir, const std::string& name, const json& content)
{
  auto path = dir.str(name);
  std::ofstream(path) << content.dump(2);
  return path;
}

json project()
{
  return {
      {"sources",
       {{{"name", "stripe"}, {"provider", "stripe"}, {"secrets", {"env:CENTRALI_TEST_STRIPE"}}},
        {{"name", "open"}, {"provider", "none"}, {"forward_to", "http://127.0.0.1:9/app"}}}},
      {"webhooks",
       {{{"name", "erp"},
         {"url", "http://127.0.0.1:9/erp"},
         {"events", {"order.*"}},
         {"secret", "env:CENTRALI_TEST_ERP"},
         {"retry_schedule", "30s,2m"}}}},
      {"triggers",
       {{{"name", "on-order"}, {"on", "event"}, {"events", {"order.*"}}, {"run", "cat"}},
        {{"name", "nightly"}, {"on", "schedule"}, {"cron", "0 3 * * *"}, {"run", "true"}}}}};
}

RunOptions secrets_env()
{
  RunOptions o;
  o.env["CENTRALI_TEST_STRIPE"] = "whsec_test_secret";
  o.env["CENTRALI_TEST_ERP"] = k_standard_secret;
  return o;
}

json apply(const std::string& store, const std::vector<std::string>& args, int expected_exit = 0)
{
  std::vector<std::string> full{"--json", "apply"};
  full.insert(full.end(), args.begin(), args.end());
  auto r = cli(store, full, secrets_env());
  INFO(r.err);
  REQUIRE(r.exit_code == expected_exit);
  return expected_exit == 0 ? json::parse(r.out) : json();
}

} // namespace

TEST_CASE("apply creates what the file names, and applying it again changes nothing", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  auto file = write(dir, "centrali.json", project());
  auto dry = apply(store, {"-f", file, "--dry-run"});
  CHECK(dry["changes"] == 5);
  CHECK(dry["dry_run"] == true);
  CHECK(cli_json(store, {"sources", "list"}).empty());  // nothing changed

  auto first = apply(store, {"-f", file});
  CHECK(first["changes"] == 5);
  for (const auto& c : first["plan"]) CHECK(c["action"] == "create");
  auto again = apply(store, {"-f", file});
  CHECK(again["changes"] == 0);
  for (const auto& c : again["plan"]) CHECK(c["action"] == "unchanged");

  // The source keeps its reference; the webhook stores the value it names.
  auto source = cli_json(store, {"sources", "show", "stripe"});
  CHECK(source["secrets"][0] == "env:CENTRALI_TEST_STRIPE");
  auto hooks = cli_json(store, {"webhooks", "list"});
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0]["retry_schedule"] == "30s,2m");

  // A change to one field updates just that entry.
  auto changed = project();
  changed["webhooks"][0]["url"] = "http://127.0.0.1:9/erp-v2";
  changed["triggers"][0]["run"] = "cat >/dev/null";
  auto update = apply(store, {"-f", write(dir, "changed.json", changed)});
  CHECK(update["changes"] == 2);
  int updates = 0;
  for (const auto& c : update["plan"])
    if (c["action"] == "update") {
      ++updates;
      CHECK(c["fields"].size() == 1);
    }
  CHECK(updates == 2);
}

TEST_CASE("apply --prune deletes what the file no longer names - webhooks made by hand without a name stay", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  apply(store, {"-f", write(dir, "full.json", project())});
  cli_ok(store, {"webhooks", "add", "--url", "http://127.0.0.1:9/hand", "--events", "*"});
  auto smaller = project();
  smaller["sources"].erase(1);
  smaller["triggers"].erase(1);
  smaller["webhooks"] = json::array();
  auto file = write(dir, "smaller.json", smaller);
  auto kept = apply(store, {"-f", file});
  CHECK(kept["changes"] == 0);  // without --prune nothing goes
  auto pruned = apply(store, {"-f", file, "--prune"});
  CHECK(pruned["changes"] == 3);
  CHECK(cli_json(store, {"sources", "list"}).size() == 1);
  CHECK(cli_json(store, {"triggers", "list"}).size() == 1);
  auto hooks = cli_json(store, {"webhooks", "list"});
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0]["url"] == "http://127.0.0.1:9/hand");
}

TEST_CASE("a broken project file exits 2 naming the JSON path, and changes nothing", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  struct Case {
    std::string what;
    std::function<void(json&)> edit;
    std::string path;
  };
  std::vector<Case> cases = {
      {"unknown provider", [](json& p) { p["sources"][0]["provider"] = "strip"; }, "sources[0].provider"},
      {"a field misspelt", [](json& p) { p["sources"][1]["forward"] = "x"; }, "sources[1]: unknown field 'forward'"},
      {"a secret with its label", [](json& p) { p["sources"][0]["secrets"][0] = "secret: whsec_x"; }, "sources[0].secrets[0]"},
      {"a bad webhook URL", [](json& p) { p["webhooks"][0]["url"] = "ftp://x"; }, "webhooks[0].url"},
      {"a bad retry schedule", [](json& p) { p["webhooks"][0]["retry_schedule"] = "soon"; }, "webhooks[0].retry_schedule"},
      {"a trigger without run", [](json& p) { p["triggers"][1].erase("run"); }, "triggers[1].run"},
      {"a bad cron", [](json& p) { p["triggers"][1]["cron"] = "every day"; }, "triggers[1] (nightly)"},
      {"a name twice", [](json& p) { p["triggers"][1]["name"] = "on-order"; }, "triggers[1].name"},
      {"an unknown section", [](json& p) { p["hooks"] = json::array(); }, "hooks: unknown section"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto p = project();
    c.edit(p);
    auto r = cli(store, {"apply", "-f", write(dir, "broken.json", p)}, secrets_env());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.path));
  }
  {
    std::ofstream(dir.str("not.json")) << "{\"sources\": [";
  }
  CHECK(cli(store, {"apply", "-f", dir.str("not.json")}).exit_code == 2);
  // An unset secret variable is found before anything is written.
  auto unset = cli(store, {"apply", "-f", write(dir, "ok.json", project())});
  CHECK(unset.exit_code == 2);
  CHECK_THAT(unset.err, Catch::Contains("sources[0].secrets[0]: secret env:CENTRALI_TEST_STRIPE"));
  RunOptions half;
  half.env["CENTRALI_TEST_STRIPE"] = "whsec_test_secret";
  auto unset_webhook = cli(store, {"apply", "-f", dir.str("ok.json")}, half);
  CHECK(unset_webhook.exit_code == 2);
  CHECK_THAT(unset_webhook.err, Catch::Contains("webhooks[0].secret: secret env:CENTRALI_TEST_ERP"));
  {
    std::ofstream(dir.str("syntax.json")) << "{\n  \"sources\": [\n    {\"name\": \"a\",}\n  ]\n}\n";
  }
  auto syntax = cli(store, {"apply", "-f", dir.str("syntax.json")});
  CHECK(syntax.exit_code == 2);
  CHECK_THAT(syntax.err, Catch::Contains("line 3"));
  CHECK(cli_json(store, {"sources", "list"}).empty());
  CHECK(cli_json(store, {"triggers", "list"}).empty());
}

TEST_CASE("export-config writes references and placeholders, never a secret, and applies back unchanged", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  apply(store, {"-f", write(dir, "p.json", project())});
  cli_ok(store, {"sources", "add", "literal", "--provider", "standard", "--secret", k_standard_secret});
  auto exported = cli(store, {"export-config"});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out.find(k_standard_secret) == std::string::npos);
  CHECK(exported.out.find("whsec_test_secret") == std::string::npos);
  CHECK_THAT(exported.out, Catch::Contains("env:CENTRALI_TEST_STRIPE"));
  CHECK_THAT(exported.out, Catch::Contains("env:CENTRALI_SECRET_LITERAL"));
  CHECK_THAT(exported.err, Catch::Contains("env:CENTRALI_SECRET_LITERAL"));
  std::ofstream(dir.str("exported.json")) << exported.out;
  RunOptions env = secrets_env();
  env.env["CENTRALI_SECRET_LITERAL"] = k_standard_secret;
  auto r = cli(store, {"--json", "apply", "-f", dir.str("exported.json")}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto plan = json::parse(r.out);
  // Only the literal secret becomes its placeholder reference.
  CHECK(plan["changes"] == 1);
  // Unset, the placeholder is refused instead of breaking the source.
  auto unset = cli(store, {"apply", "-f", dir.str("exported.json")}, secrets_env());
  CHECK(unset.exit_code == 0);  // already applied: its secrets no longer change
  cli_ok(store, {"sources", "rm", "literal"});
  auto fresh = cli(store, {"apply", "-f", dir.str("exported.json")}, secrets_env());
  CHECK(fresh.exit_code == 2);
  CHECK_THAT(fresh.err, Catch::Contains("CENTRALI_SECRET_LITERAL"));
}

TEST_CASE("apply judges endpoint paths on the result - swaps and takeovers from pruned triggers work, clashes fail even in a dry run", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  auto endpoints = [](const std::string& a_path, const std::string& b_path) {
    return json{{"triggers",
                 {{{"name", "a"}, {"on", "endpoint"}, {"path", a_path}, {"run", "echo a"}},
                  {{"name", "b"}, {"on", "endpoint"}, {"path", b_path}, {"run", "echo b"}}}}};
  };
  apply(store, {"-f", write(dir, "one.json", endpoints("/p1", "/p2"))});
  auto swapped = apply(store, {"-f", write(dir, "two.json", endpoints("/p2", "/p1"))});
  CHECK(swapped["changes"] == 2);
  CHECK(cli_json(store, {"triggers", "show", "a"})["path"] == "/p2");

  cli_ok(store, {"triggers", "add", "old", "--on", "endpoint", "--path", "/p3", "--run", "echo old"});
  auto takeover = endpoints("/p3", "/p1");
  auto clash = cli(store, {"apply", "-f", write(dir, "three.json", takeover), "--dry-run"});
  CHECK(clash.exit_code == 1);
  CHECK_THAT(clash.err, Catch::Contains("/p3"));
  CHECK(cli(store, {"apply", "-f", dir.str("three.json")}).exit_code == 1);
  auto pruned = apply(store, {"-f", dir.str("three.json"), "--prune"});
  CHECK(pruned["changes"] == 2);  // old deleted, a moved to its path
  CHECK(cli_json(store, {"triggers", "show", "a"})["path"] == "/p3");
}

TEST_CASE("listen --config applies the project file before it serves", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  auto file = write(dir, "centrali.json", project());
  Listen l(store, {"--config", file}, secrets_env());
  const std::string body = R"({"id":"evt_1","type":"order.created"})";
  CHECK(post(l.url(), "/ingest/stripe", body, sign("stripe", "whsec_test_secret", body)).status == 202);
  CHECK_THAT(l.process().err(), Catch::Contains("applied " + file + ": 5 changes"));
  auto broken = project();
  broken["sources"][0]["provider"] = "strip";
  auto bad = cli(dir.str("other.db"), {"listen", "--port", "0", "--config", write(dir, "broken.json", broken)});
  CHECK(bad.exit_code == 2);
}

TEST_CASE("export-config writes durations that apply reads back exactly, sub-second parts included", "[cli][project]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"webhooks", "add", "--name", "erp", "--url", "http://127.0.0.1:9/x", "--events", "*", "--timeout",
                 "1500ms", "--retry-schedule", "1500ms,61500ms,2m", "--disable-after", "90s"});
  auto exported = cli(store, {"export-config"});
  REQUIRE(exported.exit_code == 0);
  std::ofstream(dir.str("exported.json")) << exported.out;
  auto other = dir.str("other.db");
  RunOptions env;
  env.env["CENTRALI_SECRET_ERP"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto r = cli(other, {"apply", "-f", dir.str("exported.json")}, env);
  INFO(exported.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto hook = cli_json(other, {"webhooks", "show", "erp"});
  CHECK(hook["timeout_ms"] == 1500);
  CHECK(hook["retry_schedule"] == "1500ms,61500ms,2m");
  CHECK(hook["disable_after_ms"] == 90000);
}

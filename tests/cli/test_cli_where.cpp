// Binary tests of content queries: `--where` on events, deliveries and
// replays, webhook `--filter`s and trigger `--where`s through a real
// listener and dispatch, `events show --explain`, and bad conditions.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "wait.hpp"
#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string emit(const std::string& store, const std::string& type, const std::string& data)
{
  auto r = cli(store, {"events", "emit", type, "--data", data});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

// Ids in a JSON listing, in its order.
std::vector<std::string> ids(const json& list, const char* key = "id")
{
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item[key].get<std::string>());
  return out;
}

// Four invoices (newest last) and one body that is not JSON.
struct Invoices {
  std::string small, big, refunded, other_customer, text;
};

Invoices seed_invoices(const std::string& store)
{
  Invoices e;
  e.small = emit(store, "invoice.paid", R"({"data":{"object":{"customer":"cus_1","amount":50,"email":"a@example.com"}}})");
  e.big = emit(store, "invoice.paid", R"({"data":{"object":{"customer":"cus_1","amount":5000,"items":[{"sku":"A-1"}]}}})");
  e.refunded = emit(store, "invoice.paid",
                    R"({"data":{"object":{"customer":"cus_1","amount":"120","refund":{"id":"re_1"},"email":"b@test.dev"}}})");
  e.other_customer = emit(store, "invoice.paid", R"({"data":{"object":{"customer":"cus_2","amount":7000}}})");
  // A form post, not JSON: nothing matches it but !exists. Imported, so it
  // is listed but never fanned out.
  e.text = "evt_01HAAAAAAAAAAAAAAAAAAAAAAA";
  TempDir scratch;
  auto file = scratch.str("form.ndjson");
  std::ofstream(file) << json{{"id", e.text}, {"source", "form"}, {"type", "form.posted"}, {"status", "accepted"},
                              {"received_at", "2026-01-01T00:00:00Z"}, {"body", "customer=cus_1&amount=9000"}}
                             .dump()
                      << "\n";
  cli_ok(store, {"events", "import", file});
  return e;
}

std::vector<std::string> listed(const std::string& store, std::vector<std::string> where)
{
  std::vector<std::string> args{"events", "list", "--limit", "0"};
  for (const auto& w : where) {
    args.push_back("--where");
    args.push_back(w);
  }
  return ids(cli_json(store, args));
}

} // namespace

TEST_CASE("events list --where matches nested fields, numbers, arrays and missing fields, newest first", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  auto e = seed_invoices(store);
  using V = std::vector<std::string>;
  CHECK(listed(store, {"data.object.customer=cus_1"}) == V{e.refunded, e.big, e.small});
  CHECK(listed(store, {"data.object.amount>=100"}) == V{e.other_customer, e.big});  // "120" is a string
  CHECK(listed(store, {"data.object.amount = \"120\""}) == V{e.refunded});
  CHECK(listed(store, {"data.object.customer=cus_1", "data.object.amount<1000"}) == V{e.small});
  CHECK(listed(store, {"data.object.email~@example.com"}) == V{e.small});
  CHECK(listed(store, {"data.object.items.0.sku=A-1"}) == V{e.big});
  CHECK(listed(store, {"data.object.refund exists"}) == V{e.refunded});
  CHECK(listed(store, {"data.object.refund !exists"}) == V{e.text, e.other_customer, e.big, e.small});
  CHECK(listed(store, {"customer=cus_1"}).empty());  // the form body is not JSON
  // The limit counts matches, not rows read.
  CHECK(ids(cli_json(store, {"events", "list", "--where", "data.object.customer=cus_1", "--limit", "2"})) ==
        V{e.refunded, e.big});
  // With the other filters, and in exports.
  CHECK(ids(cli_json(store, {"events", "list", "--source", "local", "--where", "data.object.amount>1000"})) ==
        V{e.other_customer, e.big});
  auto exported = cli(store, {"events", "export", "--where", "data.object.customer=cus_2"});
  REQUIRE(exported.exit_code == 0);
  CHECK(json::parse(exported.out.substr(0, exported.out.find('\n')))["id"] == e.other_customer);
  CHECK(std::count(exported.out.begin(), exported.out.end(), '\n') == 1);
}

TEST_CASE("a bad --where exits 2 naming the condition and the problem", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  emit(store, "invoice.paid", "{}");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"events", "list", "--where", "data.amount>>5"}, "--where 'data.amount>>5': '>5' is not a value"},
           {{"events", "list", "--where", "data..amount=1"}, "--where 'data..amount=1': path 'data..amount' has an empty segment"},
           {{"events", "list", "--where", "data.items[0].sku=A"}, "array elements are segments too, e.g. items.0.sku"},
           {{"events", "list", "--where", "data.amount"}, "--where 'data.amount': no operator after data.amount"},
           {{"deliveries", "list", "--where", "data.amount>="}, "no value after '>='"},
           {{"webhooks", "replay", "--where", ".data=1", "--dry-run"}, "starts with '.'"},
           {{"events", "replay", "--where", "data.x>true", "--to", "http://127.0.0.1:9/"}, "compares numbers or strings"},
           {{"webhooks", "add", "--url", "http://127.0.0.1:9/", "--events", "*", "--filter", "data.x=="}, "--filter 'data.x=='"},
           {{"triggers", "add", "t", "--on", "event", "--events", "*", "--run", "true", "--where", "a b"},
            "--where 'a b': no operator after a"},
           {{"triggers", "add", "t", "--on", "demand", "--run", "true", "--where", "a=1"},
            "--where only applies to --on event triggers"},
       }) {
    auto r = cli(store, c.args);
    INFO(c.args[0] << " " << c.args[1] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.says));
  }
  // Nothing was stored by the refused adds.
  CHECK(cli_json(store, {"webhooks", "list"}).empty());
  CHECK(cli_json(store, {"triggers", "list"}).empty());
}

TEST_CASE("deliveries list --where reads the delivered event's body", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  auto hook = cli_json(store, {"webhooks", "add", "--url", "http://127.0.0.1:9/x", "--events", "invoice.*",
                               "--retry-schedule", "none"});
  auto e = seed_invoices(store);
  auto d = cli(store, {"dispatch", "--until-idle"});
  CHECK(d.exit_code == 1);  // every delivery failed: nothing listens on :9
  auto all = cli_json(store, {"deliveries", "list", "--limit", "0"});
  REQUIRE(all.size() == 4);
  auto matched = cli_json(store, {"deliveries", "list", "--where", "data.object.customer=cus_1", "--where",
                                  "data.object.amount>=100"});
  REQUIRE(matched.size() == 1);
  CHECK(matched[0]["event_id"] == e.big);
  CHECK(matched[0]["webhook_id"] == hook["id"]);
  // webhooks replay takes the same condition (a dry run lists what it would send).
  auto replay = cli_json(store, {"webhooks", "replay", "--status", "failed", "--where", "data.object.customer=cus_2",
                                 "--dry-run"});
  CHECK(replay["matched"] == 1);
  CHECK(replay["deliveries"][0]["event_id"] == e.other_customer);
}

TEST_CASE("events replay --where sends only the matching events to a real receiver, oldest first", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  auto e = seed_invoices(store);
  Receiver app;
  auto r = cli(store, {"--json", "events", "replay", "--where", "data.object.customer=cus_1", "--where",
                       "data.object.refund !exists", "--to", app.url("/hooks")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto got = app.received();
  REQUIRE(got.size() == 2);
  CHECK(json::parse(got[0].body)["data"]["object"]["amount"] == 50);
  CHECK(json::parse(got[1].body)["data"]["object"]["amount"] == 5000);
  CHECK(ids(json::parse(r.out), "event") == std::vector<std::string>{e.small, e.big});
  auto none = cli(store, {"events", "replay", "--where", "data.object.customer=cus_9", "--to", app.url("/hooks")});
  CHECK(none.exit_code == 3);
  CHECK(app.received().size() == 2);
}

TEST_CASE("a webhook --filter receives only the events that meet it, from a running listener", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  Receiver all_hooks, big_hooks;
  cli_ok(store, {"webhooks", "add", "--url", all_hooks.url(), "--events", "invoice.*"});
  auto big = cli_json(store, {"webhooks", "add", "--url", big_hooks.url(), "--events", "invoice.*", "--filter",
                              "data.object.amount>=1000", "--filter", "data.object.customer=cus_1"});
  CHECK(big["filter"] == json::array({"data.object.amount>=1000", "data.object.customer=cus_1"}));
  auto shown = cli_json(store, {"webhooks", "show", big["id"]});
  CHECK(shown["filter"] == big["filter"]);
  auto e = seed_invoices(store);
  Listen listen(store);  // fans out what is pending, then what comes
  REQUIRE(all_hooks.wait_for(4));
  REQUIRE(big_hooks.wait_for(1));
  // Nothing else arrives: everything fanned out has been sent.
  REQUIRE(wait_until([&] { return cli_json(store, {"deliveries", "list", "--status", "pending"}).empty(); }));
  auto got = big_hooks.received();
  REQUIRE(got.size() == 1);
  auto envelope = json::parse(got[0].body);
  CHECK(envelope["data"]["data"]["object"]["amount"] == 5000);
  CHECK(all_hooks.received().size() == 4);
  // update --filter replaces the conditions; --clear-filter removes them.
  auto updated = cli_json(store, {"webhooks", "update", big["id"], "--filter", "data.object.customer=cus_2"});
  CHECK(updated["filter"] == json::array({"data.object.customer=cus_2"}));
  emit(store, "invoice.paid", R"({"data":{"object":{"customer":"cus_2","amount":1}}})");
  emit(store, "invoice.paid", R"({"data":{"object":{"customer":"cus_1","amount":99999}}})");
  REQUIRE(big_hooks.wait_for(2));
  REQUIRE(wait_until([&] { return cli_json(store, {"deliveries", "list", "--status", "pending"}).empty(); }));
  got = big_hooks.received();
  REQUIRE(got.size() == 2);
  CHECK(json::parse(got[1].body)["data"]["data"]["object"]["customer"] == "cus_2");
  CHECK(cli_json(store, {"webhooks", "update", big["id"], "--clear-filter"})["filter"].empty());
  CHECK(cli(store, {"webhooks", "update", big["id"], "--clear-filter", "--filter", "a=1"}).exit_code == 2);
}

TEST_CASE("an event trigger --where runs only for events that meet it", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  auto added = cli_json(store, {"triggers", "add", "refunds", "--on", "event", "--events", "invoice.*", "--where",
                                "data.object.refund exists", "--run", "cat > /dev/null"});
  CHECK(added["where"] == json::array({"data.object.refund exists"}));
  auto text = cli(store, {"triggers", "show", "refunds"});
  CHECK_THAT(text.out, Catch::Contains("invoice.* where data.object.refund exists"));
  auto e = seed_invoices(store);
  auto r = cli(store, {"dispatch", "--until-idle"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto runs = cli_json(store, {"triggers", "runs", "refunds"});
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["event_id"] == e.refunded);
  CHECK(runs[0]["status"] == "completed");
}

TEST_CASE("events show --explain says which webhooks and triggers take the event, and which condition failed", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  auto all = cli_json(store, {"webhooks", "add", "--url", "http://127.0.0.1:9/a", "--events", "invoice.*", "--name", "erp",
                              "--retry-schedule", "none"});
  auto big = cli_json(store, {"webhooks", "add", "--url", "http://127.0.0.1:9/b", "--events", "invoice.*", "--filter",
                              "data.object.customer=cus_1", "--filter", "data.object.amount>=1000"});
  auto orders = cli_json(store, {"webhooks", "add", "--url", "http://127.0.0.1:9/c", "--events", "order.*"});
  cli_ok(store, {"triggers", "add", "refunds", "--on", "event", "--events", "*", "--where", "data.object.refund exists",
                 "--run", "true"});
  auto id = emit(store, "invoice.paid", R"({"data":{"object":{"customer":"cus_1","amount":50}}})");
  cli(store, {"dispatch", "--until-idle"});
  auto doc = cli_json(store, {"events", "show", id, "--explain"});
  const auto& routes = doc["routes"];
  REQUIRE(routes.size() == 4);
  auto route = [&](const std::string& rid) -> const json& {
    for (const auto& r : routes)
      if (r["id"] == rid) return r;
    FAIL("no route " << rid);
    return routes[0];
  };
  CHECK(route(all["id"])["matches"] == true);
  CHECK(route(all["id"])["deliveries"].size() == 1);
  CHECK(route(all["id"])["name"] == "erp");
  const auto& b = route(big["id"]);
  CHECK(b["matches"] == false);
  CHECK(b["reason"] == "data.object.amount>=1000 does not hold (data.object.amount is 50)");
  CHECK(b["deliveries"].empty());
  REQUIRE(b["conditions"].size() == 2);
  CHECK(b["conditions"][0] == json{{"condition", "data.object.customer=cus_1"}, {"held", true}, {"found", "\"cus_1\""}});
  CHECK(b["conditions"][1]["held"] == false);
  CHECK(route(orders["id"])["reason"] == "type invoice.paid does not match 'order.*'");
  const auto& t = route("refunds");
  CHECK(t["kind"] == "trigger");
  CHECK(t["reason"] == "data.object.refund exists does not hold (data.object.refund is missing)");
  CHECK(t["runs"].empty());
  auto text = cli(store, {"events", "show", id, "--explain"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("data.object.amount>=1000 does not hold (data.object.amount is 50)"));
  CHECK_THAT(text.out, Catch::Contains("fails data.object.amount>=1000  (found 50)"));
  // Without --explain, no routes.
  CHECK_FALSE(cli_json(store, {"events", "show", id}).contains("routes"));
}

TEST_CASE("the project file carries webhook filters and trigger conditions both ways", "[cli][where]")
{
  TempDir dir;
  auto store = dir.store();
  auto file = dir.str("centrali.json");
  std::ofstream(file) << R"({"webhooks": [{"name": "big", "url": "http://127.0.0.1:9/b", "events": ["invoice.*"],
                                           "filter": ["data.object.amount>=1000"]}],
                            "triggers": [{"name": "refunds", "on": "event", "events": ["*"], "run": "true",
                                          "where": ["data.object.refund exists"]}]})";
  cli_ok(store, {"apply", "-f", file});
  auto hooks = cli_json(store, {"webhooks", "list"});
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0]["filter"] == json::array({"data.object.amount>=1000"}));
  CHECK(cli_json(store, {"triggers", "show", "refunds"})["where"] == json::array({"data.object.refund exists"}));
  auto exported = cli_json(store, {"export-config"});
  CHECK(exported["webhooks"][0]["filter"] == json::array({"data.object.amount>=1000"}));
  CHECK(exported["triggers"][0]["where"] == json::array({"data.object.refund exists"}));
  // Applying again changes nothing; a changed filter is an update of that field.
  CHECK(cli_json(store, {"apply", "-f", file})["changes"] == 0);
  std::ofstream(file) << R"({"webhooks": [{"name": "big", "url": "http://127.0.0.1:9/b", "events": ["invoice.*"],
                                           "filter": ["data.object.amount>>1000"]}]})";
  auto bad = cli(store, {"apply", "-f", file});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("webhooks[0].filter 'data.object.amount>>1000'"));
}

// Binary tests of `centrali triggers`: every trigger kind end to end through
// a real `centrali listen`, with real commands (shell scripts written here).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// An executable shell script in `dir`.
std::string script(const TempDir& dir, const std::string& name, const std::string& body)
{
  auto path = dir.str(name);
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string slurp(const std::string& path)
{
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool finished(const json& run)
{
  return run["status"] != "queued" && run["status"] != "running";
}

// Waits until `trigger` has at least `n` finished runs; returns them, oldest first.
json wait_for_runs(const std::string& store, const std::string& trigger, std::size_t n,
                   std::chrono::milliseconds timeout = 20s)
{
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json done = json::array();
  while (true) {
    auto runs = cli_json(store, {"triggers", "runs", trigger, "--limit", "0"});
    done = json::array();
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
      if (finished(*it)) done.push_back(*it);
    if (done.size() >= n || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  INFO("runs of " << trigger << ": " << done.dump());
  REQUIRE(done.size() >= n);
  return done;
}

// Whether process `pid` is gone (or a zombie nobody reaped yet).
bool process_gone(int pid)
{
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = content.rfind(')');
  return close != std::string::npos && close + 2 < content.size() && content[close + 2] == 'Z';
}

} // namespace

TEST_CASE("a record change runs an event trigger with the record and CENTRALI_ variables on stdin", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  auto fn = script(dir, "fn.sh",
                   "cat > \"" + dir.str() + "/stdin-$CENTRALI_RUN_ID.json\"\n"
                   "printf '%s|%s|%s' \"$CENTRALI_TRIGGER\" \"$CENTRALI_EVENT_TYPE\" \"$CENTRALI_STORE\" "
                   "> \"" + dir.str() + "/env-$CENTRALI_RUN_ID\"\n"
                   "echo '{\"handled\":true}'");
  cli_ok(store, {"triggers", "add", "on-orders", "--on", "event", "--events", "record_created,record_updated",
                 "--collection", "orders", "--param", "team=ops", "--run", fn});
  Listen listen(store);
  std::string id = cli_json(store, {"records", "create", "orders", "--data", R"({"total":10})"})["id"];
  cli_json(store, {"records", "update", id, "--data", R"({"total":12})"});
  cli_json(store, {"records", "create", "users", "--data", R"({"name":"x"})"});  // another collection

  auto runs = wait_for_runs(store, "on-orders", 2);
  CHECK(runs.size() == 2);
  for (const auto& r : runs) {
    CHECK(r["status"] == "completed");
    CHECK(r["origin"] == "event");
    CHECK(r["output"] == json{{"handled", true}});
  }
  auto created = json::parse(slurp(dir.str("stdin-" + runs[0]["id"].get<std::string>() + ".json")));
  CHECK(created["triggerParams"] == json{{"team", "ops"}});
  const auto& ep = created["executionParams"];
  CHECK(ep["event"]["type"] == "record_created");
  CHECK(ep["event"]["source"] == "local");
  CHECK(ep["event"]["id"] == runs[0]["event_id"]);
  CHECK(ep["record"] == json{{"collection", "orders"}, {"id", id}, {"version", 1}, {"data", {{"total", 10}}}});
  auto updated = json::parse(slurp(dir.str("stdin-" + runs[1]["id"].get<std::string>() + ".json")));
  CHECK(updated["executionParams"]["record"]["before"] == json{{"total", 10}});
  CHECK(updated["executionParams"]["record"]["after"] == json{{"total", 12}});
  CHECK(updated["executionParams"]["record"]["version"] == 2);
  CHECK(slurp(dir.str("env-" + runs[1]["id"].get<std::string>())) == "on-orders|record_updated|" + store);
  // The users record ran nothing. Absence has no condition to poll for:
  // this sleep is the window a wrong run would have to show up in.
  std::this_thread::sleep_for(500ms);
  CHECK(cli_json(store, {"triggers", "runs", "on-orders"}).size() == 2);
}

TEST_CASE("an ingested event runs an event trigger with its data and headers", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  auto fn = script(dir, "fn.sh", "cat > \"" + dir.str() + "/stdin.json\"");
  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  cli_ok(store, {"triggers", "add", "paid", "--on", "event", "--events", "order.*", "--source", "open", "--run", fn});
  Listen listen(store);
  auto sent = post(listen.url(), "/ingest/open", R"({"type":"order.paid","amount":42})", {{"X-Shop", "one"}});
  REQUIRE(sent.status == 202);
  post(listen.url(), "/ingest/open", R"({"type":"user.created"})");  // does not match the glob
  auto runs = wait_for_runs(store, "paid", 1);
  CHECK(runs[0]["status"] == "completed");
  auto doc = json::parse(slurp(dir.str("stdin.json")));
  const auto& event = doc["executionParams"]["event"];
  CHECK(event["id"] == json::parse(sent.body)["id"]);
  CHECK(event["type"] == "order.paid");
  CHECK(event["source"] == "open");
  CHECK(event["data"] == json{{"type", "order.paid"}, {"amount", 42}});
  CHECK(event["headers"]["x-shop"] == "one");
  CHECK_FALSE(doc["executionParams"].contains("record"));
  std::this_thread::sleep_for(500ms);  // the window a run for user.created would show up in (absence: nothing to poll)
  CHECK(cli_json(store, {"triggers", "runs", "paid"}).size() == 1);
}

TEST_CASE("an --every 1s schedule fires while listen runs and gives each run its tick", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "tick", "--on", "schedule", "--every", "1s", "--run", "cat"});
  Listen listen(store);
  auto runs = wait_for_runs(store, "tick", 2, 10s);
  auto first = cli_json(store, {"triggers", "runs", "show", runs[0]["id"]});
  CHECK(first["origin"] == "schedule");
  CHECK(first["status"] == "completed");
  const auto& input = first["input"];
  REQUIRE(input.contains("scheduledAt"));
  REQUIRE(input.contains("firedAt"));
  // `cat` echoes its stdin: the output is the document it was given.
  CHECK(first["output"]["executionParams"] == input);
  auto second = cli_json(store, {"triggers", "runs", "show", runs[1]["id"]});
  CHECK(second["input"]["scheduledAt"] != input["scheduledAt"]);
}

TEST_CASE("triggers show prints the next five fire times in the trigger's zone", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "nightly", "--on", "schedule", "--cron", "30 2 * * *", "--tz", "Europe/Berlin",
                 "--run", "true"});
  auto shown = cli_json(store, {"triggers", "show", "nightly"});
  REQUIRE(shown["next_fires"].size() == 5);
  std::regex local(R"(\d{4}-\d\d-\d\dT0[23]:[0-5]\d:00\+0[12]:00)");
  for (const auto& f : shown["next_fires"]) CHECK(std::regex_match(f.get<std::string>(), local));
  CHECK(shown["tz"] == "Europe/Berlin");
  auto human = cli(store, {"triggers", "show", "nightly"});
  REQUIRE(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("next fires") && Catch::Contains(shown["next_fires"][4].get<std::string>()));

  cli_ok(store, {"triggers", "add", "often", "--on", "schedule", "--every", "10m", "--run", "true"});
  auto often = cli_json(store, {"triggers", "show", "often"});
  REQUIRE(often["next_fires"].size() == 5);
  CHECK(often["next_fires"][0] == often["next_fire_at"]);
}

TEST_CASE("endpoint triggers answer with the function's output and map failures to 502 and 504", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  auto echo_request = script(dir, "req.sh", "cat > \"" + dir.str() + "/req.json\"; echo '{\"ok\": true}'");
  cli_ok(store, {"triggers", "add", "json", "--on", "endpoint", "--path", "/json", "--method", "POST", "--run",
                 echo_request});
  cli_ok(store, {"triggers", "add", "text", "--on", "endpoint", "--path", "/text", "--run", "echo plain words"});
  cli_ok(store, {"triggers", "add", "shaped", "--on", "endpoint", "--path", "/shaped", "--response", "envelope", "--run",
                 R"(echo '{"statusCode":201,"headers":{"X-Made":"yes"},"body":{"id":7}}')"});
  cli_ok(store, {"triggers", "add", "broken", "--on", "endpoint", "--path", "/broken", "--run",
                 "echo internal-secret-detail >&2; echo partial; exit 1"});
  cli_ok(store, {"triggers", "add", "slow", "--on", "endpoint", "--path", "/slow", "--timeout", "500ms", "--run",
                 "echo started; sleep 10"});
  Listen listen(store);

  auto ok = post(listen.url(), "/endpoints/json?x=1&x=2&y=z", R"({"q":"hi"})", {{"X-Caller", "test"}});
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"ok\": true}\n");
  CHECK_THAT(ok.headers.find("Content-Type")->second, Catch::StartsWith("application/json"));
  auto req = json::parse(slurp(dir.str("req.json")))["executionParams"]["request"];
  CHECK(req["method"] == "POST");
  CHECK(req["path"] == "/json");
  CHECK(req["query"] == json{{"x", {"1", "2"}}, {"y", "z"}});
  CHECK(req["body"] == json{{"q", "hi"}});
  CHECK(req["headers"]["x-caller"] == "test");

  auto text = get(listen.url(), "/endpoints/text");
  CHECK(text.status == 200);
  CHECK(text.body == "plain words\n");
  CHECK_THAT(text.headers.find("Content-Type")->second, Catch::StartsWith("text/plain"));

  auto shaped = get(listen.url(), "/endpoints/shaped");
  CHECK(shaped.status == 201);
  CHECK(shaped.headers.find("X-Made")->second == "yes");
  CHECK(json::parse(shaped.body) == json{{"id", 7}});

  auto broken = get(listen.url(), "/endpoints/broken");
  CHECK(broken.status == 502);
  auto broken_body = json::parse(broken.body);
  CHECK(broken_body["error"] == "function_failed");
  std::string broken_run = broken_body["run"];
  for (const auto& [k, v] : broken.headers) CHECK_THAT(v, !Catch::Contains("internal-secret-detail"));
  CHECK_THAT(broken.body, !Catch::Contains("internal-secret-detail") && !Catch::Contains("partial"));

  auto slow = get(listen.url(), "/endpoints/slow");
  CHECK(slow.status == 504);
  CHECK(json::parse(slow.body)["error"] == "function_timeout");

  CHECK(get(listen.url(), "/endpoints/unknown").status == 404);
  auto wrong = get(listen.url(), "/endpoints/json");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers.find("Allow")->second == "POST");

  // Each request is a run in the log, with what the caller never saw.
  auto run = cli_json(store, {"triggers", "runs", "show", broken_run});
  CHECK(run["origin"] == "endpoint");
  CHECK(run["status"] == "failure");
  CHECK(run["exit_code"] == 1);
  CHECK_THAT(run["stderr"].get<std::string>(), Catch::Contains("internal-secret-detail"));
  CHECK(wait_for_runs(store, "slow", 1)[0]["status"] == "timeout");
  CHECK(wait_for_runs(store, "json", 1)[0]["status"] == "completed");
}

TEST_CASE("a timed-out function is killed together with every process it started", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  auto pidfile = dir.str("child.pid");
  auto fn = script(dir, "fn.sh", "sleep 300 &\necho $! > \"" + pidfile + "\"\nwait");
  cli_ok(store, {"triggers", "add", "hang", "--on", "demand", "--timeout", "1s", "--run", fn});
  auto r = cli(store, {"triggers", "fire", "hang", "--wait"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("timed out after 1s"));  // not after the child's `sleep 300`
  int pid = std::stoi(slurp(pidfile));
  bool gone = false;
  for (int i = 0; i < 50 && !(gone = process_gone(pid)); ++i) std::this_thread::sleep_for(100ms);
  CHECK(gone);
  if (!gone) ::kill(pid, SIGKILL);
  CHECK(cli_json(store, {"triggers", "runs", "hang"})[0]["status"] == "timeout");
}

TEST_CASE("runs of a trigger with --concurrency 1 never overlap and start in event order", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  auto log = dir.str("log");
  auto fn = script(dir, "fn.sh",
                   "n=$(grep -o '\"n\":[0-9]*' | head -1 | cut -d: -f2)\n"
                   "echo \"start $n\" >> \"" + log + "\"\nsleep 0.2\necho \"end $n\" >> \"" + log + "\"");
  cli_ok(store, {"triggers", "add", "serial", "--on", "event", "--events", "record_created", "--concurrency", "1",
                 "--run", fn});
  for (int i = 1; i <= 4; ++i) cli_json(store, {"records", "create", "jobs", "--data", "{\"n\":" + std::to_string(i) + "}"});
  Listen listen(store);
  wait_for_runs(store, "serial", 4);
  CHECK(slurp(log) == "start 1\nend 1\nstart 2\nend 2\nstart 3\nend 3\nstart 4\nend 4\n");
}

TEST_CASE("a function printing more than 1 MiB keeps its first MiB and says it was truncated", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "loud", "--on", "demand", "--run",
                 "head -c 50000000 /dev/zero | tr '\\0' x; head -c 3000000 /dev/zero | tr '\\0' y >&2"});
  auto r = cli(store, {"triggers", "fire", "loud", "--wait"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 1u << 20);
  CHECK(r.out.find_first_not_of('x') == std::string::npos);
  auto run = cli_json(store, {"triggers", "runs", "show", cli_json(store, {"triggers", "runs", "loud"})[0]["id"]});
  CHECK(run["status"] == "completed");
  CHECK(run["stdout"].get<std::string>().size() == 1u << 20);
  CHECK(run["stderr"].get<std::string>().size() == 1u << 20);
  CHECK(run["error"] == "stdout truncated at 1 MiB; stderr truncated at 1 MiB");
}

TEST_CASE("triggers fire --wait prints the output and exits 0, or 1 when the function fails", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  auto fn = script(dir, "fn.sh", "cat > \"" + dir.str() + "/stdin.json\"; printf 'hello\\n'");
  cli_ok(store, {"triggers", "add", "greet", "--on", "demand", "--param", "who=world", "--run", fn});
  cli_ok(store, {"triggers", "add", "fails", "--on", "demand", "--run", "echo why >&2; exit 4"});
  cli_ok(store, {"triggers", "add", "missing", "--on", "demand", "--run", "centrali-no-such-command-xyz --x"});

  auto ok = cli(store, {"triggers", "fire", "greet", "--data", R"({"n":1})", "--wait"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "hello\n");
  auto doc = json::parse(slurp(dir.str("stdin.json")));
  CHECK(doc == json{{"triggerParams", {{"who", "world"}}}, {"executionParams", {{"data", {{"n", 1}}}}}});
  auto as_json = cli(store, {"--json", "triggers", "fire", "greet", "--wait"});
  CHECK(as_json.exit_code == 0);
  auto run = json::parse(as_json.out);
  CHECK(run["status"] == "completed");
  CHECK(run["output"] == "hello\n");
  CHECK(run["origin"] == "demand");

  auto failed = cli(store, {"triggers", "fire", "fails", "--wait"});
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.err, Catch::Contains("why") && Catch::Contains("exit code 4"));
  auto missing = cli(store, {"triggers", "fire", "missing", "--wait"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("command not found: centrali-no-such-command-xyz"));
  auto logged = cli_json(store, {"triggers", "runs", "missing"});
  REQUIRE(logged.size() == 1);
  CHECK(logged[0]["status"] == "failure");
  CHECK(logged[0]["error"] == "command not found: centrali-no-such-command-xyz");
}

TEST_CASE("triggers fire without --wait queues a run that a running listener executes", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "later", "--on", "demand", "--run", "cat"});
  Listen listen(store);
  auto r = cli(store, {"triggers", "fire", "later", "--data", R"({"x":1})"});
  REQUIRE(r.exit_code == 0);
  std::string id = r.out.substr(0, r.out.find('\n'));
  CHECK_THAT(id, Catch::StartsWith("run_"));
  auto runs = wait_for_runs(store, "later", 1);
  CHECK(runs[0]["id"] == id);
  CHECK(runs[0]["output"]["executionParams"] == json{{"data", {{"x", 1}}}});
}

TEST_CASE("triggers rerun queues a new run with the same input, linked to the first", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "echo", "--on", "demand", "--run", "cat"});
  auto first = json::parse(cli(store, {"--json", "triggers", "fire", "echo", "--data", R"({"v":3})", "--wait"}).out);
  auto again = cli(store, {"triggers", "rerun", first["id"]});
  REQUIRE(again.exit_code == 0);
  std::string id = again.out.substr(0, again.out.find('\n'));
  CHECK(id != first["id"]);
  Listen listen(store);
  auto runs = wait_for_runs(store, "echo", 2);
  auto rerun = cli_json(store, {"triggers", "runs", "show", id});
  CHECK(rerun["status"] == "completed");
  CHECK(rerun["origin"] == "rerun");
  CHECK(rerun["rerun_of"] == first["id"]);
  CHECK(rerun["input"] == first["input"]);
  CHECK(rerun["output"] == first["output"]);
  CHECK(cli(store, {"triggers", "rerun", "run_nope"}).exit_code == 3);
}

TEST_CASE("a paused trigger starts no runs until it is resumed", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "watch", "--on", "event", "--events", "record_*", "--run", "true"});
  cli_ok(store, {"triggers", "pause", "watch"});
  CHECK(cli_json(store, {"triggers", "show", "watch"})["paused"] == true);
  Listen listen(store);
  cli_json(store, {"records", "create", "a", "--data", "{}"});
  auto fired = cli(store, {"triggers", "fire", "watch"});
  CHECK(fired.exit_code == 1);
  CHECK_THAT(fired.err, Catch::Contains("paused"));
  std::this_thread::sleep_for(1500ms);  // the window a paused trigger's run would show up in (absence: nothing to poll)
  CHECK(cli_json(store, {"triggers", "runs", "watch"}).empty());
  cli_ok(store, {"triggers", "resume", "watch"});
  cli_json(store, {"records", "create", "a", "--data", "{}"});
  auto runs = wait_for_runs(store, "watch", 1);
  CHECK(runs.size() == 1);
  CHECK(runs[0]["status"] == "completed");
}

TEST_CASE("bad trigger input fails with a clear message and the right exit code", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "taken", "--on", "endpoint", "--path", "/orders", "--run", "true"});
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"triggers", "add", "c", "--on", "schedule", "--cron", "0 25 * * *", "--run", "true"}, 2, "hour field '25'"},
      {{"triggers", "add", "c", "--on", "schedule", "--cron", "0 1 * * *", "--tz", "Mars/Olympus", "--run", "true"},
       2, "unknown time zone 'Mars/Olympus'"},
      {{"triggers", "add", "c", "--on", "schedule", "--at", "2001-01-01T00:00:00Z", "--run", "true"}, 2, "in the past"},
      {{"triggers", "add", "c", "--on", "event", "--run", "true"}, 2, "--events"},
      {{"triggers", "add", "c", "--on", "event", "--events", "*", "--path", "/x", "--run", "true"}, 2,
       "--path only applies"},
      {{"triggers", "add", "c", "--on", "whenever", "--run", "true"}, 2, "--on must be"},
      {{"triggers", "add", "taken", "--on", "demand", "--run", "true"}, 1, "already exists"},
      {{"triggers", "add", "c", "--on", "endpoint", "--path", "orders", "--method", "GET", "--run", "true"}, 1,
       "already served by trigger 'taken'"},
      {{"triggers", "fire", "taken", "--data", "{oops"}, 2, "--data is not valid JSON"},
      {{"triggers", "fire", "nope"}, 3, "no trigger named 'nope'"},
      {{"triggers", "show", "nope"}, 3, "no trigger named 'nope'"},
      {{"triggers", "rm", "nope"}, 3, "no trigger named 'nope'"},
      {{"triggers", "pause", "nope"}, 3, "no trigger named 'nope'"},
      {{"triggers", "runs", "show", "run_nope"}, 3, "no run run_nope"},
      {{"triggers", "runs", "nope"}, 3, "no trigger named 'nope'"},
  };
  for (const auto& c : cases) {
    auto r = cli(store, c.args);
    INFO(r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK_THAT(r.err, Catch::Contains(c.message));
  }
  CHECK(cli_json(store, {"triggers", "list"}).size() == 1);
}

TEST_CASE("triggers list, show and rm describe and remove triggers, keeping their runs", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  cli_ok(store, {"triggers", "add", "api", "--on", "endpoint", "--path", "/api/quote", "--method", "post", "--env",
                 "MODE=test", "--timeout", "5s", "--concurrency", "3", "--run", "echo 1"});
  auto shown = cli_json(store, {"triggers", "show", "api"});
  CHECK(shown["kind"] == "endpoint");
  CHECK(shown["url_path"] == "/endpoints/api/quote");
  CHECK(shown["method"] == "POST");
  CHECK(shown["env"] == json{{"MODE", "[redacted]"}});  // values are often keys: by name only
  CHECK(shown["timeout_ms"] == 5000);
  CHECK(shown["concurrency"] == 3);
  auto table = cli(store, {"triggers", "list"});
  CHECK_THAT(table.out, Catch::Contains("POST /endpoints/api/quote"));
  cli_ok(store, {"triggers", "fire", "api", "--wait"});
  cli_ok(store, {"triggers", "rm", "api"});
  CHECK(cli_json(store, {"triggers", "list"}).empty());
  CHECK(cli_json(store, {"triggers", "runs", "api"}).size() == 1);
}

TEST_CASE("dispatch --until-idle runs queued trigger runs and delivers the same change to a webhook", "[cli][triggers]")
{
  TempDir dir;
  auto store = dir.store();
  Receiver erp;
  auto fn = script(dir, "fn.sh", "cat > /dev/null\necho '{\"ok\":1}'");
  cli_ok(store, {"triggers", "add", "on-order", "--on", "event", "--events", "record_created", "--run", fn});
  cli_ok(store, {"webhooks", "add", "--url", erp.url("/erp"), "--events", "record_*"});
  cli_json(store, {"records", "create", "orders", "--data", R"({"total":42})"});
  auto r = cli(store, {"dispatch", "--until-idle"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1 trigger runs"));
  auto runs = cli_json(store, {"triggers", "runs", "on-order"});
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["status"] == "completed");
  REQUIRE(erp.received().size() == 1);
  auto body = json::parse(erp.received()[0].body);
  CHECK(body["type"] == "record_created");
  CHECK(body["data"]["data"]["total"] == 42);
}

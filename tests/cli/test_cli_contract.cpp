// Binary tests: the CLI contract scripts rely on (issue #25). Under --json
// every line on stderr is JSON; cut lists say so; unknown ids in filters
// exit 3; durations take a unit; typos get a suggestion; `help` and
// `version` work.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "loopback.hpp"
#include "process.hpp"
#include "seed_events.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {


// The one error object among `lines`, required to be there exactly once.
// (Attempt lines have an "error" too: a string, not an object.)
json the_error(const std::vector<json>& lines)
{
  std::vector<json> errors;
  for (const auto& l : lines)
    if (l.contains("error") && l["error"].is_object()) errors.push_back(l["error"]);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

// `centrali --json --store STORE ARGS...` expected to exit `code`; its
// stderr, line by line, as JSON.
std::vector<json> json_stderr(const std::string& store, std::vector<std::string> args, int code)
{
  args.insert(args.begin(), "--json");
  auto r = cli(store, args);
  INFO("centrali " << [&] {
    std::string all;
    for (const auto& a : args) all += a + " ";
    return all;
  }() << "\nstderr:\n" << r.err);
  CHECK(r.exit_code == code);
  return json_lines(r.err);
}

std::size_t line_count(const std::string& text)
{
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A list command over `total` rows (more than its default 50): cut with a
// note on stderr by default, whole with --limit 0, and no note when
// --limit was given.
void check_cut_list(const std::string& store, const std::vector<std::string>& list, std::size_t total,
                    const std::string& order)
{
  INFO(list[0] << " " << list[1]);
  REQUIRE(total > 50);
  auto human = cli(store, list);
  CHECK(human.exit_code == 0);
  CHECK(human.err == "showing the " + order + " 50; pass --limit 0 for all (or --limit N)\n");
  CHECK(line_count(human.out) == 51);  // the header and 50 rows

  auto with_json = list;
  with_json.insert(with_json.begin(), "--json");
  auto j = cli(store, with_json);
  CHECK(j.exit_code == 0);
  CHECK(json::parse(j.out).size() == 50);  // still a plain array
  auto lines = json_lines(j.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["truncated"] == true);
  CHECK(lines[0]["limit"] == 50);
  CHECK(lines[0]["message"] == "showing the " + order + " 50; pass --limit 0 for all (or --limit N)");

  for (const auto& [limit, expected] : std::vector<std::pair<std::string, std::size_t>>{{"0", total}, {"10", 10}}) {
    auto args = with_json;
    args.push_back("--limit");
    args.push_back(limit);
    auto r = cli(store, args);
    INFO("--limit " << limit);
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out).size() == expected);
    CHECK(r.err.empty());
  }
}

} // namespace

TEST_CASE("with --json an error is one JSON object on stderr and nothing else", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string kind;
  };
  const std::vector<Case> cases = {
      {{"events", "show", "evt_nope"}, 3, "not_found"},                    // an error from the command
      {{"deliveries", "list", "--limt", "3"}, 2, "usage"},                 // CLI11: unknown flag
      {{"deliveries", "list", "--limit", "abc"}, 2, "usage"},              // CLI11: bad value
      {{"evnets", "list"}, 2, "usage"},                                    // unknown command
      {{"events", "lsit"}, 2, "usage"},                                    // unknown subcommand
      {{"events"}, 2, "usage"},                                            // missing subcommand
      {{"webhooks", "show"}, 2, "usage"},                                  // missing argument
      {{"triggers", "fire", "nope"}, 3, "not_found"},
      {{"automations", "show", "nope"}, 3, "not_found"},
      {{"automations", "runs", "show", "arun_nope"}, 3, "not_found"},
      {{"automations", "validate", "-f", "/nonexistent/flow.json"}, 2, "usage"},
      {{"verify", "--scheme", "github", "--secret", "s", "--header", "X-Hub-Signature-256: sha256=00", "--data", "x"},
       1, "rejected"},
  };
  for (const auto& c : cases) {
    auto lines = json_stderr(store, c.args, c.code);
    REQUIRE(lines.size() == 1);
    auto error = the_error(lines);
    CHECK(error["kind"] == c.kind);
    CHECK(error["exit_code"] == c.code);
    CHECK_FALSE(error["message"].get<std::string>().empty());
  }
}

TEST_CASE("without --json an error is one 'centrali: error:' line", "[cli][contract]")
{
  TempDir dir;
  auto r = cli(dir.store(), {"events", "show", "evt_nope"});
  CHECK(r.exit_code == 3);
  CHECK(r.err == "centrali: error: no event evt_nope\n");
}

TEST_CASE("with --json notes, progress and -v diagnostics on stderr are JSON lines", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();

  // Nothing to replay: the "replaying 0 deliveries" note.
  auto replay = json_stderr(store, {"webhooks", "replay", "--status", "failed"}, 0);
  REQUIRE(replay.size() == 1);
  CHECK(replay[0]["message"] == "replaying 0 deliveries");
  CHECK(replay[0].contains("time"));

  // -v: the store it opened, as a message line.
  auto verbose = json_stderr(store, {"-v", "store", "info"}, 0);
  REQUIRE_FALSE(verbose.empty());
  CHECK_THAT(verbose[0]["message"].get<std::string>(), Catch::Contains(store));

  // A failed delivery: dispatch's attempt line and the error, both JSON.
  RefusingPort dead;
  cli_ok(store, {"webhooks", "add", "--url", dead.url(), "--events", "*",
                 "--retry-schedule", "none"});
  cli_ok(store, {"events", "emit", "order.created"});
  auto dispatch = json_stderr(store, {"dispatch", "--until-idle"}, 1);
  REQUIRE(dispatch.size() >= 2);
  CHECK(the_error(dispatch)["kind"] == "rejected");
  CHECK(dispatch[0]["delivery_id"].is_string());  // the attempt
  CHECK(dispatch[0]["error"].is_string());

  // Replaying that failed delivery: attempts go to stdout, the note to stderr.
  auto replayed = json_stderr(store, {"webhooks", "replay", "--status", "failed"}, 1);
  CHECK(replayed[0]["message"] == "replaying 1 delivery");
  CHECK(the_error(replayed)["kind"] == "rejected");

  // A failing webhooks test: unreachable, exit 5.
  auto hooks = cli_json(store, {"webhooks", "list"});
  REQUIRE(hooks.size() == 1);
  auto test = json_stderr(store, {"webhooks", "test", hooks[0]["id"]}, 5);
  CHECK(the_error(test)["kind"] == "network");

  // A function that writes to stderr: its bytes are in the run on stdout,
  // not copied to stderr as they are for people.
  cli_ok(store, {"triggers", "add", "noisy", "--on", "demand", "--run", "echo oops >&2; exit 3"});
  auto fired = json_stderr(store, {"triggers", "fire", "noisy", "--wait"}, 1);
  REQUIRE(fired.size() == 1);
  CHECK(the_error(fired)["kind"] == "rejected");
  auto human = cli(store, {"triggers", "fire", "noisy", "--wait"});
  CHECK_THAT(human.err, Catch::StartsWith("oops\n"));
}

TEST_CASE("with --json listen's startup and shutdown lines on stderr are JSON", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  Background listen({centrali_binary(), "--store", store, "--json", "-v", "listen", "--port", "0"});
  auto first = listen.read_line();
  REQUIRE(first);
  CHECK(json::parse(*first).contains("url"));
  CHECK(listen.stop(SIGTERM) == 0);
  auto lines = json_lines(listen.err());
  std::vector<std::string> messages;
  for (const auto& l : lines) messages.push_back(l.value("message", ""));
  INFO(listen.err());
  REQUIRE(messages.size() >= 3);
  CHECK_THAT(messages[0], Catch::StartsWith("store "));              // -v, before the listener
  CHECK_THAT(messages[1], Catch::StartsWith("no sources yet"));
  CHECK_THAT(messages.back(), Catch::Contains("group commit"));       // -v, after it stopped
}

TEST_CASE("an unknown command at any level names the nearest one", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  struct Case {
    std::vector<std::string> args;
    std::string message;
    std::string help;
  };
  const std::vector<Case> cases = {
      {{"evnets", "list"}, "unknown command 'evnets'; did you mean 'events'?", "centrali"},
      {{"events", "lsit"}, "unknown command 'events lsit'; did you mean 'events list'?", "centrali events"},
      {{"triggers", "runz"}, "unknown command 'triggers runz'; did you mean 'triggers runs'?", "centrali triggers"},
      {{"store", "ifno"}, "unknown command 'store ifno'; did you mean 'store info'?", "centrali store"},
      {{"frobnicate"}, "unknown command 'frobnicate' (see 'centrali --help')", "centrali"},
      {{"events", "frobnicate"}, "unknown command 'events frobnicate' (see 'centrali events --help')", "centrali events"},
  };
  for (const auto& c : cases) {
    auto r = cli(store, c.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "centrali: error: " + c.message + "\nRun '" + c.help + " --help' for usage.\n");
    CHECK(r.out.empty());
    auto j = json_stderr(store, c.args, 2);
    CHECK(the_error(j)["message"] == c.message);
  }
}

TEST_CASE("a command noun alone lists its commands", "[cli][contract]")
{
  TempDir dir;
  auto r = cli(dir.store(), {"deliveries"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: 'centrali deliveries' needs a command: list, show, tail, cancel\n"));
}

TEST_CASE("centrali help [COMMAND...] prints what COMMAND --help prints", "[cli][contract]")
{
  for (std::vector<std::string> path : std::vector<std::vector<std::string>>{
           {}, {"events"}, {"events", "list"}, {"triggers", "runs", "show"}, {"help"}}) {
    auto with_flag = path;
    with_flag.push_back("--help");
    auto expected = centrali(with_flag);
    REQUIRE(expected.exit_code == 0);
    auto args = path;
    args.insert(args.begin(), "help");
    auto r = centrali(args);
    INFO("centrali help " << [&] {
      std::string all;
      for (const auto& w : path) all += w + " ";
      return all;
    }());
    CHECK(r.exit_code == 0);
    CHECK(r.out == expected.out);
    CHECK(r.err.empty());
  }
  auto typo = centrali({"help", "webhooks", "replya"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err == "centrali: error: unknown command 'webhooks replya'; did you mean 'webhooks replay'?\n");
}

TEST_CASE("centrali version prints what --version prints, {\"version\"} with --json", "[cli][contract]")
{
  auto flag = centrali({"--version"});
  REQUIRE(flag.exit_code == 0);
  CHECK_THAT(flag.out, Catch::StartsWith("centrali "));
  auto command = centrali({"version"});
  CHECK(command.exit_code == 0);
  CHECK(command.out == flag.out);
  const std::string number = flag.out.substr(9, flag.out.size() - 10);
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"--json", "version"}, {"version", "--json"},
                                                                             {"--version", "--json"}}) {
    auto r = centrali(args);
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out) == json{{"version", number}});
  }
}

TEST_CASE("a bare number is refused wherever a duration is taken", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  RefusingPort down;
  const std::string to = down.url();
  const std::vector<std::vector<std::string>> cases = {
      {"webhooks", "add", "--url", to, "--events", "*", "--disable-after", "5"},
      {"webhooks", "add", "--url", to, "--events", "*", "--timeout", "5"},
      {"webhooks", "add", "--url", to, "--events", "*", "--retry-schedule", "5s,5"},
      {"triggers", "add", "t", "--on", "schedule", "--every", "5", "--run", "true"},
      {"triggers", "add", "t", "--on", "demand", "--timeout", "5", "--run", "true"},
      {"dispatch", "--until-idle", "--timeout", "5"},
      {"events", "replay", "evt_01J0000000000000000000000", "--to", to, "--timeout", "5"},
      {"send", "--as", "github", "--secret", "s", "--to", to, "--data", "{}", "--timeout", "5"},
      {"verify", "--scheme", "github", "--secret", "s", "--header", "X-Hub-Signature-256: sha256=00", "--data", "x",
       "--tolerance", "5"},
      {"sources", "add", "s", "--provider", "none", "--tolerance", "5"},
  };
  for (const auto& args : cases) {
    auto r = cli(store, args);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("duration '5' has no unit; give a unit, e.g. 5s or 5m"));
  }
  // Nothing was made by the refused commands; with units they work.
  CHECK(cli_json(store, {"webhooks", "list"}).empty());
  cli_ok(store, {"webhooks", "add", "--url", to, "--events", "*", "--disable-after", "5s", "--timeout", "5s",
                 "--retry-schedule", "5s,1m"});
  cli_ok(store, {"triggers", "add", "t", "--on", "schedule", "--every", "5m", "--timeout", "5s", "--run", "true"});
  auto source = cli_json(store, {"sources", "add", "s", "--provider", "none", "--tolerance", "2m"});
  CHECK(source["tolerance_s"] == 120);
  auto fraction = cli(store, {"sources", "update", "s", "--tolerance", "1500ms"});
  CHECK(fraction.exit_code == 2);
  CHECK_THAT(fraction.err, Catch::Contains("--tolerance is kept in whole seconds"));
  // Times are not durations: Unix seconds still work for --since, and a
  // small number there is refused as a duration without its unit.
  CHECK(cli(store, {"events", "list", "--since", "1795000000"}).exit_code == 0);
  CHECK_THAT(cli(store, {"events", "list", "--since", "600"}).err, Catch::Contains("give a unit, e.g. 600s"));
}

TEST_CASE("an id in a filter that names nothing exits 3 instead of listing nothing", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  auto emitted = cli_json(store, {"events", "emit", "order.created"});
  const std::string event = emitted["id"];

  // --event of deliveries list: unknown is not found; known but without
  // deliveries is an empty list.
  auto unknown = cli(store, {"deliveries", "list", "--event", "evt_01J0000000000000000000000"});
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err == "centrali: error: --event: no event evt_01J0000000000000000000000\n");
  CHECK(unknown.out.empty());
  auto j = json_stderr(store, {"deliveries", "list", "--event", "evt_01J0000000000000000000000"}, 3);
  CHECK(the_error(j)["kind"] == "not_found");
  CHECK(cli_json(store, {"deliveries", "list", "--event", event}).empty());

  // --source of events list, export and prune.
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"events", "list", "--source", "strpie"},
           {"events", "export", "--source", "strpie"},
           {"events", "prune", "--before", "1s", "--source", "strpie", "--dry-run"}}) {
    auto r = cli(store, args);
    INFO(args[1] << ": " << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("--source: no source named 'strpie'"));
  }
  CHECK(cli_json(store, {"events", "list", "--source", "local"}).size() == 1);
  // A removed source's events still list.
  cli_ok(store, {"sources", "add", "gone", "--provider", "none"});
  cli_ok(store, {"send", "--source", "gone", "--data", "{}"});
  cli_ok(store, {"sources", "rm", "gone"});
  CHECK(cli_json(store, {"events", "list", "--source", "gone"}).size() == 1);
  // A known source with no events matching is an empty list.
  cli_ok(store, {"sources", "add", "quiet", "--provider", "none"});
  CHECK(cli_json(store, {"events", "list", "--source", "quiet"}).empty());

  // The trigger of triggers runs, the automation of automations runs.
  CHECK(cli(store, {"triggers", "runs", "nope"}).exit_code == 3);
  CHECK(cli(store, {"automations", "runs", "nope"}).exit_code == 3);
}

TEST_CASE("a list cut at its default limit says so, and --limit 0 lists all", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  RefusingPort down;
  const std::string to = down.url();
  cli_ok(store, {"webhooks", "add", "--url", to, "--events", "*", "--retry-schedule", "none"});
  store_local_events(store, "order.created", 51);
  CHECK(cli(store, {"dispatch", "--until-idle"}).exit_code == 1);  // 51 failed deliveries
  check_cut_list(store, {"events", "list"}, 51, "newest");
  check_cut_list(store, {"deliveries", "list"}, 51, "newest");

  cli_ok(store, {"triggers", "add", "t", "--on", "demand", "--run", "true"});
  for (int i = 0; i < 51; ++i) {
    cli_ok(store, {"triggers", "fire", "t"});
    cli_ok(store, {"records", "create", "orders", "--data", "{\"n\":" + std::to_string(i) + "}"});
  }
  check_cut_list(store, {"triggers", "runs"}, 51, "newest");
  check_cut_list(store, {"records", "list", "orders"}, 51, "oldest");
}

TEST_CASE("a list of exactly its default limit is not said to be cut", "[cli][contract]")
{
  TempDir dir;
  const auto store = dir.store();
  store_local_events(store, "order.created", 50);
  auto r = cli(store, {"events", "list"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(line_count(r.out) == 51);
  auto j = cli(store, {"--json", "events", "list"});
  CHECK(json::parse(j.out).size() == 50);
  CHECK(j.err.empty());
}

// Binary tests: "Payloads never reach the command line" (README, Records and
// triggers). A trigger's function gets its payload on stdin; no process's
// argv may carry it, where `ps` and /proc show it to every user. The
// function itself records its own command line, its parent's (centrali),
// and every process's on the machine while it runs, and the test looks for
// a marker that only the payload holds.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "listener.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

std::string unique_marker()
{
  std::random_device rd;
  return "payload-marker-" + std::to_string(rd()) + "-" + std::to_string(rd());
}

std::string slurp(const std::string& path)
{
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A script that saves what a function can see of the command lines around
// it into the folder `name`: its own (/proc/$$), its parents' (up to the
// centrali that started it and beyond), every process's, its environment, and the stdin it was given.
std::string write_probe(const TempDir& dir, const std::string& name)
{
  const auto path = dir.str(name + ".sh");
  const auto out = dir.str(name);
  std::ofstream(path) << "#!/bin/sh\n"
                         "out='" << out << "'\n"
                         "mkdir -p \"$out\"\n"
                         "tr '\\0' ' ' < /proc/$$/cmdline > \"$out/self\"\n"
                         // Up the chain of parents to init: the centrali that
                         // started it, and any shell between them.
                         "p=$PPID; while [ \"$p\" -gt 1 ]; do tr '\\0' ' ' < /proc/$p/cmdline; echo;"
                         " p=$(cut -d' ' -f4 < /proc/$p/stat); done > \"$out/parents\"\n"
                         "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done > \"$out/all\" 2>/dev/null\n"
                         "tr '\\0' '\\n' < /proc/$$/environ > \"$out/environ\"\n"
                         "cat > \"$out/stdin\"\n"
                         "echo '{\"probed\":true}'\n";
  ::chmod(path.c_str(), 0700);
  return path;
}

// The probe saw the payload on stdin and nowhere on a command line.
void check_probe(const std::string& out, const std::string& marker)
{
  INFO("probe folder " << out);
  const auto input = slurp(out + "/stdin");
  CHECK_THAT(input, Catch::Contains(marker));  // the payload did reach the function
  const auto self = slurp(out + "/self");
  const auto parents = slurp(out + "/parents");
  const auto all = slurp(out + "/all");
  REQUIRE_FALSE(self.empty());
  INFO("parents:\n" << parents);
  CHECK_THAT(parents, Catch::Contains(centrali_binary()));  // the probe read the right processes
  CHECK(self.find(marker) == std::string::npos);
  CHECK(parents.find(marker) == std::string::npos);
  INFO("every command line:\n" << all);
  CHECK(all.find(marker) == std::string::npos);
  // The environment is the documented CENTRALI_* variables, not the payload.
  CHECK(slurp(out + "/environ").find(marker) == std::string::npos);
}

// Polls `triggers runs NAME` until one run ended; fails the test otherwise.
json ended_run(const std::string& store, const std::string& trigger)
{
  for (int i = 0; i < 400; ++i) {
    auto runs = cli_json(store, {"triggers", "runs", trigger});
    if (!runs.empty() && runs[0]["status"] != "queued" && runs[0]["status"] != "running") return runs[0];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("no run of " << trigger << " ended");
  return {};
}

} // namespace

TEST_CASE("an event's payload reaches a trigger's function on stdin, never on a command line", "[cli][triggers]")
{
  TempDir dir;
  const auto store = dir.store();
  const auto marker = unique_marker();
  const auto shell_probe = write_probe(dir, "shell");
  const auto exec_probe = write_probe(dir, "exec");

  cli_ok(store, {"sources", "add", "open", "--provider", "none"});
  // Through the shell (the default) and as argv with no shell (--exec).
  cli_ok(store, {"triggers", "add", "shell", "--on", "event", "--events", "order.*", "--run", shell_probe});
  cli_ok(store, {"triggers", "add", "exec", "--on", "event", "--events", "order.*", "--exec", "--run", exec_probe});
  Listen l(store);
  const std::string body = R"({"type":"order.created","data":{"note":")" + marker + R"("}})";
  CHECK(post(l.url(), "/ingest/open", body).status == 202);
  for (const std::string trigger : {"shell", "exec"}) {
    INFO("trigger " << trigger);
    auto run = ended_run(store, trigger);
    CHECK(run["status"] == "completed");
    check_probe(dir.str(trigger), marker);
  }
}

TEST_CASE("an endpoint request's body and a fired run's data never reach a command line", "[cli][triggers]")
{
  TempDir dir;
  const auto store = dir.store();
  const auto marker = unique_marker();
  const auto endpoint_probe = write_probe(dir, "endpoint");
  const auto fired_probe = write_probe(dir, "fired");

  cli_ok(store, {"triggers", "add", "hook", "--on", "endpoint", "--path", "/probe", "--run", endpoint_probe});
  cli_ok(store, {"triggers", "add", "manual", "--on", "demand", "--run", fired_probe});
  {
    Listen l(store);
    auto answer = post(l.url(), "/endpoints/probe?q=1", R"({"note":")" + marker + R"("})");
    CHECK(answer.status == 200);
    CHECK(json::parse(answer.body) == json{{"probed", true}});
  }
  check_probe(dir.str("endpoint"), marker);

  // `fire --data` takes the data on its own command line (the user's
  // choice); the run happens later, in `dispatch`, and hands it on by stdin.
  cli_ok(store, {"triggers", "fire", "manual", "--data", R"({"note":")" + marker + R"("})"});
  cli_ok(store, {"dispatch", "--until-idle"});
  CHECK(ended_run(store, "manual")["status"] == "completed");
  check_probe(dir.str("fired"), marker);
}

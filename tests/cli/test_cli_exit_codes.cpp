// Binary tests: the exit codes centrali(1) and centrali-listen(1) promise
// that no other test reaches: listen's 2 (a bad option, a broken project
// file: before it binds) and 5 (the address cannot be bound), and 4 for a
// store whose write lock another connection holds too long.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "loopback.hpp"
#include "process.hpp"
#include "store_cli.hpp"

using namespace testing;
using json = nlohmann::json;

namespace {

// A listener that wrongly starts would run until killed: this bounds it, and
// the exit code then says it was killed, not 2 or 5.
RunOptions bounded()
{
  RunOptions options;
  options.timeout = std::chrono::seconds(30);
  return options;
}

// The one error line of a --json run's stderr.
json error_line(const std::string& err)
{
  auto doc = json::parse(err, nullptr, false);
  INFO("stderr: " << err);
  REQUIRE_FALSE(doc.is_discarded());
  REQUIRE(doc.contains("error"));
  return doc["error"];
}

// Whether process `pid` has `path` open.
bool has_open(int pid, const std::filesystem::path& path)
{
  std::error_code ec;
  const auto wanted = std::filesystem::canonical(path, ec);
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(fd.path(), link_ec) == wanted) return true;
  }
  return false;
}

} // namespace

TEST_CASE("listen exits 2 on a bad option, before it binds or changes the store", "[cli][exit]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"sources", "add", "kept", "--provider", "none"});
  std::ofstream(dir.str("unknown-key.json")) << R"({"sources": [{"name": "new", "provider": "none", "colour": "red"}]})";
  std::ofstream(dir.str("not-json.json")) << R"({"sources": [)";
  const std::vector<std::vector<std::string>> cases = {
      {"--port", "70000"},
      {"--port", "-1"},
      {"--port", "http"},
      {"--max-body", "0"},
      {"--threads", "0"},
      {"--forward-to", "not a url"},
      {"--forward-to", "ftp://127.0.0.1/x"},
      {"--prot", "0"},
      {"--port", "0", "--config", dir.str("unknown-key.json")},
      {"--port", "0", "--config", dir.str("not-json.json")},
  };
  for (const auto& flags : cases) {
    std::vector<std::string> args{"listen"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = cli(store, args, bounded());
    INFO("listen " << flags[0] << " " << flags[1] << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());  // no "listening on" line: it never bound
    CHECK_THAT(r.err, Catch::StartsWith("centrali: error: "));

    auto with_json = args;
    with_json.insert(with_json.begin(), "--json");
    auto j = cli(store, with_json, bounded());
    CHECK(j.exit_code == 2);
    CHECK(j.out.empty());
    auto error = error_line(j.err);
    CHECK(error["kind"] == "usage");
    CHECK(error["exit_code"] == 2);
  }
  // The broken project files changed nothing.
  auto sources = cli_json(store, {"sources", "list"});
  REQUIRE(sources.size() == 1);
  CHECK(sources[0]["name"] == "kept");
  auto unknown = cli(store, {"listen", "--port", "0", "--config", dir.str("unknown-key.json")}, bounded());
  CHECK_THAT(unknown.err, Catch::Contains("unknown field 'colour'"));
}

TEST_CASE("listen exits 5 when its address cannot be bound, naming the address", "[cli][exit]")
{
  TempDir dir;
  const auto store = dir.store();
  int port = 0;
  const int taken = bind_loopback(port);  // held, listening, for the whole case
  REQUIRE(taken >= 0);

  auto r = cli(store, {"listen", "--port", std::to_string(port)}, bounded());
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: cannot listen on 127.0.0.1:" + std::to_string(port)));

  auto j = cli(store, {"--json", "listen", "--port", std::to_string(port)}, bounded());
  CHECK(j.exit_code == 5);
  CHECK(j.out.empty());
  auto error = error_line(j.err);
  CHECK(error["kind"] == "network");
  CHECK(error["exit_code"] == 5);

  // An address that is not this machine's (TEST-NET-1, RFC 5737).
  auto foreign = cli(store, {"listen", "--host", "192.0.2.1", "--port", "0"}, bounded());
  INFO(foreign.err);
  CHECK(foreign.exit_code == 5);
  CHECK(foreign.out.empty());
  CHECK_THAT(foreign.err, Catch::Contains("192.0.2.1"));
  ::close(taken);
}

TEST_CASE("a write that waits too long for another connection's lock exits 4 saying the store is locked",
          "[sqlite][cli][exit]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"events", "emit", "before.lock"});

  SQLite::Database holder(store, SQLite::OPEN_READWRITE);
  holder.exec("BEGIN IMMEDIATE");  // the write lock, held until ROLLBACK (each write below waits ~10 s for it)
  RunOptions options;
  options.timeout = std::chrono::seconds(90);  // a hang fails the case instead of stalling it
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"events", "emit", "during.lock"},
                                             {"sources", "add", "late", "--provider", "none"}}) {
    auto r = cli(store, args, options);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("centrali: error: "));
    CHECK_THAT(r.err, Catch::Contains("locked"));
  }
  std::vector<std::string> json_args{"--json", "events", "emit", "during.lock"};
  auto j = cli(store, json_args, options);
  CHECK(j.exit_code == 4);
  auto error = error_line(j.err);
  CHECK(error["kind"] == "store");
  CHECK(error["exit_code"] == 4);
  holder.exec("ROLLBACK");

  // Nothing of the refused writes landed; the store works once the lock is gone.
  auto events = cli_json(store, {"events", "list"});
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "before.lock");
  CHECK(cli_json(store, {"sources", "list"}).empty());
  cli_ok(store, {"events", "emit", "after.lock"});
}

TEST_CASE("a write waits for a lock held briefly instead of failing at once", "[sqlite][cli][exit]")
{
  TempDir dir;
  const auto store = dir.store();
  cli_ok(store, {"events", "emit", "before.lock"});

  SQLite::Database holder(store, SQLite::OPEN_READWRITE);
  holder.exec("BEGIN IMMEDIATE");
  Background emit({centrali_binary(), "--store", store, "events", "emit", "during.lock"});
  // Once it has the store open it is about to write, and must wait for us.
  bool opened = false;
  for (int i = 0; i < 400 && !opened && !emit.exited(); ++i) {
    opened = has_open(emit.pid(), store);
    if (!opened) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(opened);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the lock stays held a moment (the scenario)
  CHECK_FALSE(emit.exited());
  holder.exec("ROLLBACK");
  INFO(emit.err());
  CHECK(emit.stop(0, std::chrono::seconds(60)) == 0);  // signal 0: only waits
  CHECK(cli_json(store, {"events", "list"}).size() == 2);
}

// Binary tests: the foundation's contract as a user meets it.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "process.hpp"

using testing::centrali;
using testing::TempDir;
using json = nlohmann::json;

TEST_CASE("centrali with an unknown command exits 2 and names it", "[cli][foundation]")
{
  TempDir dir;
  auto r = centrali({"--store", dir.store(), "frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: unknown command 'frobnicate'"));
  CHECK(r.out.empty());
}

TEST_CASE("centrali with a bad flag exits 2 with a usage error, JSON too with --json", "[cli][foundation]")
{
  TempDir dir;
  auto r = centrali({"--store", dir.store(), "store", "info", "--no-such-flag"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: "));
  CHECK_THAT(r.err, Catch::Contains("--no-such-flag"));

  auto j = centrali({"--json", "--store", dir.store(), "store", "info", "--no-such-flag"});
  CHECK(j.exit_code == 2);
  auto last_line = j.err.substr(j.err.find("{\"error\""));
  auto doc = json::parse(last_line);
  CHECK(doc["error"]["kind"] == "usage");
  CHECK(doc["error"]["exit_code"] == 2);
}

TEST_CASE("usage errors name the command's own help, suggest a near flag and say which value is bad", "[cli][foundation]")
{
  TempDir dir;
  auto typo = centrali({"--store", dir.store(), "deliveries", "list", "--limt", "3"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::StartsWith("centrali: error: unknown option --limt; did you mean --limit?"));
  CHECK_THAT(typo.err, Catch::Contains("Run 'centrali deliveries list --help' for usage."));
  auto value = centrali({"--store", dir.store(), "deliveries", "list", "--limit", "abc"});
  CHECK(value.exit_code == 2);
  CHECK_THAT(value.err, Catch::StartsWith("centrali: error: --limit: 'abc' is not a valid value"));
  auto global = centrali({"--store", dir.store(), "store", "info", "--jsn"});
  CHECK_THAT(global.err, Catch::Contains("did you mean --json?"));
}

TEST_CASE("centrali --version and --help exit 0", "[cli][foundation]")
{
  auto v = centrali({"--version"});
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Catch::StartsWith("centrali "));
  auto h = centrali({"--help"});
  CHECK(h.exit_code == 0);
  CHECK_THAT(h.out, Catch::Contains("--store"));
  CHECK_THAT(h.out, Catch::Contains("Examples:"));
  auto none = centrali({});
  CHECK(none.exit_code == 2);
}

TEST_CASE("centrali store info on a new store creates it privately and reports it", "[cli][foundation]")
{
  TempDir dir;
  auto path = dir.str("ws/.centrali/centrali.db");
  auto r = centrali({"store", "info", "--json", "--store", path});  // globals after the subcommand
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  CHECK(doc["path"] == path);
  CHECK(doc["schema_version"].get<int>() >= 1);
  CHECK(doc["schema_version"] == doc["latest_schema_version"]);
  CHECK(doc["tables"]["events"] == 0);
  CHECK(doc["size_bytes"].get<long>() > 0);
  struct stat st{};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(stat(dir.str("ws/.centrali").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("centrali store info on an existing store, path from CENTRALI_STORE", "[cli][foundation]")
{
  TempDir dir;
  testing::RunOptions opts;
  opts.env["CENTRALI_STORE"] = dir.str("env.db");
  REQUIRE(centrali({"store", "info"}, opts).exit_code == 0);
  auto r = centrali({"store", "info"}, opts);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(dir.str("env.db")));
  CHECK_THAT(r.out, Catch::Contains("events"));
  CHECK(r.out.find("\x1b[") == std::string::npos);  // not a TTY: no colour
  auto v = centrali({"store", "vacuum", "--json"}, opts);
  CHECK(v.exit_code == 0);
  CHECK(json::parse(v.out).contains("size_after_bytes"));
}

TEST_CASE("centrali store info defaults to ./.centrali/centrali.db", "[cli][foundation]")
{
  TempDir dir;
  testing::RunOptions opts;
  opts.cwd = dir.path();
  auto r = centrali({"store", "info", "--json"}, opts);
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::exists(dir.path() / ".centrali" / "centrali.db"));
}

TEST_CASE("centrali store info on a corrupt store file exits 4 and leaks nothing internal", "[cli][foundation]")
{
  TempDir dir;
  std::ofstream(dir.str("bad.db")) << "definitely not sqlite";
  auto r = centrali({"--store", dir.str("bad.db"), "store", "info"});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: store "));
  CHECK_THAT(r.err, Catch::Contains("not a SQLite database"));
  CHECK(r.err.find("SQLite::Exception") == std::string::npos);

  auto j = centrali({"--json", "--store", dir.str("bad.db"), "store", "info"});
  CHECK(j.exit_code == 4);
  auto doc = json::parse(j.err.substr(j.err.find('{')));
  CHECK(doc["error"]["kind"] == "store");
  CHECK(j.out.empty());
}

TEST_CASE("centrali store info in an unwritable directory exits 4 saying read-only", "[cli][foundation]")
{
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "ro");
  std::filesystem::permissions(dir.path() / "ro", std::filesystem::perms::owner_read |
                                                      std::filesystem::perms::owner_exec |
                                                      std::filesystem::perms::others_read |
                                                      std::filesystem::perms::others_exec);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::others_read | std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
  // Root ignores permission bits: run as an unprivileged user when we are root.
  std::vector<std::string> argv;
  if (geteuid() == 0) argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  argv.push_back(testing::centrali_binary());
  for (auto a : {"--store", "", "store", "info"}) argv.push_back(a);
  argv[argv.size() - 3] = dir.str("ro/c.db");
  auto r = testing::run(argv);
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: "));
  CHECK_THAT(r.err, Catch::Contains("read-only"));
}

namespace {

// A command of each kind that opens the store: reads, writes, the sender and
// the listener.
const std::vector<std::vector<std::string>> k_store_commands = {
    {"store", "info"},
    {"events", "list"},
    {"events", "emit", "order.created", "--data", "{}"},
    {"sources", "list"},
    {"webhooks", "list"},
    {"deliveries", "list"},
    {"triggers", "list"},
    {"records", "list", "notes"},
    {"dispatch", "--until-idle"},
    {"listen", "--port", "0"},
};

std::vector<std::string> with_store(const std::string& store, const std::vector<std::string>& command)
{
  std::vector<std::string> args{"--store", store};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

} // namespace

TEST_CASE("a store writable by group or others is refused by every command, saying how to fix it", "[sqlite][cli][foundation]")
{
  TempDir dir;
  auto store = dir.store();
  REQUIRE(centrali({"--store", store, "store", "info"}).exit_code == 0);
  REQUIRE(::chmod(store.c_str(), 0664) == 0);
  testing::RunOptions opts;
  opts.timeout = std::chrono::seconds(20);  // a listener that wrongly starts would otherwise run until killed
  for (const auto& command : k_store_commands) {
    INFO(command[0] + " " + command[1]);
    auto r = centrali(with_store(store, command), opts);
    CHECK(r.exit_code == 4);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("centrali: error: store " + store +
                                        " is writable by group or others (mode 0664)"));
    CHECK_THAT(r.err, Catch::Contains("commands that triggers run: chmod 600 " + store));
  }
  auto j = centrali({"--json", "--store", store, "store", "info"});
  CHECK(j.exit_code == 4);
  CHECK(json::parse(j.err.substr(j.err.find('{')))["error"]["kind"] == "store");

  REQUIRE(::chmod(store.c_str(), 0600) == 0);
  CHECK(centrali({"--store", store, "store", "info"}).exit_code == 0);
}

TEST_CASE("a store, or a file SQLite reads with it, owned by another user is refused", "[sqlite][cli][foundation]")
{
  if (geteuid() != 0) {
    WARN("skipped: giving a file to another user (chown) needs root; CI runs this as root");
    return;
  }
  TempDir dir;
  auto store = dir.store();
  REQUIRE(centrali({"--store", store, "store", "info"}).exit_code == 0);
  REQUIRE(::chown(store.c_str(), 65534, 65534) == 0);
  for (const auto& command : k_store_commands) {
    INFO(command[0] + " " + command[1]);
    testing::RunOptions opts;
    opts.timeout = std::chrono::seconds(20);
    auto r = centrali(with_store(store, command), opts);
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Catch::StartsWith("centrali: error: store " + store +
                                        " is owned by another user (uid 65534; you are uid 0)"));
    CHECK_THAT(r.err, Catch::Contains("chown 0 " + store));
  }
  REQUIRE(::chown(store.c_str(), 0, 0) == 0);
  REQUIRE(centrali({"--store", store, "store", "info"}).exit_code == 0);

  // A write-ahead log planted beside one's own store is as good as the store.
  auto wal = store + "-wal";
  std::ofstream(wal) << "";
  REQUIRE(::chown(wal.c_str(), 65534, 65534) == 0);
  auto r = centrali({"--store", store, "store", "info"});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::Contains("store file " + wal + " is owned by another user"));
}

TEST_CASE("the default ./.centrali folder is refused when it is a symbolic link or others can write it",
          "[cli][foundation]")
{
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "a");
  std::filesystem::create_directory(dir.path() / "b");
  testing::RunOptions in_a;
  in_a.cwd = dir.path() / "a";
  in_a.unset_env = {"CENTRALI_STORE"};
  REQUIRE(centrali({"store", "info"}, in_a).exit_code == 0);
  std::filesystem::create_directory_symlink(dir.path() / "a" / ".centrali", dir.path() / "b" / ".centrali");

  testing::RunOptions in_b = in_a;
  in_b.cwd = dir.path() / "b";
  auto linked = centrali({"webhooks", "list"}, in_b);
  CHECK(linked.exit_code == 4);
  CHECK_THAT(linked.err, Catch::StartsWith("centrali: error: store folder ./.centrali is a symbolic link (to " +
                                           std::filesystem::canonical(dir.path() / "a" / ".centrali").string() + ")"));
  CHECK_THAT(linked.err, Catch::Contains("--store " +
                                         std::filesystem::canonical(dir.path() / "a").string() +
                                         "/.centrali/centrali.db"));

  // A link to a folder where no store exists yet is refused before one is made there.
  std::filesystem::create_directory(dir.path() / "c");
  std::filesystem::create_directory(dir.path() / "empty");
  std::filesystem::create_directory_symlink(dir.path() / "empty", dir.path() / "c" / ".centrali");
  testing::RunOptions in_c = in_a;
  in_c.cwd = dir.path() / "c";
  CHECK(centrali({"store", "info"}, in_c).exit_code == 4);
  CHECK(std::filesystem::is_empty(dir.path() / "empty"));

  REQUIRE(::chmod((dir.path() / "a" / ".centrali").c_str(), 0775) == 0);
  auto shared = centrali({"store", "info"}, in_a);
  CHECK(shared.exit_code == 4);
  CHECK_THAT(shared.err, Catch::Contains("store folder ./.centrali is writable by group or others (mode 0775)"));
  CHECK_THAT(shared.err, Catch::Contains("chmod 700 ./.centrali"));
  REQUIRE(::chmod((dir.path() / "a" / ".centrali").c_str(), 0700) == 0);
  CHECK(centrali({"store", "info"}, in_a).exit_code == 0);
}

TEST_CASE("a store named with --store may sit in a sticky shared folder like /tmp, not in one anyone can swap it in",
          "[cli][foundation]")
{
  TempDir dir;
  auto sticky = dir.path() / "sticky";
  auto open = dir.path() / "open";
  std::filesystem::create_directory(sticky);
  std::filesystem::create_directory(open);
  REQUIRE(::chmod(sticky.c_str(), 01777) == 0);
  REQUIRE(::chmod(open.c_str(), 0777) == 0);

  auto in_sticky = (sticky / "s.db").string();
  REQUIRE(centrali({"--store", in_sticky, "store", "info"}).exit_code == 0);
  CHECK(centrali({"--store", in_sticky, "webhooks", "list"}).exit_code == 0);

  auto in_open = (open / "s.db").string();
  auto r = centrali({"--store", in_open, "store", "info"});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::Contains("store folder " + open.string() +
                                    " is writable by group or others (mode 0777) and not sticky"));
  CHECK_THAT(r.err, Catch::Contains("chmod go-w " + open.string()));
  CHECK_FALSE(std::filesystem::exists(in_open));
}

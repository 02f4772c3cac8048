// Binary tests: the foundation's contract as a user meets it.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "process.hpp"

using testing::centrali;
using testing::TempDir;
using json = nlohmann::json;

TEST_CASE("centrali with an unknown command exits 2 and names it", "[cli][foundation]")
{
  TempDir dir;
  auto r = centrali({"--store", dir.str("s.db"), "frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: unknown command 'frobnicate'"));
  CHECK(r.out.empty());
}

TEST_CASE("centrali with a bad flag exits 2 with a usage error, JSON too with --json", "[cli][foundation]")
{
  TempDir dir;
  auto r = centrali({"--store", dir.str("s.db"), "store", "info", "--no-such-flag"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("centrali: error: "));
  CHECK_THAT(r.err, Catch::Contains("--no-such-flag"));

  auto j = centrali({"--json", "--store", dir.str("s.db"), "store", "info", "--no-such-flag"});
  CHECK(j.exit_code == 2);
  auto last_line = j.err.substr(j.err.find("{\"error\""));
  auto doc = json::parse(last_line);
  CHECK(doc["error"]["kind"] == "usage");
  CHECK(doc["error"]["exit_code"] == 2);
}

TEST_CASE("usage errors name the command's own help, suggest a near flag and say which value is bad", "[cli][foundation]")
{
  TempDir dir;
  auto typo = centrali({"--store", dir.str("s.db"), "deliveries", "list", "--limt", "3"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::StartsWith("centrali: error: unknown option --limt; did you mean --limit?"));
  CHECK_THAT(typo.err, Catch::Contains("Run 'centrali deliveries list --help' for usage."));
  auto value = centrali({"--store", dir.str("s.db"), "deliveries", "list", "--limit", "abc"});
  CHECK(value.exit_code == 2);
  CHECK_THAT(value.err, Catch::StartsWith("centrali: error: --limit: 'abc' is not a valid value"));
  auto global = centrali({"--store", dir.str("s.db"), "store", "info", "--jsn"});
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

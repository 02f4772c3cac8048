// Binary tests: `cmake --install` and `cpack` on this build tree put the
// binary, man pages and completions where man, bash-completion, zsh and
// fish find them, and the installed binary runs.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "process.hpp"

using testing::centrali;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path k_source_dir = CENTRALI_SOURCE_DIR;
const fs::path k_build_dir = CENTRALI_BUILD_DIR;

const std::vector<std::string> k_installed = {
    "bin/centrali",
    "share/bash-completion/completions/centrali",
    "share/zsh/vendor-completions/_centrali",
    "share/fish/vendor_completions.d/centrali.fish",
    "share/man/man1/centrali.1",
    "share/man/man1/centrali-listen.1",
    "share/man/man1/centrali-sources.1",
    "share/man/man1/centrali-events.1",
    "share/man/man1/centrali-webhooks.1",
    "share/man/man1/centrali-deliveries.1",
    "share/man/man1/centrali-dispatch.1",
    "share/man/man1/centrali-sign.1",
    "share/man/man1/centrali-store.1",
    "share/man/man1/centrali-records.1",
    "share/man/man1/centrali-triggers.1",
    "share/man/man1/centrali-completion.1",
};

std::string find_program(const std::string& name)
{
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string read_text(const fs::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One install into a fresh prefix, shared by the checks below.
struct Installed {
  TempDir dir;
  fs::path prefix = dir.path() / "prefix";
  testing::RunResult result;

  Installed()
  {
    result = testing::run({CENTRALI_CMAKE_COMMAND, "--install", k_build_dir.string(), "--prefix", prefix.string()});
  }

  // An environment that finds only what was installed here: the binary on
  // PATH, its data under XDG_DATA_DIRS, and a private HOME.
  testing::RunOptions env() const
  {
    fs::create_directories(dir.path() / "home");
    testing::RunOptions o;
    const char* path = std::getenv("PATH");
    o.env = {{"PATH", (prefix / "bin").string() + ":" + (path ? path : "/usr/bin:/bin")},
             {"XDG_DATA_DIRS", (prefix / "share").string()},
             {"HOME", dir.str("home")},
             {"XDG_CONFIG_HOME", dir.str("home/.config")},
             {"XDG_DATA_HOME", dir.str("home/.local/share")},
             {"XDG_CACHE_HOME", dir.str("home/.cache")},
             {"MANPATH", (prefix / "share" / "man").string()},
             {"MANWIDTH", "80"}};
    o.cwd = dir.path();
    return o;
  }
};

} // namespace

TEST_CASE("cmake --install puts the binary, man pages and completions under the prefix", "[cli][install]")
{
  Installed inst;
  INFO(inst.result.out << inst.result.err);
  REQUIRE(inst.result.exit_code == 0);
  for (const auto& file : k_installed) {
    INFO(file);
    CHECK(fs::is_regular_file(inst.prefix / file));
  }
  // The installed completions are the checked-in ones, which are the binary's own output.
  CHECK(read_text(inst.prefix / "share/bash-completion/completions/centrali") == centrali({"completion", "bash"}).out);
  CHECK(read_text(inst.prefix / "share/man/man1/centrali-webhooks.1") ==
        read_text(k_source_dir / "man/centrali-webhooks.1"));
}

TEST_CASE("the installed binary runs and its man pages open with man", "[cli][install]")
{
  Installed inst;
  REQUIRE(inst.result.exit_code == 0);
  auto env = inst.env();
  auto version = testing::run({(inst.prefix / "bin/centrali").string(), "--version"}, env);
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("centrali "));

  auto man = find_program("man");
  INFO("man is not installed; ./dev.sh installs man-db (BUILD_PACKAGES)");
  REQUIRE_FALSE(man.empty());
  auto local = testing::run({man, "-l", (inst.prefix / "share/man/man1/centrali.1").string()}, env);
  CHECK(local.exit_code == 0);
  CHECK(local.err.empty());
  CHECK_THAT(local.out, Catch::Contains("EXIT STATUS"));
  // By name, through MANPATH, as `man centrali-webhooks` would after a real install.
  auto by_name = testing::run({man, "-w", "centrali-webhooks"}, env);
  CHECK(by_name.exit_code == 0);
  CHECK(by_name.out == (inst.prefix / "share/man/man1/centrali-webhooks.1").string() + "\n");
}

TEST_CASE("bash, zsh and fish find the installed completions on their own", "[cli][install]")
{
  Installed inst;
  REQUIRE(inst.result.exit_code == 0);
  auto env = inst.env();
  SECTION("bash-completion loads it from XDG_DATA_DIRS")
  {
    REQUIRE(fs::exists("/usr/share/bash-completion/bash_completion"));
    auto r = testing::run({find_program("bash"), "--norc", "--noprofile", "-c",
                           ". /usr/share/bash-completion/bash_completion; __load_completion centrali && "
                           "COMP_WORDS=(centrali we); COMP_CWORD=1; _centrali centrali; echo \"${COMPREPLY[*]}\""},
                          env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "webhooks\n");
  }
  SECTION("zsh's compinit finds it in the vendor-completions folder")
  {
    auto zsh = find_program("zsh");
    REQUIRE_FALSE(zsh.empty());
    auto r = testing::run({zsh, "-f", "-c",
                           "fpath=(" + (inst.prefix / "share/zsh/vendor-completions").string() +
                               " $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[centrali]"},
                          env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "_centrali\n");
  }
  SECTION("fish autoloads it from vendor_completions.d")
  {
    auto fish = find_program("fish");
    REQUIRE_FALSE(fish.empty());
    auto r = testing::run({fish, "-c", "complete -C 'centrali we'"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("webhooks\t"));
  }
}

TEST_CASE("cpack builds a .deb with the binary, man pages, completions and library dependencies", "[cli][install]")
{
  auto dpkg_deb = find_program("dpkg-deb");
  REQUIRE_FALSE(dpkg_deb.empty());
  TempDir dir;
  testing::RunOptions options;
  options.timeout = std::chrono::seconds(90);
  auto pack = testing::run({CENTRALI_CPACK_COMMAND, "-G", "DEB", "--config", (k_build_dir / "CPackConfig.cmake").string(),
                            "-B", dir.str()},
                           options);
  INFO(pack.out << pack.err);
  REQUIRE(pack.exit_code == 0);
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(dir.path()))
    if (entry.path().extension() == ".deb") deb = entry.path();
  REQUIRE_FALSE(deb.empty());
  CHECK_THAT(deb.filename().string(), Catch::StartsWith("centrali_"));

  auto contents = testing::run({dpkg_deb, "-c", deb.string()});
  REQUIRE(contents.exit_code == 0);
  for (const auto& file : k_installed) {
    INFO(file);
    CHECK_THAT(contents.out, Catch::Contains(" ./usr/" + file + "\n"));
  }
  auto depends = testing::run({dpkg_deb, "-f", deb.string(), "Package", "Depends"});
  REQUIRE(depends.exit_code == 0);
  CHECK_THAT(depends.out, Catch::Contains("Package: centrali"));
  for (const char* lib : {"libssl3", "libsqlite3-0", "libcurl4", "libdate-tz3", "tzdata"}) {
    INFO(depends.out);
    CHECK_THAT(depends.out, Catch::Contains(lib));
  }
  // The outbound client is libcurl; cpp-httplib serves only the tests' peers.
  CHECK_THAT(depends.out, !Catch::Contains("httplib"));
}

// Binary tests: the man pages in man/ render cleanly, are built from their
// sources, and document exactly the command tree the binary reports.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "process.hpp"

using testing::centrali;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path k_source_dir = CENTRALI_SOURCE_DIR;
const fs::path k_man_dir = k_source_dir / "man";

// Absolute path of `name` on PATH, or "" (execve does no PATH lookup).
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

std::string require_program(const std::string& name)
{
  auto exe = find_program(name);
  INFO(name << " is not installed; ./dev.sh installs it (groff-base, man-db in BUILD_PACKAGES)");
  REQUIRE_FALSE(exe.empty());
  return exe;
}

std::vector<fs::path> pages()
{
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(k_man_dir))
    if (entry.path().extension() == ".1") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Plain text as a reader sees it, with lines long enough that nothing wraps
// (-P-cbu: no overstrike bold or underline).
std::string render(const fs::path& page)
{
  auto r = testing::run({require_program("groff"), "-man", "-Tascii", "-P-cbu", "-rLL=400n", page.string()});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::vector<std::string> split_lines(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> split_words(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The body of section `title` (lines up to the next unindented heading).
std::vector<std::string> section(const std::string& rendered, const std::string& title)
{
  std::vector<std::string> out;
  bool inside = false;
  for (const auto& line : split_lines(rendered)) {
    if (!line.empty() && line[0] != ' ') {
      inside = line == title;
      continue;
    }
    if (inside) out.push_back(line);
  }
  return out;
}

// "centrali webhooks add --url URL ..." -> "webhooks add": the leading
// lower-case words name the command; options and placeholders end it.
std::string command_path(const std::string& synopsis_line)
{
  auto words = split_words(synopsis_line);
  std::string path;
  static const std::regex command_word("[a-z][a-z-]*");
  for (std::size_t i = 1; i < words.size() && std::regex_match(words[i], command_word); ++i)
    path += (path.empty() ? "" : " ") + words[i];
  return path;
}

// The page that documents a command path.
std::string page_for(const std::string& path)
{
  auto words = split_words(path);
  if (words.empty() || words.front() == "help" || words.front() == "version") return "centrali.1";
  const auto& noun = words.front();
  if (noun == "verify" || noun == "keys") return "centrali-sign.1";
  if (noun == "export-config") return "centrali-apply.1";
  return "centrali-" + noun + ".1";
}

bool contains_word(const std::string& text, const std::string& word)
{
  // A flag is a word of its own: "--timeout" must not be found in "--timeouts".
  std::regex re("(^|[^A-Za-z0-9_-])" + std::regex_replace(word, std::regex(R"([.*+?^${}()|\[\]\\])"), R"(\$&)") +
                "($|[^A-Za-z0-9_-])");
  return std::regex_search(text, re);
}

json command_tree()
{
  auto r = centrali({"__commands", "--json"});
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

} // namespace

TEST_CASE("every man page renders with groff and man without a warning", "[cli][man]")
{
  auto groff = require_program("groff");
  auto man = require_program("man");
  auto all = pages();
  REQUIRE(all.size() == 16);
  for (const auto& page : all) {
    INFO(page.filename().string());
    auto g = testing::run({groff, "-man", "-Tutf8", "-ww", "-z", page.string()});
    CHECK(g.exit_code == 0);
    CHECK(g.err.empty());
    testing::RunOptions options;
    options.env = {{"MANWIDTH", "80"}, {"LANG", "C.UTF-8"}};
    auto m = testing::run({man, "--warnings=w", "-l", page.string()}, options);
    CHECK(m.exit_code == 0);
    CHECK(m.err.empty());
    CHECK_THAT(m.out, Catch::Contains("NAME"));
  }
}

TEST_CASE("the built man pages are what man/build.py makes of man/src", "[cli][man]")
{
  auto python = find_program("python3");
  INFO("python3 runs man/build.py; it is part of Debian's base system");
  REQUIRE_FALSE(python.empty());
  auto r = testing::run({python, (k_man_dir / "build.py").string(), "--check"});
  INFO(r.err << "Rebuild with: python3 man/build.py");
  CHECK(r.exit_code == 0);
  std::set<std::string> sources, built;
  for (const auto& entry : fs::directory_iterator(k_man_dir / "src")) sources.insert(entry.path().stem().string());
  for (const auto& page : pages()) built.insert(page.filename().string());
  CHECK(sources == built);  // centrali-events.1.md <-> centrali-events.1
}

TEST_CASE("every page has the sections a reader looks for", "[cli][man]")
{
  for (const auto& page : pages()) {
    auto text = render(page);
    INFO(page.filename().string());
    for (const char* title : {"NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "EXAMPLES", "SEE ALSO"})
      CHECK_FALSE(section(text, title).empty());
    if (page.filename() != "centrali-completion.1") CHECK_FALSE(section(text, "JSON OUTPUT").empty());
  }
}

TEST_CASE("the SYNOPSIS of the man pages and the command tree name the same commands", "[cli][man]")
{
  auto tree = command_tree();
  std::set<std::string> tree_paths;
  for (const auto& c : tree["commands"]) tree_paths.insert(c["path"].get<std::string>());

  std::map<std::string, std::string> documented;  // path -> page whose SYNOPSIS has it
  for (const auto& page : pages()) {
    auto name = page.filename().string();
    for (const auto& line : section(render(page), "SYNOPSIS")) {
      auto trimmed = line.substr(std::min(line.find_first_not_of(' '), line.size()));
      if (!trimmed.starts_with("centrali")) continue;  // a wrapped continuation
      auto path = command_path(trimmed);
      INFO(name << ": SYNOPSIS names 'centrali " << path << "'");
      CHECK(tree_paths.count(path));
      CHECK(page_for(path) == name);
      documented[path] = name;
    }
  }
  // Every command that does something on its own has a synopsis line; a
  // noun that only groups verbs (`webhooks`) is covered by its verbs.
  for (const auto& c : tree["commands"]) {
    std::string path = c["path"];
    bool groups_only = !c["subcommands"].empty() && c["positionals"].empty() && c["flags"].size() <= 2 && !path.empty();
    if (groups_only) continue;
    INFO("centrali " << path << " has no SYNOPSIS line in man/" << page_for(path));
    CHECK(documented.count(path));
  }
}

TEST_CASE("every flag and fixed choice of every command is documented in its man page", "[cli][man]")
{
  auto tree = command_tree();
  std::map<std::string, std::string> rendered;
  for (const auto& page : pages()) rendered[page.filename().string()] = render(page);
  auto check_flags = [&](const std::string& path, const json& flags) {
    const auto& text = rendered[page_for(path)];
    for (const auto& f : flags) {
      for (const auto& name : f["names"]) {
        std::string n = name;
        if (n == "-h" || n == "--help") continue;  // centrali(1) documents it once
        INFO("man/" << page_for(path) << " does not mention " << n << " of 'centrali " << path << "'");
        CHECK(contains_word(text, n));
      }
      if (f["value"]["kind"] == "choices")
        for (const auto& choice : f["value"]["choices"]) {
          INFO("man/" << page_for(path) << " does not mention '" << choice.get<std::string>() << "', a value of "
                      << f["names"].back().get<std::string>());
          CHECK(contains_word(text, choice.get<std::string>()));
        }
    }
  };
  check_flags("", tree["globals"]);
  for (const auto& c : tree["commands"]) check_flags(c["path"], c["flags"]);
}

TEST_CASE("man page cross-references name pages that exist", "[cli][man]")
{
  std::set<std::string> existing;
  for (const auto& page : pages()) existing.insert(page.stem().string());
  static const std::regex reference(R"(\b(centrali(-[a-z]+)?)\(1\))");
  for (const auto& page : pages()) {
    auto text = render(page);
    for (std::sregex_iterator it(text.begin(), text.end(), reference), end; it != end; ++it) {
      INFO(page.filename().string() << " refers to " << (*it)[0].str());
      CHECK(existing.count((*it)[1].str()));
    }
  }
}

TEST_CASE("no command's --help ends with its parent's footer", "[cli][man]")
{
  // CLI11 hands a parent's footer to subcommands added after it is set: a
  // note about `fire` or about record changes then shows up under `runs`
  // or `get`, where it is wrong.
  auto last_paragraph = [](const std::string& help) {
    auto end = help.find_last_not_of('\n');
    if (end == std::string::npos) return std::string();
    auto start = help.rfind("\n\n", end);
    return help.substr(start == std::string::npos ? 0 : start + 2, end + 1 - (start == std::string::npos ? 0 : start + 2));
  };
  std::map<std::string, std::string> footer_of;  // path -> last paragraph of its help
  auto root = centrali({"--help"});
  REQUIRE(root.exit_code == 0);
  footer_of[""] = last_paragraph(root.out);
  auto tree = command_tree();
  for (const auto& c : tree["commands"]) {
    std::string path = c["path"];
    std::vector<std::string> args;
    std::istringstream words(path);
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--help");
    auto r = centrali(args);
    REQUIRE(r.exit_code == 0);
    footer_of[path] = last_paragraph(r.out);
  }
  for (const auto& [path, footer] : footer_of) {
    if (path.empty()) continue;
    auto space = path.rfind(' ');
    auto parent = space == std::string::npos ? std::string() : path.substr(0, space);
    INFO("'centrali " << path << " --help' ends with the footer of 'centrali " << parent << "'");
    CHECK(footer != footer_of[parent]);
  }
}

// Binary tests: `centrali completion` scripts in the real bash, zsh and fish,
// checked against the command tree the binary itself reports.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "process.hpp"

using testing::centrali;
using testing::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& path, const std::string& text)
{
  std::ofstream(path, std::ios::binary) << text;
}

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

// POSIX single quotes, also valid in fish for the strings used here.
std::string sq(const std::string& s)
{
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> split_lines(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<std::string> split_words(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A shell with `centrali` on PATH (the scripts call it for store names), a
// private HOME so fish and zsh leave the developer's files alone, and an
// empty working folder so file completion finds nothing by accident.
struct Shells {
  TempDir dir;
  testing::RunOptions options;

  Shells()
  {
    fs::create_directories(dir.path() / "home");
    fs::create_directories(dir.path() / "cwd");
    std::string bin_dir = fs::path(testing::centrali_binary()).parent_path().string();
    const char* path = std::getenv("PATH");
    options.env = {{"PATH", bin_dir + ":" + (path ? path : "/usr/bin:/bin")},
                   {"HOME", dir.str("home")},
                   {"XDG_CONFIG_HOME", dir.str("home/.config")},
                   {"XDG_DATA_HOME", dir.str("home/.local/share")},
                   {"XDG_CACHE_HOME", dir.str("home/.cache")}};
    options.cwd = dir.path() / "cwd";
    for (const char* shell : {"bash", "zsh", "fish"}) {
      auto script = centrali({"completion", shell});
      REQUIRE(script.exit_code == 0);
      write_text(script_path(shell), script.out);
    }
  }

  fs::path script_path(const std::string& shell) const { return dir.path() / ("centrali." + shell); }

  testing::RunResult run(const std::string& shell, const std::vector<std::string>& args) const
  {
    auto exe = find_program(shell);
    INFO(shell << " is not installed; ./dev.sh installs it (BUILD_PACKAGES)");
    REQUIRE_FALSE(exe.empty());
    std::vector<std::string> argv = {exe};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv, options);
  }

  // bash with bash-completion loaded when it is installed (as in a real
  // interactive shell), then our script. `probe WORDS...` completes the last
  // word and prints COMPREPLY, then a line "@@".
  testing::RunResult bash(const std::string& body) const
  {
    std::string script = "[ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion\n"
                         "source " + sq(script_path("bash").string()) + "\n"
                         "probe() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE};\n"
                         "  COMPREPLY=(); _centrali centrali; printf '%s\\n' \"${COMPREPLY[@]}\"; echo @@; }\n" +
                         body;
    return run("bash", {"--norc", "--noprofile", "-c", script});
  }

  testing::RunResult zsh(const std::string& body) const
  {
    return run("zsh", {"-f", "-c", "source " + sq(script_path("zsh").string()) + "\n" + body});
  }

  testing::RunResult fish(const std::string& body) const
  {
    return run("fish", {"--no-config", "-c", "source " + sq(script_path("fish").string()) + "\n" + body});
  }
};

// Output of several probes, split at the "@@" lines.
std::vector<std::set<std::string>> sections(const std::string& out)
{
  std::vector<std::set<std::string>> result(1);
  for (const auto& line : split_lines(out)) {
    if (line == "@@") result.emplace_back();
    else result.back().insert(line);
  }
  result.pop_back();  // after the last "@@"
  return result;
}

// The part of a "word<TAB>description" (fish) or "word:description" (zsh) line before the description.
std::string word_of(const std::string& line, char separator)
{
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') ++i;
    else if (line[i] == separator) return line.substr(0, i);
  }
  return line;
}

json command_tree()
{
  auto r = centrali({"__commands", "--json"});
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::set<std::string> flag_set(const json& flags)
{
  std::set<std::string> out;
  for (const auto& f : flags)
    for (const auto& n : f["names"]) out.insert(n.get<std::string>());
  return out;
}

std::string path_words(const std::string& path)
{
  std::string out;
  for (const auto& w : split_words(path)) out += " " + sq(w);
  return out;
}

std::string join(const std::set<std::string>& items)
{
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out;
}

// Every command of the tree with the flags and subcommands it must offer:
// its own flags plus the global ones; its subcommands exactly.
struct Expected {
  std::string path;
  std::set<std::string> flags;
  std::set<std::string> subcommands;
};

std::vector<Expected> expected_from_tree()
{
  auto tree = command_tree();
  auto globals = flag_set(tree["globals"]);
  std::vector<Expected> out;
  for (const auto& c : tree["commands"]) {
    Expected e;
    e.path = c["path"].get<std::string>();
    e.flags = flag_set(c["flags"]);
    e.flags.insert(globals.begin(), globals.end());
    for (const auto& s : c["subcommands"]) e.subcommands.insert(s.get<std::string>());
    out.push_back(std::move(e));
  }
  REQUIRE(out.size() > 40);  // the whole tree, not a stub
  return out;
}

// A store with one of each thing the scripts complete by name.
struct Workspace {
  TempDir dir;
  std::string store = dir.str("ws/centrali.db");
  std::string webhook_id, event_id, delivery_id, run_id;

  Workspace()
  {
    REQUIRE(centrali({"--store", store, "sources", "add", "stripe-live", "--provider", "stripe", "--secret", "whsec_x"})
                .exit_code == 0);
    auto w = centrali({"--store", store, "--json", "webhooks", "add", "--url", "http://127.0.0.1:9/hook", "--events", "*"});
    REQUIRE(w.exit_code == 0);
    webhook_id = json::parse(w.out)["id"];
    auto e = centrali({"--store", store, "--json", "events", "emit", "order.created", "--data", "{}"});
    REQUIRE(e.exit_code == 0);
    event_id = json::parse(e.out)["id"];
    // Port 9 (discard) refuses: the test send fails, and its delivery stays.
    auto t = centrali({"--store", store, "--json", "webhooks", "test", webhook_id});
    REQUIRE(t.exit_code == 5);
    delivery_id = json::parse(t.out)["delivery_id"];
    REQUIRE(centrali({"--store", store, "triggers", "add", "nightly-report", "--on", "demand", "--run", "true"}).exit_code ==
            0);
    auto f = centrali({"--store", store, "--json", "triggers", "fire", "nightly-report"});
    REQUIRE(f.exit_code == 0);
    run_id = json::parse(f.out)["id"];
  }
};

} // namespace

TEST_CASE("the checked-in completion scripts are what `centrali completion` prints", "[cli][completion]")
{
  const fs::path source_dir = CENTRALI_SOURCE_DIR;
  for (auto [shell, file] : {std::pair{"bash", "completions/centrali.bash"}, std::pair{"zsh", "completions/_centrali"},
                             std::pair{"fish", "completions/centrali.fish"}}) {
    auto r = centrali({"completion", shell});
    REQUIRE(r.exit_code == 0);
    INFO(file << " differs from `centrali completion " << shell
              << "` (a command or flag changed). Regenerate with: completions/regenerate.sh "
              << testing::centrali_binary());
    CHECK(read_text(source_dir / file) == r.out);
  }
}

TEST_CASE("centrali completion needs a known shell", "[cli][completion]")
{
  auto r = centrali({"completion", "tcsh"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("tcsh"));
  CHECK(centrali({"completion"}).exit_code == 2);
}

TEST_CASE("bash completes commands, subcommands, flags with globals, and fixed choices", "[cli][completion][bash]")
{
  Shells shells;
  auto r = shells.bash("probe centrali we\n"
                       "probe centrali webhooks a\n"
                       "probe centrali webhooks add --\n"
                       "probe centrali deliveries list --status ''\n"
                       "probe centrali webhooks add --retry-schedule ''\n"
                       "probe centrali --json webhooks add --url http://x --\n"
                       "probe centrali completion ''\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  auto s = sections(r.out);
  REQUIRE(s.size() == 7);
  CHECK(s[0] == std::set<std::string>{"webhooks"});
  CHECK(s[1] == std::set<std::string>{"add"});
  CHECK(s[2].count("--url"));
  CHECK(s[2].count("--retry-schedule"));
  CHECK(s[2].count("--store"));
  CHECK(s[2].count("--json"));
  CHECK_FALSE(s[2].count("-h"));  // only words starting with "--"
  CHECK(s[3] == std::set<std::string>{"pending", "succeeded", "failed", "cancelled", "skipped"});
  CHECK(s[4].empty());  // free text: nothing to offer, and no file names either
  CHECK(s[5].count("--events"));  // flags and their values before the cursor are skipped
  CHECK(s[6] == std::set<std::string>{"bash", "zsh", "fish"});
}

TEST_CASE("bash completes paths for path arguments, including --store=", "[cli][completion][bash]")
{
  Shells shells;
  write_text(shells.dir.path() / "cwd" / "events.ndjson", "");
  // `--store=` reaches the function as "--store" "=" "" (= is in COMP_WORDBREAKS).
  auto r = shells.bash("probe centrali events import ev\n"
                       "probe centrali --store = ev\n"
                       "probe centrali events emit x --data-file ev\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto s = sections(r.out);
  REQUIRE(s.size() == 3);
  for (const auto& section : s) CHECK(section == std::set<std::string>{"events.ndjson"});
}

TEST_CASE("bash is loaded on demand by bash-completion from its completions folder", "[cli][completion][bash]")
{
  Shells shells;
  auto dir = shells.dir.path() / "share" / "bash-completion" / "completions";
  fs::create_directories(dir);
  fs::copy_file(shells.script_path("bash"), dir / "centrali");
  auto exe = find_program("bash");
  REQUIRE_FALSE(exe.empty());
  auto options = shells.options;
  options.env["XDG_DATA_DIRS"] = shells.dir.str("share");
  INFO("bash-completion is not installed; ./dev.sh installs it (BUILD_PACKAGES)");
  REQUIRE(fs::exists("/usr/share/bash-completion/bash_completion"));
  auto r = testing::run({exe, "--norc", "--noprofile", "-c",
                         ". /usr/share/bash-completion/bash_completion; __load_completion centrali && complete -p centrali"},
                        options);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("-F _centrali centrali"));
}

TEST_CASE("zsh loads the script, registers it with compinit, and offers the right words", "[cli][completion][zsh]")
{
  Shells shells;
  SECTION("sourced without compinit it defines _centrali and prints nothing")
  {
    auto r = shells.zsh("(( $+functions[_centrali] )) && print defined");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "defined\n");
    CHECK(r.err.empty());
  }
  SECTION("compinit finds it in $fpath through its #compdef line")
  {
    auto dir = shells.dir.path() / "fpath";
    fs::create_directories(dir);
    fs::copy_file(shells.script_path("zsh"), dir / "_centrali");
    auto r = shells.run("zsh", {"-f", "-c",
                                "fpath=(" + sq(dir.string()) +
                                    " $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[centrali]"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "_centrali\n");
  }
  SECTION("the candidate lines carry descriptions and choices from the tree")
  {
    auto r = shells.zsh("_centrali_candidates centrali we; print @@\n"
                        "_centrali_candidates centrali webhooks add --; print @@\n"
                        "_centrali_candidates centrali triggers runs --status ''; print @@\n");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto s = sections(r.out);
    REQUIRE(s.size() == 3);
    CHECK(s[0].count("webhooks:Manage outbound webhooks; test, resend, replay and recover deliveries"));
    CHECK(s[1].count("--url:Where to POST"));
    CHECK(s[1].count("--store:The store: a SQLite file, or a postgresql:// URL"));
    CHECK(s[2] == std::set<std::string>{"queued", "running", "completed", "failure", "timeout", "cancelled"});
  }
}

TEST_CASE("zsh completes on Tab in a real interactive shell", "[cli][completion][zsh]")
{
  Shells shells;
  Workspace ws;
  auto dir = shells.dir.path() / "fpath";
  fs::create_directories(dir);
  fs::copy_file(shells.script_path("zsh"), dir / "_centrali");
  // zpty drives an interactive zsh: type a line and Tab, then a key bound to
  // a widget that prints the edited line. The markers are spelled ${(U):-x}
  // so that the echo of the typed commands never matches them.
  std::string script = R"ZSH(
zmodload zsh/zpty || exit 3
zpty z 'zsh -f -i'
zpty -w z "PS1=''; fpath=()ZSH" + dir.string() + R"ZSH( \$fpath); autoload -U compinit; compinit -u -D; _dump() { zle -I; print -r -- \"\${(U):-buf}<\$BUFFER>\"; BUFFER=''; }; zle -N _dump; bindkey '^T' _dump; print \${(U):-ready}"
zpty -r z line '*READY*'
try() {
  local out
  zpty -w -n z "$1"$'\t\C-t'
  zpty -r z out '*BUF<*>*'
  print -r -- "${${out##*BUF<}%%>*}"
}
try 'centrali webhooks a'
try 'centrali webhooks add --retry-sc'
try 'centrali deliveries list --status fa'
try 'centrali --store )ZSH" + ws.store + R"ZSH( sources show str'
zpty -d z
)ZSH";
  auto exe = find_program("zsh");
  REQUIRE_FALSE(exe.empty());
  auto options = shells.options;
  options.timeout = std::chrono::seconds(30);
  auto r = testing::run({exe, "-f", "-c", script}, options);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = split_lines(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "centrali webhooks add ");
  CHECK(lines[1] == "centrali webhooks add --retry-schedule ");
  CHECK(lines[2] == "centrali deliveries list --status failed ");
  CHECK(lines[3] == "centrali --store " + ws.store + " sources show stripe-live ");
}

TEST_CASE("fish completes commands, flags and choices with descriptions", "[cli][completion][fish]")
{
  Shells shells;
  auto r = shells.fish("complete -C 'centrali we'; echo @@\n"
                       "complete -C 'centrali webhooks a'; echo @@\n"
                       "complete -C 'centrali webhooks add --'; echo @@\n"
                       "complete -C 'centrali deliveries list --status '; echo @@\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  auto s = sections(r.out);
  REQUIRE(s.size() == 4);
  CHECK(s[0] == std::set<std::string>{"webhooks\tManage outbound webhooks; test, resend, replay and recover deliveries"});
  CHECK(s[1] == std::set<std::string>{"add\tSubscribe a URL to event types (prints its id and secret)"});
  std::set<std::string> flags;
  for (const auto& line : s[2]) flags.insert(word_of(line, '\t'));
  CHECK(flags.count("--url"));
  CHECK(flags.count("--retry-schedule"));
  CHECK(flags.count("--store"));
  std::set<std::string> statuses;
  for (const auto& line : s[3]) statuses.insert(word_of(line, '\t'));
  CHECK(statuses == std::set<std::string>{"pending", "succeeded", "failed", "cancelled", "skipped"});
}

TEST_CASE("every command and flag of the tree is offered by bash, zsh and fish, and nothing else",
          "[cli][completion]")
{
  Shells shells;
  auto expected = expected_from_tree();
  // One shell process per shell: two probes per command (flags after "-",
  // subcommands after "").
  std::string bash_body, zsh_body, fish_body;
  for (const auto& e : expected) {
    auto words = path_words(e.path);
    bash_body += "probe centrali" + words + " -\nprobe centrali" + words + " ''\n";
    zsh_body += "_centrali_candidates centrali" + words + " -; print @@\n_centrali_candidates centrali" + words +
                " ''; print @@\n";
    std::string line = "centrali" + (e.path.empty() ? "" : " " + e.path);
    fish_body += "complete -C " + sq(line + " -") + "; echo @@\ncomplete -C " + sq(line + " ") + "; echo @@\n";
  }
  auto bash = shells.bash(bash_body);
  auto zsh = shells.zsh(zsh_body);
  auto fish = shells.fish(fish_body);
  for (const auto* r : {&bash, &zsh, &fish}) {
    INFO(r->err);
    REQUIRE(r->exit_code == 0);
  }
  auto by_shell = std::vector<std::pair<std::string, std::vector<std::set<std::string>>>>{
      {"bash", sections(bash.out)}, {"zsh", sections(zsh.out)}, {"fish", sections(fish.out)}};
  for (auto& [shell, results] : by_shell) {
    REQUIRE(results.size() == expected.size() * 2);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& e = expected[i];
      char separator = shell == "zsh" ? ':' : '\t';
      std::set<std::string> flags, subcommands;
      for (const auto& line : results[2 * i]) flags.insert(word_of(line, separator));
      for (const auto& line : results[2 * i + 1])
        if (!line.starts_with("@")) subcommands.insert(word_of(line, separator));  // zsh's @file: for _files
      INFO(shell << ": centrali " << e.path << "\n  offered flags: " << join(flags) << "\n  offered words: "
                 << join(subcommands));
      CHECK(flags == e.flags);
      // Positionals may add words (choices, names from a store: none here).
      for (const auto& sub : e.subcommands) CHECK(subcommands.count(sub));
      if (e.subcommands.empty() && e.path != "completion") CHECK(subcommands.empty());
    }
  }
}

TEST_CASE("the scripts complete names and ids from the store given by --store or CENTRALI_STORE",
          "[cli][completion]")
{
  Shells shells;
  Workspace ws;
  auto store = sq(ws.store);
  auto bash = shells.bash("probe centrali --store " + store + " sources show ''\n"
                          "probe centrali webhooks show --store " + store + " ''\n"
                          "probe centrali --store=" + store + " deliveries show ''\n"
                          "probe centrali --store " + store + " events replay " + ws.event_id + " ''\n"
                          "probe centrali --store " + store + " triggers fire ''\n"
                          "probe centrali --store " + store + " triggers runs show ''\n"
                          "CENTRALI_STORE=" + store + " probe centrali deliveries list --webhook ''\n");
  INFO(bash.err);
  REQUIRE(bash.exit_code == 0);
  auto s = sections(bash.out);
  REQUIRE(s.size() == 7);
  CHECK(s[0] == std::set<std::string>{"stripe-live"});
  CHECK(s[1] == std::set<std::string>{ws.webhook_id});
  CHECK(s[2] == std::set<std::string>{ws.delivery_id});
  CHECK(s[3].count(ws.event_id));  // the test event of `webhooks test` is an event too
  CHECK(s[4] == std::set<std::string>{"nightly-report"});
  CHECK(s[5] == std::set<std::string>{ws.run_id});
  CHECK(s[6] == std::set<std::string>{ws.webhook_id});

  auto fish = shells.fish("complete -C " + sq("centrali --store " + ws.store + " triggers show ") + "; echo @@\n" +
                          "complete -C " + sq("centrali --store " + ws.store + " events list --source ") + "; echo @@\n");
  INFO(fish.err);
  REQUIRE(fish.exit_code == 0);
  auto f = sections(fish.out);
  REQUIRE(f.size() == 2);
  CHECK(f[0] == std::set<std::string>{"nightly-report\tdemand: true"});
  CHECK(f[1] == std::set<std::string>{"stripe-live\tstripe"});

  auto zsh = shells.zsh("_centrali_candidates centrali --store " + store + " webhooks rm ''");
  INFO(zsh.err);
  REQUIRE(zsh.exit_code == 0);
  CHECK_THAT(zsh.out, Catch::StartsWith(ws.webhook_id + ":"));
}

TEST_CASE("centrali __complete prints one name per line and never creates or complains", "[cli][completion]")
{
  Workspace ws;
  auto r = centrali({"--store", ws.store, "__complete", "sources"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "stripe-live\tstripe\n");
  CHECK(r.err.empty());

  TempDir empty;
  auto missing = empty.str("no/such/centrali.db");
  for (const char* kind : {"sources", "webhooks", "triggers", "deliveries", "events", "runs", "bogus"}) {
    auto m = centrali({"--store", missing, "__complete", kind});
    CHECK(m.exit_code == 0);
    CHECK(m.out.empty());
    CHECK(m.err.empty());
  }
  CHECK_FALSE(fs::exists(empty.path() / "no"));

  // Not a store at all: still silent.
  write_text(empty.path() / "junk.db", "this is not SQLite, just text that is long enough to be read as a header....");
  auto junk = centrali({"--store", empty.str("junk.db"), "__complete", "events"});
  CHECK(junk.exit_code == 0);
  CHECK(junk.out.empty());
  CHECK(junk.err.empty());

  // The default store is relative to the working folder: none there, none made.
  testing::RunOptions in_empty;
  in_empty.cwd = empty.path();
  auto def = centrali({"__complete", "webhooks"}, in_empty);
  CHECK(def.exit_code == 0);
  CHECK_FALSE(fs::exists(empty.path() / ".centrali"));
}

TEST_CASE("hidden helpers stay out of help and out of the completions", "[cli][completion]")
{
  auto help = centrali({"--help"});
  CHECK_THAT(help.out, Catch::Contains("completion"));
  CHECK_THAT(help.out, !Catch::Contains("__complete"));
  CHECK_THAT(help.out, !Catch::Contains("__commands"));
  auto bash = centrali({"completion", "bash"});
  CHECK_THAT(bash.out, !Catch::Contains("__commands"));
  auto listing = centrali({"__commands"});
  CHECK(listing.exit_code == 0);
  CHECK_THAT(listing.out, Catch::Contains("centrali webhooks add\t"));
  CHECK_THAT(listing.out, !Catch::Contains("__complete"));
}

TEST_CASE("automation commands complete automation names, and RUN_IDs with the ids of their runs", "[cli][completion]")
{
  Shells shells;
  TempDir dir;
  const auto store = dir.str("centrali.db");
  write_text(dir.path() / "flow.json",
             R"({"name": "follow-up", "trigger": {"type": "demand"},
                 "steps": [{"id": "wait", "type": "delay", "duration": "1h"}]})");
  REQUIRE(centrali({"--store", store, "automations", "add", "-f", dir.str("flow.json")}).exit_code == 0);
  auto run = centrali({"--store", store, "--json", "automations", "run", "follow-up"});
  REQUIRE(run.exit_code == 0);
  const std::string run_id = json::parse(run.out)["id"];

  auto bash = shells.bash("probe centrali --store " + sq(store) + " automations show ''\n"
                          "probe centrali --store " + sq(store) + " automations runs show ''\n"
                          "probe centrali --store " + sq(store) + " automations cancel ''\n");
  INFO(bash.err);
  REQUIRE(bash.exit_code == 0);
  auto s = sections(bash.out);
  REQUIRE(s.size() == 3);
  CHECK(s[0] == std::set<std::string>{"follow-up"});
  CHECK(s[1] == std::set<std::string>{run_id});
  CHECK(s[2] == std::set<std::string>{run_id});
}

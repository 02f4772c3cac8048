#include "usage_errors.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace centrali::cli {
namespace {

// The command the arguments name, as deep as they go ({app, webhooks,
// update} for `centrali webhooks update whk_1 --bad`), and the first word
// after it that names no subcommand (the id here). Options are skipped;
// only --store is known to take a separate value before any command.
struct CommandPath {
  std::vector<const CLI::App*> apps;
  std::string next_word;
};

CommandPath command_path(const CLI::App& app, int argc, char** argv)
{
  CommandPath path{{&app}, {}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--store") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    const CLI::App* next = nullptr;
    for (const auto* sub : path.apps.back()->get_subcommands({}))
      if (sub->get_name() == arg) next = sub;
    if (!next) {
      path.next_word = arg;
      break;
    }
    path.apps.push_back(next);
  }
  return path;
}

// "events list" for {app, events, list}: a path as people type it.
std::string words_of(const std::vector<const CLI::App*>& apps)
{
  std::string out;
  for (std::size_t i = 1; i < apps.size(); ++i) out += (out.empty() ? "" : " ") + apps[i]->get_name();
  return out;
}

bool takes_positionals(const CLI::App& app)
{
  for (const auto* opt : app.get_options())
    if (opt->get_positional()) return true;
  return false;
}

// Optimal string alignment distance: Levenshtein plus swapping two
// neighbours as one edit, the commonest typo ("lsit", "evnets").
std::size_t edit_distance(std::string_view a, std::string_view b)
{
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The names of `app`'s subcommands that people see.
std::vector<std::string> visible_subcommands(const CLI::App& app)
{
  std::vector<std::string> out;
  // An empty group hides a command (`__complete`): never suggest it.
  for (const auto* sub : app.get_subcommands({}))
    if (!sub->get_group().empty()) out.push_back(sub->get_name());
  return out;
}

// The one of `names` nearest to `word`, or "" when none is near enough to
// be a likely typo.
std::string nearest(std::string_view word, const std::vector<std::string>& names)
{
  // Two edits at most, and fewer than half the word: "rn" may mean "rm",
  // but "ab" is no typo of "rm".
  const std::size_t limit = std::min<std::size_t>(2, (word.size() + 1) / 2);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& name : names) {
    const auto d = edit_distance(word, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

// `centrali frobnicate`, `centrali events lsit`: name the unknown command
// (and the nearest real one) rather than CLI11's "A subcommand is
// required" or "arguments were not expected". A word after a command that
// takes positionals is an argument, not a command.
std::string unknown_command_message(const CommandPath& path)
{
  const auto& last = *path.apps.back();
  if (path.next_word.empty() || visible_subcommands(last).empty() || (path.apps.size() > 1 && takes_positionals(last)))
    return {};
  return unknown_command(words_of(path.apps), path.next_word, last);
}

// `centrali events`: which commands it takes, rather than "A subcommand is
// required".
std::string missing_command_message(const CommandPath& path, const CLI::ParseError& e)
{
  if (!path.next_word.empty() || std::string_view(e.what()) != "A subcommand is required") return {};
  std::string list;
  for (const auto& name : visible_subcommands(*path.apps.back())) list += (list.empty() ? "" : ", ") + name;
  const auto words = words_of(path.apps);
  return "'centrali" + (words.empty() ? "" : " " + words) + "' needs a command: " + list;
}

// For an unknown `--flag`: the closest flag of the command (or of the
// commands it sits in, whose global options it accepts), if one is close.
std::string flag_suggestion(const std::vector<const CLI::App*>& path, int argc, char** argv)
{
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) continue;
    arg = arg.substr(0, arg.find('='));
    std::vector<std::string> flags;
    for (const auto* cmd : path)
      for (const auto* opt : cmd->get_options())
        for (const auto& name : opt->get_lnames()) flags.push_back("--" + name);
    if (std::find(flags.begin(), flags.end(), arg) != flags.end()) continue;
    const auto near = nearest(arg, flags);
    return "unknown option " + arg + (near.empty() ? "" : "; did you mean " + near + "?");
  }
  return {};
}

// CLI11's conversion failures ("Could not convert: --limit = abc") in our
// words.
std::string readable_parse_error(const CLI::ParseError& e)
{
  std::string what = e.what();
  constexpr std::string_view convert = "Could not convert: ";
  if (what.starts_with(convert)) {
    auto rest = what.substr(convert.size());
    auto eq = rest.find(" = ");
    if (eq != std::string::npos) return rest.substr(0, eq) + ": '" + rest.substr(eq + 3) + "' is not a valid value";
  }
  return what;
}

} // namespace

std::string unknown_command(const std::string& path, const std::string& word, const CLI::App& parent)
{
  const std::string prefix = path.empty() ? "" : path + " ";
  const auto near = nearest(word, visible_subcommands(parent));
  if (!near.empty()) return "unknown command '" + prefix + word + "'; did you mean '" + prefix + near + "'?";
  return "unknown command '" + prefix + word + "' (see 'centrali " + prefix + "--help')";
}

UsageProblem explain_parse_error(const CLI::App& root, const CLI::ParseError& error, int argc, char** argv)
{
  const auto path = command_path(root, argc, argv);
  std::string message = unknown_command_message(path);
  if (message.empty()) message = missing_command_message(path, error);
  if (message.empty()) message = flag_suggestion(path.apps, argc, argv);
  if (message.empty()) message = readable_parse_error(error);
  const auto words = words_of(path.apps);
  return {message, "centrali" + (words.empty() ? "" : " " + words)};
}

} // namespace centrali::cli

// `centrali help [COMMAND...]` and `centrali version`: the text of
// `COMMAND --help` and `--version`, for people who type the word first
// (as with git and go).
#include <CLI/CLI.hpp>

#include "centrali/version.hpp"
#include "context.hpp"
#include "usage_errors.hpp"

namespace centrali::cli {
namespace {

Result<void> run_help(Context& ctx, const CLI::App& root, const std::vector<std::string>& words)
{
  const CLI::App* target = &root;
  std::string path;  // "events list": the words so far
  for (const auto& word : words) {
    const CLI::App* next = nullptr;
    for (const auto* sub : target->get_subcommands({}))
      if (sub->get_name() == word) next = sub;
    if (!next) return fail(ErrorKind::usage, unknown_command(path, word, *target));
    target = next;
    path = path.empty() ? word : path + " " + word;
  }
  // What CLI11 prints for `NAME --help` (App::help, without the detour
  // through the subcommand parsed last, which here is `help` itself).
  const std::string name = root.get_name() + (path.empty() ? "" : " " + path);
  ctx.out().bytes(target->get_formatter()->make_help(target, name, CLI::AppFormatMode::Normal));
  return {};
}

Result<void> run_version(Context& ctx, const CLI::App& root)
{
  if (ctx.out().json()) ctx.out().json_document({{"version", k_version}});
  else ctx.out().line(root.version());
  return {};
}

} // namespace

void add_help_commands(CLI::App& app, Selected& selected)
{
  auto words = std::make_shared<std::vector<std::string>>();
  auto* help = app.add_subcommand("help", "Show the help of centrali or of a command (as COMMAND --help does)");
  help->add_option("command", *words, "The command, e.g. 'events list'")->type_name("COMMAND");
  help->footer("Examples:\n  centrali help\n  centrali help webhooks replay");
  help->callback([&selected, &app, words] {
    selected.run = [&app, words](Context& c) { return run_help(c, app, *words); };
  });

  auto* version = app.add_subcommand("version", "Print the version (as --version does; {\"version\"} with --json)");
  version->footer("Example:\n  centrali version --json");
  version->callback([&selected, &app] { selected.run = [&app](Context& c) { return run_version(c, app); }; });
}

} // namespace centrali::cli

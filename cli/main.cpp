// The centrali driver: declares the global options, registers one command
// per noun, parses, runs the chosen command, and turns its result into an
// exit code. This file is the only place an Error becomes an exit status.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "centrali/version.hpp"
#include "context.hpp"

using namespace centrali;
using namespace centrali::cli;

namespace {

constexpr const char* k_default_store = "./.centrali/centrali.db";

// Global options must also work after the subcommand (`centrali store info
// --json`): every subcommand falls through to its parent.
void allow_globals_everywhere(CLI::App& app)
{
  for (auto* sub : app.get_subcommands({})) {
    sub->fallthrough();
    allow_globals_everywhere(*sub);
  }
}

// People get one `centrali: error:` line; with --json the error is one JSON
// object instead, so that every line on stderr parses as JSON.
void report_error(const Error& error, bool json)
{
  if (!json) {
    std::cerr << "centrali: error: " << error.message << '\n';
    return;
  }
  nlohmann::json j = {{"error", {{"kind", kind_name(error.kind)},
                                 {"message", error.message},
                                 {"exit_code", exit_code(error.kind)}}}};
  std::cerr << dump_json(j) << '\n';
}

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
    if (arg == "--store") { ++i; continue; }
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

// `centrali frobnicate`: name the unknown command rather than CLI11's
// "arguments were not expected".
std::string unknown_command_message(const CommandPath& path)
{
  if (path.apps.size() > 1 || path.next_word.empty()) return {};
  return "unknown command '" + path.next_word + "' (see 'centrali --help')";
}

std::string command_name(const std::vector<const CLI::App*>& path)
{
  std::string out = "centrali";
  for (std::size_t i = 1; i < path.size(); ++i) out += " " + path[i]->get_name();
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b)
{
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// For an unknown `--flag`: the closest flag of the command (or of the
// commands it sits in, whose global options it accepts), if one is close.
std::string flag_suggestion(const std::vector<const CLI::App*>& path, int argc, char** argv)
{
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) continue;
    arg = arg.substr(0, arg.find('='));
    std::string best;
    std::size_t best_distance = 3;  // at most two edits away
    bool known = false;
    for (const auto* cmd : path)
      for (const auto* opt : cmd->get_options())
        for (const auto& name : opt->get_lnames()) {
          if ("--" + name == arg) known = true;
          auto d = edit_distance(arg, "--" + name);
          if (d < best_distance) {
            best_distance = d;
            best = "--" + name;
          }
        }
    if (!known) return "unknown option " + arg + (best.empty() ? "" : "; did you mean " + best + "?");
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
    if (eq != std::string::npos)
      return rest.substr(0, eq) + ": '" + rest.substr(eq + 3) + "' is not a valid value";
  }
  return what;
}

bool wants_json(int argc, char** argv)
{
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--json") return true;
  return false;
}

} // namespace

int main(int argc, char** argv)
{
  // A receiver, a trigger's child or a log reader that hangs up must fail
  // that one write with EPIPE, not end the program (`webhooks test` and
  // replays died of it). Output ends streams whose stdout reader has gone.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"centrali — local webhooks and events toolkit: receive, store, react, send", "centrali"};
  app.set_version_flag("--version", std::string("centrali ") + k_version);
  app.require_subcommand(1);

  GlobalOptions globals;
  globals.store_path = k_default_store;
  app.add_option("--store", globals.store_path, "Path of the store (SQLite file)")
      ->envname("CENTRALI_STORE")
      ->capture_default_str()
      ->type_name("PATH");
  app.add_flag("--json", globals.json, "Print JSON instead of tables; stderr then holds only JSON lines (errors too)");
  app.add_flag("-v,--verbose", globals.verbosity, "More diagnostics on stderr (repeatable)");
  app.add_flag("--no-color", globals.no_color, "Never colour output (also NO_COLOR)");

  Selected selected;
  add_store_command(app, selected);
  add_signature_commands(app, selected);
  add_sources_command(app, selected);
  add_listen_command(app, selected);
  add_events_command(app, selected);
  add_send_command(app, selected);
  add_fixtures_command(app, selected);
  add_project_commands(app, selected);
  add_webhooks_command(app, selected);
  add_deliveries_command(app, selected);
  add_dispatch_command(app, selected);
  add_records_command(app, selected);
  add_triggers_command(app, selected);
  add_completion_command(app, selected);
  allow_globals_everywhere(app);
  // Set last: subcommands copy their parent's footer when they are made,
  // and these examples are for the top level only.
  app.footer("Exit codes: 0 ok, 1 rejected/failed, 2 usage, 3 not found, 4 store, 5 network.\n"
             "Examples:\n"
             "  centrali sources add stripe --provider stripe --secret whsec_...\n"
             "  centrali listen --port 8787\n"
             "  centrali events list --type 'invoice.*' --since 1h\n"
             "See centrali(1) for more.");


  if (argc <= 1) {
    std::cerr << app.help();
    return exit_code(ErrorKind::usage);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (104-109) all mean "usage" to our callers.
    const auto path = command_path(app, argc, argv);
    std::string message = unknown_command_message(path);
    if (message.empty()) message = flag_suggestion(path.apps, argc, argv);
    if (message.empty()) message = readable_parse_error(e);
    report_error({ErrorKind::usage, message}, wants_json(argc, argv));
    if (!wants_json(argc, argv)) std::cerr << "Run '" << command_name(path.apps) << " --help' for usage.\n";
    return exit_code(ErrorKind::usage);
  }

  const char* no_color_env = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  bool color = !globals.no_color && !(no_color_env && *no_color_env) && ::isatty(STDOUT_FILENO) &&
               !(term && std::string_view(term) == "dumb");
  Context ctx(globals, Output(globals.json, color, globals.verbosity));
  if (!selected.run) {
    report_error({ErrorKind::usage, "no command given (see 'centrali --help')"}, globals.json);
    return exit_code(ErrorKind::usage);
  }
  try {
    auto result = selected.run(ctx);
    if (!result) {
      report_error(result.error(), globals.json);
      return exit_code(result.error().kind);
    }
  } catch (const std::exception& e) {
    // A bug, not a user error: say so without internal text unless asked.
    report_error({ErrorKind::rejected, globals.verbosity > 0 ? std::string("internal error: ") + e.what()
                                                             : "internal error (run with -v for details)"},
                 globals.json);
    return 1;
  }
  return 0;
}

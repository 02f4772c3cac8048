// The centrali driver: declares the global options, registers one command
// per noun, parses, runs the chosen command, and turns its result into an
// exit code. This file is the only place an Error becomes an exit status.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include <CLI/CLI.hpp>

#include "centrali/version.hpp"
#include "context.hpp"
#include "usage_errors.hpp"

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
  app.add_option("--store", globals.store_path, "The store: a SQLite file, or a postgresql:// URL")
      ->envname("CENTRALI_STORE")
      ->capture_default_str()
      ->type_name("PATH|URL");
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
  add_automations_command(app, selected);
  add_completion_command(app, selected);
  add_help_commands(app, selected);
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
    if (wants_json(argc, argv)) {
      std::cout << dump_json({{"version", k_version}}, 2) << '\n';  // as `version --json` prints it
      return 0;
    }
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (104-109) all mean "usage" to our callers.
    const auto problem = explain_parse_error(app, e, argc, argv);
    report_error({ErrorKind::usage, problem.message}, wants_json(argc, argv));
    // A hint for people; under --json stderr holds the error line alone.
    if (!wants_json(argc, argv)) std::cerr << "Run '" << problem.help_command << " --help' for usage.\n";
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

#pragma once
// What every command receives: the global options, the output, and the
// store (opened on first use, so commands that need no store never touch it).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/store/store.hpp"
#include "centrali/util/error.hpp"
#include "output.hpp"

namespace CLI {
class App;
}

namespace centrali::cli {

struct GlobalOptions {
  std::string store_path;  // --store / CENTRALI_STORE / ./.centrali/centrali.db
  bool json = false;
  int verbosity = 0;
  bool no_color = false;
};

class Context {
public:
  Context(GlobalOptions options, Output output);

  const GlobalOptions& options() const { return m_options; }
  Output& out() { return m_output; }

  // The store, opened (and created, and migrated) on first call.
  Result<store::Store*> store();

private:
  GlobalOptions m_options;
  Output m_output;
  std::optional<store::Store> m_store;
};

// The command chosen by parsing. Parse callbacks only record it; it runs
// once every global option has been read.
struct Selected {
  std::function<Result<void>(Context&)> run;
};

// A `--since`/`--until` value (a duration back from now, or a time) as
// Unix milliseconds; nullopt when the option was not given.
Result<std::optional<std::int64_t>> time_option(const std::string& flag, const std::string& value);

// A duration flag kept in whole seconds (`--tolerance 5m` -> 300); like
// every duration it takes a unit, and sub-second parts are refused.
Result<std::int64_t> seconds_option(const std::string& flag, const std::string& value);
// `--where` content conditions (query/where.hpp) as given, as a predicate
// on event bodies; an empty function when none were given. A usage error
// names the condition at fault.
using BodyMatch = std::function<bool(std::string_view body)>;
Result<BodyMatch> where_option(const std::vector<std::string>& where);
// Adds the repeatable `--where PATH OP VALUE` flag, one spelling and help
// for every command that has it; `of_what` says whose body it reads.
void add_where_option(CLI::App* cmd, std::vector<std::string>& where, const std::string& of_what = "the event's body");

// An event type given on the command line: 1-200 characters, none of them
// whitespace or a control character (types are shown in tables and
// terminals, and matched by globs). `what` names it in the error.
Result<void> check_event_type(const std::string& type, const std::string& what);

// Reads a whole file (for --data-file); a clear usage error when it cannot.
Result<std::string> read_file(const std::string& path);
// Reads all of standard input; fails when stdin is a terminal, since
// nothing waits for typed input unless the user asked for it.
Result<std::string> read_stdin(const std::string& what);

// Applies a project file to the store and prints the plan unless `quiet`
// (`apply`, and `listen --config` before it serves); the number of changes.
Result<int> apply_project_file(Context& ctx, const std::string& file, bool prune, bool dry_run, bool quiet);

// One registration function per command noun (one file each).
void add_store_command(CLI::App& app, Selected& selected);
void add_signature_commands(CLI::App& app, Selected& selected);
void add_sources_command(CLI::App& app, Selected& selected);
void add_listen_command(CLI::App& app, Selected& selected);
void add_events_command(CLI::App& app, Selected& selected);
void add_webhooks_command(CLI::App& app, Selected& selected);
void add_deliveries_command(CLI::App& app, Selected& selected);
void add_dispatch_command(CLI::App& app, Selected& selected);
void add_records_command(CLI::App& app, Selected& selected);
void add_triggers_command(CLI::App& app, Selected& selected);
void add_automations_command(CLI::App& app, Selected& selected);
void add_send_command(CLI::App& app, Selected& selected);
void add_project_commands(CLI::App& app, Selected& selected);
void add_fixtures_command(CLI::App& app, Selected& selected);
void add_completion_command(CLI::App& app, Selected& selected);
// `help [COMMAND...]` and `version`; registered last, as they read the tree.
void add_help_commands(CLI::App& app, Selected& selected);

} // namespace centrali::cli

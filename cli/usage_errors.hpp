#pragma once
// Usage errors in our words: what CLI11 reports when it cannot parse the
// arguments, turned into a message that names the unknown command or flag
// and suggests the nearest one ("did you mean"), and the command whose
// --help to point to.
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace centrali::cli {

struct UsageProblem {
  std::string message;       // "unknown command 'events lsit'; did you mean 'events list'?"
  std::string help_command;  // "centrali events": the command whose --help explains it
};

// Explains `error`, which parsing `argc`/`argv` against `root` threw.
UsageProblem explain_parse_error(const CLI::App& root, const CLI::ParseError& error, int argc, char** argv);

// The names of `app`'s subcommands that people see (hidden ones left out).
std::vector<std::string> visible_subcommands(const CLI::App& app);

// The one of `names` nearest to `word` (transposed, missing or extra
// letters), or "" when none is near enough to be a likely typo.
std::string nearest(std::string_view word, const std::vector<std::string>& names);

} // namespace centrali::cli

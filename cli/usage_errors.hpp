#pragma once
// Usage errors in our words: what CLI11 reports when it cannot parse the
// arguments, turned into a message that names the unknown command or flag
// and suggests the nearest one ("did you mean"), and the command whose
// --help to point to.
#include <string>

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

// "unknown command 'events lsit'; did you mean 'events list'?" for `word`
// after the command `path` ("events"; "" at the top) whose App is `parent`,
// or "... (see 'centrali events --help')" when no command is near.
std::string unknown_command(const std::string& path, const std::string& word, const CLI::App& parent);

} // namespace centrali::cli

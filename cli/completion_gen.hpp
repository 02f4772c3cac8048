#pragma once
// Shell completion from the CLI11 command tree itself: the tree is walked
// into a plain description (commands, flags, positionals and what their
// values are), and bash, zsh and fish scripts are printed from it. Nothing
// here is written by hand per command, so a new flag cannot be forgotten.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace centrali::cli::completion {

// What a value is, so each shell can offer the right words.
enum class ValueKind {
  none,     // a flag: takes no value
  text,     // free text: nothing to offer
  choices,  // a fixed set (CLI::IsMember, or a lowercase `a|b` type name)
  file,     // a path (type name PATH or FILE)
  dir,      // a folder (type name DIR)
  dynamic,  // names or ids read from the store: `centrali __complete <store_kind>`
};

struct ValueSpec {
  ValueKind kind = ValueKind::none;
  std::vector<std::string> choices;  // kind == choices
  std::string store_kind;            // kind == dynamic: sources, webhooks, triggers, ...
};

struct FlagSpec {
  std::vector<std::string> names;  // "-v", "--verbose": short names first
  std::string help;                // first line of the description
  std::string type_name;           // "URL", "DURATION" ... (empty for flags)
  std::string default_value;       // captured default, if any
  ValueSpec value;                 // kind none: a flag without value
};

struct PositionalSpec {
  std::string name;
  std::string help;
  bool many = false;  // takes every remaining word
  bool required = false;
  ValueSpec value;
};

struct CommandSpec {
  std::string path;                    // "" for the top level, "webhooks add", "triggers runs show"
  std::string help;
  std::vector<std::string> children;   // names of the visible subcommands, in tree order
  std::vector<std::string> child_help;  // their one-line descriptions
  std::vector<FlagSpec> flags;         // this command's own flags (with -h/--help)
  std::vector<PositionalSpec> positionals;
};

struct Tree {
  std::vector<CommandSpec> commands;  // depth first, the top level first
  std::vector<FlagSpec> globals;      // top-level flags that work after any subcommand
};

// Walks `root`, the whole App (non-const: CLI11 lists an option's
// validators only through a non-const getter). Subcommands and options
// whose group is empty are hidden in --help and are left out here too.
Tree describe(CLI::App& root);

// The dynamic value kinds `centrali __complete` answers.
const std::vector<std::string>& store_kinds();

std::string bash_script(const Tree& tree);
std::string zsh_script(const Tree& tree);
std::string fish_script(const Tree& tree);

// Every command path and its flags, for people and tests (`centrali __commands`).
std::string listing(const Tree& tree);
nlohmann::json to_json(const Tree& tree);

} // namespace centrali::cli::completion

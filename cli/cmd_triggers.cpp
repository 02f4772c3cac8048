// `centrali triggers` (arrives with the triggers work).
#include <CLI/CLI.hpp>

#include "context.hpp"

namespace centrali::cli {
void add_triggers_command(CLI::App&, Selected&) {}
} // namespace centrali::cli

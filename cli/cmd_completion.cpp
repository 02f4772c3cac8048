// `centrali completion bash|zsh|fish`: print a completion script made from
// the command tree itself (see completion_gen.hpp), plus two hidden helpers:
// `__complete KIND` (names and ids from the store, for the scripts) and
// `__commands` (every command path and its flags, for tests and docs).
#include <filesystem>

#include <CLI/CLI.hpp>

#include "centrali/store/automations.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/store/webhooks.hpp"
#include "completion_gen.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

// Newest first; enough to find recent ids without a long pause on Tab.
constexpr int k_recent_limit = 200;
// Short, since the user is waiting on a key press; a busy store yields nothing.
constexpr int k_busy_timeout_ms = 300;

// One candidate line: the value, a tab, a short description. Tabs and line
// breaks inside either would split the line, so they become spaces.
std::string candidate(std::string value, std::string description)
{
  for (auto* s : {&value, &description})
    for (auto& c : *s)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return description.empty() ? value : value + "\t" + description;
}

Result<std::vector<std::string>> store_values(store::Store& s, const std::string& kind)
{
  std::vector<std::string> out;
  if (kind == "sources") {
    auto rows = store::list_sources(s);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.name, r.provider));
  } else if (kind == "webhooks") {
    auto rows = store::list_webhooks(s);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.id, (r.name.empty() ? "" : r.name + " ") + r.url));
  } else if (kind == "triggers") {
    auto rows = store::list_triggers(s);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.name, r.kind + ": " + r.command));
  } else if (kind == "deliveries") {
    store::DeliveryFilter f;
    f.limit = k_recent_limit;
    auto rows = store::list_deliveries(s, f);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.id, r.status + " " + r.event_type));
  } else if (kind == "events") {
    store::EventFilter f;
    f.limit = k_recent_limit;
    auto rows = store::list_events(s, f);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.id, r.source + " " + r.type));
  } else if (kind == "runs") {
    auto rows = store::list_runs(s, {"", "", k_recent_limit});
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.id, r.trigger + " " + r.status));
  } else if (kind == "automations") {
    auto rows = store::list_automations(s);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.name, r.trigger));
  } else if (kind == "automation-runs") {
    auto rows = store::list_automation_runs(s, {"", "", k_recent_limit});
    if (!rows) return std::unexpected(rows.error());
    for (const auto& r : *rows) out.push_back(candidate(r.id, r.automation + " " + r.status));
  }
  return out;
}

// Runs on every Tab press, so it never creates a store where there is none,
// never writes to stderr and always exits 0: a completion that complains
// would garble the user's command line.
Result<void> run_complete_values(Context& ctx, const std::string& kind)
{
  try {
    std::error_code ec;
    const std::filesystem::path path = ctx.options().store_path;
    if (!std::filesystem::is_regular_file(path, ec)) return {};
    auto opened = store::Store::open(path, {store::Durability::normal, k_busy_timeout_ms});
    if (!opened) return {};
    auto values = store_values(*opened, kind);
    if (!values) return {};
    for (const auto& v : *values) ctx.out().line(v);
  } catch (...) {
    // Same promise as above: nothing on stderr, exit 0.
  }
  return {};
}

Result<void> run_script(Context& ctx, CLI::App& root, const std::string& shell)
{
  auto tree = completion::describe(root);
  if (shell == "bash") ctx.out().bytes(completion::bash_script(tree));
  else if (shell == "zsh") ctx.out().bytes(completion::zsh_script(tree));
  else ctx.out().bytes(completion::fish_script(tree));
  return {};
}

Result<void> run_commands(Context& ctx, CLI::App& root)
{
  auto tree = completion::describe(root);
  if (ctx.out().json()) ctx.out().json_document(completion::to_json(tree));
  else ctx.out().bytes(completion::listing(tree));
  return {};
}

} // namespace

void add_completion_command(CLI::App& app, Selected& selected)
{
  auto shell = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  cmd->add_option("shell", *shell, "Shell to complete for")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->footer("Completes every command and flag, fixed choices such as --status values, and names\n"
              "and ids from the store (--store or CENTRALI_STORE): sources, webhooks, triggers,\n"
              "deliveries, events, runs, automations and their runs. Packages install the\n"
              "scripts for you; by hand:\n"
              "Examples:\n"
              "  source <(centrali completion bash)         # this bash session\n"
              "  centrali completion bash > ~/.local/share/bash-completion/completions/centrali\n"
              "  centrali completion zsh > ~/.zfunc/_centrali   # with fpath=(~/.zfunc $fpath) before compinit\n"
              "  centrali completion fish > ~/.config/fish/completions/centrali.fish\n"
              "See centrali-completion(1).");
  // The tree is complete only once every command is registered; the run
  // callback reads it then, through the root App that outlives parsing.
  cmd->callback([&selected, &app, shell] {
    selected.run = [&app, shell](Context& c) { return run_script(c, app, *shell); };
  });

  // Hidden (empty group): for the scripts and the tests, not for people.
  auto kind = std::make_shared<std::string>();
  auto* values = app.add_subcommand("__complete", "Print names or ids from the store, one per line")->group("");
  values->add_option("kind", *kind, "One of: " + [] {
    std::string all;
    for (const auto& k : completion::store_kinds()) all += (all.empty() ? "" : ", ") + k;
    return all;
  }())->required();
  values->callback([&selected, kind] {
    selected.run = [kind](Context& c) { return run_complete_values(c, *kind); };
  });

  auto* commands = app.add_subcommand("__commands", "Print every command path with its flags")->group("");
  commands->callback([&selected, &app] { selected.run = [&app](Context& c) { return run_commands(c, app); }; });
}

} // namespace centrali::cli

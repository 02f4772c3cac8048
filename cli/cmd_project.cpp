// `centrali apply` and `centrali export-config`: the store's sources,
// webhooks and triggers as one file a team can commit (lib/centrali/project).
#include <CLI/CLI.hpp>

#include "centrali/project/project.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct ApplyArgs {
  std::string file;
  bool prune = false;
  bool dry_run = false;
};

void print_plan(Context& ctx, const project::Plan& plan, bool dry_run)
{
  if (ctx.out().json()) {
    auto entries = json::array();
    for (const auto& c : plan.changes)
      entries.push_back({{"action", c.action}, {"kind", c.kind}, {"name", c.name}, {"fields", c.fields}});
    ctx.out().json_document({{"changes", plan.count()}, {"dry_run", dry_run}, {"plan", entries}});
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : plan.changes) {
    std::string fields;
    for (const auto& f : c.fields) fields += (fields.empty() ? "" : ", ") + f;
    auto style = c.action == "create" ? Style::green : c.action == "delete" ? Style::red : c.action == "update" ? Style::yellow : Style::dim;
    rows.push_back({ctx.out().paint(c.action, style), c.kind, for_terminal(c.name), fields});
  }
  if (!rows.empty()) ctx.out().table({"ACTION", "KIND", "NAME", "CHANGES"}, rows);
  ctx.out().note(count_of(static_cast<std::size_t>(plan.count()), "change", "changes") +
                 (dry_run ? " planned (dry run: nothing was changed)" : " made"));
}

} // namespace

Result<int> apply_project_file(Context& ctx, const std::string& file, bool prune, bool dry_run, bool quiet)
{
  auto text = file == "-" ? read_stdin("the project file") : read_file(file);
  if (!text) return std::unexpected(text.error());
  auto project = project::parse_project(*text);
  if (!project) return fail(ErrorKind::usage, file + ": " + project.error().message);
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto plan = project::apply_project(**store, *project, prune ? project::Prune::yes : project::Prune::no,
                                     dry_run ? project::DryRun::yes : project::DryRun::no, timeutil::now_ms());
  if (!plan) return fail(plan.error().kind, file + ": " + plan.error().message);
  if (!quiet) print_plan(ctx, *plan, dry_run);
  return plan->count();
}

namespace {

Result<void> run_export(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto exported = project::export_project(**store);
  if (!exported) return std::unexpected(exported.error());
  ctx.out().line(exported->document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  if (!ctx.out().json()) {
    for (const auto& p : exported->placeholders)
      ctx.out().note("a literal secret was written as the reference " + p + ": set it before 'apply'");
    if (!exported->document["webhooks"].empty())
      ctx.out().note("webhook secrets are not written: 'apply' keeps a webhook's stored secret, and makes one for a new "
                     "webhook (or give \"secret\": \"env:NAME\")");
  }
  return {};
}

} // namespace

void add_project_commands(CLI::App& app, Selected& selected)
{
  auto a = std::make_shared<ApplyArgs>();
  auto* apply = app.add_subcommand("apply", "Make the store's sources, webhooks and triggers match a project file");
  apply->add_option("-f,--file", a->file, "The project file (JSON; '-' for stdin)")->required()->type_name("FILE");
  apply->add_flag("--prune", a->prune, "Also delete what the file does not name");
  apply->add_flag("--dry-run", a->dry_run, "Print the plan; change nothing");
  apply->footer("Prints the plan (create, update, delete, unchanged) and applies it in one transaction;\n"
                "applying the same file again changes nothing. Secrets may be env:NAME or file:PATH.\n"
                "Examples:\n  centrali apply -f centrali.json --dry-run\n  centrali apply -f centrali.json --prune");
  apply->callback([&selected, a] {
    selected.run = [a](Context& c) -> Result<void> {
      auto applied = apply_project_file(c, a->file, a->prune, a->dry_run, false);
      if (!applied) return std::unexpected(applied.error());
      return {};
    };
  });

  auto* exp = app.add_subcommand("export-config", "Print the store's sources, webhooks and triggers as a project file");
  exp->footer("Secrets are not written: references stay references, literal ones become placeholders.\n"
              "Example:\n  centrali export-config > centrali.json");
  exp->callback([&selected] { selected.run = run_export; });
}

} // namespace centrali::cli

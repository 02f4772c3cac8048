// `centrali store info|vacuum`: look at and tidy the store file.
#include <CLI/CLI.hpp>

#include "centrali/util/bytes_text.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

Result<void> run_info(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto info = (*store)->info();
  if (!info) return std::unexpected(info.error());
  if (ctx.out().json()) {
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& t : info->tables) tables[t.table] = t.rows;
    ctx.out().json_document({{"path", info->path},
                             {"schema_version", info->schema_version},
                             {"latest_schema_version", info->latest_schema_version},
                             {"size_bytes", info->size_bytes},
                             {"tables", tables}});
    return {};
  }
  ctx.out().fields({{"path", info->path},
                    {"schema", std::to_string(info->schema_version)},
                    {"size", human_bytes(info->size_bytes)}});
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : info->tables) rows.push_back({t.table, std::to_string(t.rows)});
  ctx.out().line("");
  ctx.out().table({"TABLE", "ROWS"}, rows);
  return {};
}

Result<void> run_vacuum(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto sizes = (*store)->vacuum();
  if (!sizes) return std::unexpected(sizes.error());
  if (ctx.out().json()) {
    ctx.out().json_document({{"path", (*store)->location()},
                             {"size_before_bytes", sizes->first},
                             {"size_after_bytes", sizes->second}});
  } else {
    ctx.out().line("vacuumed " + (*store)->location() + ": " + human_bytes(sizes->first) + " -> " +
                   human_bytes(sizes->second));
  }
  return {};
}

} // namespace

void add_store_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("store", "Inspect and maintain the store file");
  cmd->require_subcommand(1);
  cmd->footer("Examples:\n  centrali store info\n  centrali store vacuum");
  auto* info = cmd->add_subcommand("info", "Show path, schema version, size and rows per table");
  info->footer("Example:\n  centrali store info --json");
  info->callback([&selected] { selected.run = run_info; });
  auto* vacuum = cmd->add_subcommand("vacuum", "Rebuild the store file to reclaim free space");
  vacuum->footer("Example:\n  centrali --store ./.centrali/centrali.db store vacuum");
  vacuum->callback([&selected] { selected.run = run_vacuum; });
}

} // namespace centrali::cli

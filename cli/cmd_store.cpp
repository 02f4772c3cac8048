// `centrali store info|vacuum|copy`: look at, tidy and move the store.
#include <CLI/CLI.hpp>

#include "centrali/store/copy.hpp"
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

// 1234567 -> "1,234,567": counts a person reads at a glance.
std::string grouped(std::int64_t n)
{
  auto digits = std::to_string(n);
  for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3)
    digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

Result<void> run_copy(Context& ctx, const std::string& to_location)
{
  auto from = ctx.store();
  if (!from) return std::unexpected(from.error());
  auto to = store::Store::open(to_location);
  if (!to) return std::unexpected(to.error());
  auto counts = store::copy_store(**from, *to);
  if (!counts) return std::unexpected(counts.error());
  if (ctx.out().json()) {
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& t : counts->tables) tables[t.table] = t.rows;
    ctx.out().json_document({{"from", (*from)->location()}, {"to", to->location()}, {"tables", tables}});
    return {};
  }
  std::string what;
  for (const auto& t : counts->tables)
    if (t.rows > 0) what += (what.empty() ? "" : ", ") + grouped(t.rows) + " " + t.table;
  ctx.out().line("copied " + (what.empty() ? std::string("nothing") : what) + " to " + to->location());
  return {};
}

} // namespace

void add_store_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("store", "Inspect, maintain and copy the store");
  cmd->require_subcommand(1);
  cmd->footer("Examples:\n  centrali store info\n  centrali store vacuum\n"
              "  centrali store copy --to postgresql://centrali@db.internal/centrali");
  auto* info = cmd->add_subcommand("info", "Show path, schema version, size and rows per table");
  info->footer("Example:\n  centrali store info --json");
  info->callback([&selected] { selected.run = run_info; });
  auto* vacuum = cmd->add_subcommand("vacuum", "Rebuild the store file to reclaim free space");
  vacuum->footer("Example:\n  centrali --store ./.centrali/centrali.db store vacuum");
  vacuum->callback([&selected] { selected.run = run_vacuum; });
  auto* copy = cmd->add_subcommand("copy", "Copy the whole store into a new, empty one (SQLite or PostgreSQL)");
  auto to = std::make_shared<std::string>();
  copy->add_option("--to", *to, "The store to fill: a file path or a postgresql:// URL; it must be empty")
      ->required()
      ->type_name("LOCATION");
  copy->footer("Examples:\n  centrali store copy --to postgresql://centrali@db.internal:5432/centrali\n"
               "  centrali --store postgresql://centrali@db.internal/centrali store copy --to ./backup.db");
  copy->callback([&selected, to] { selected.run = [to](Context& ctx) { return run_copy(ctx, *to); }; });
}

} // namespace centrali::cli

// `centrali fixtures list|show`: the events `send --fixture` can send, built
// in and from the store folder's fixtures/ (./.centrali/fixtures/*.json).
#include <CLI/CLI.hpp>

#include "centrali/fixtures/fixtures.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

std::filesystem::path user_fixtures(Context& ctx)
{
  return std::filesystem::path(ctx.options().store_path).parent_path() / "fixtures";
}

Result<void> run_list(Context& ctx, const std::string& provider)
{
  auto all = fixtures::load_fixtures(user_fixtures(ctx));
  if (!all) return std::unexpected(all.error());
  std::vector<const fixtures::Fixture*> shown;
  for (const auto& f : *all)
    if (provider.empty() || f.provider == provider) shown.push_back(&f);
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto* f : shown)
      arr.push_back({{"name", f->name}, {"provider", f->provider}, {"event_type", f->event_type},
                     {"description", f->description}, {"origin", f->origin}});
    ctx.out().json_document(arr);
    return {};
  }
  if (shown.empty()) {
    ctx.out().note("no fixtures" + (provider.empty() ? std::string() : " for " + provider));
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto* f : shown)
    rows.push_back({f->provider, for_terminal(f->name), for_terminal(f->event_type),
                    for_terminal(f->origin == "built-in" ? f->description : f->description + " (" + f->origin + ")")});
  ctx.out().table({"PROVIDER", "NAME", "EVENT TYPE", "DESCRIPTION"}, rows);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& name, const std::string& provider)
{
  auto all = fixtures::load_fixtures(user_fixtures(ctx));
  if (!all) return std::unexpected(all.error());
  std::vector<const fixtures::Fixture*> found;
  for (const auto& f : *all)
    if (f.name == name && (provider.empty() || f.provider == provider)) found.push_back(&f);
  if (found.empty()) return fail(ErrorKind::not_found, "no fixture named '" + name + "' (see 'centrali fixtures list')");
  if (found.size() > 1) {
    std::string providers;
    for (const auto* f : found) providers += (providers.empty() ? "" : ", ") + f->provider;
    return fail(ErrorKind::usage, "fixture '" + name + "' exists for " + providers + ": add --provider");
  }
  const auto& f = *found.front();
  json headers = json::object();
  for (const auto& h : f.headers) headers[h.name] = h.value;
  nlohmann::ordered_json doc = {{"name", f.name},
                                {"provider", f.provider},
                                {"event_type", f.event_type},
                                {"description", f.description},
                                {"origin", f.origin},
                                {"headers", headers},
                                {"body", f.body}};
  ctx.out().line(doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  return {};
}

} // namespace

void add_fixtures_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("fixtures", "Realistic provider events for 'centrali send --fixture'");
  cmd->require_subcommand(1);
  cmd->footer("Add your own as JSON files in the store's folder: ./.centrali/fixtures/*.json.\n"
              "Examples:\n  centrali fixtures list --provider stripe\n  centrali fixtures show invoice.paid");
  auto list_provider = std::make_shared<std::string>();
  auto* list = cmd->add_subcommand("list", "List the fixtures, built in and your own");
  list->add_option("--provider", *list_provider, "Only this provider's")
      ->type_name("standard|svix|clerk|stripe|github|shopify|slack|twilio|none");
  list->footer("Example:\n  centrali fixtures list --provider github --json");
  list->callback([&selected, list_provider] {
    selected.run = [list_provider](Context& c) { return run_list(c, *list_provider); };
  });
  auto show_name = std::make_shared<std::string>();
  auto show_provider = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Print a fixture: its headers and body, placeholders as written");
  show->add_option("name", *show_name, "Fixture name (e.g. invoice.paid)")->required();
  show->add_option("--provider", *show_provider, "The provider, when the name exists for several")
      ->type_name("standard|svix|clerk|stripe|github|shopify|slack|twilio|none");
  show->footer("Example:\n  centrali fixtures show invoice.paid > .centrali/fixtures/my-invoice.json");
  show->callback([&selected, show_name, show_provider] {
    selected.run = [show_name, show_provider](Context& c) { return run_show(c, *show_name, *show_provider); };
  });
}

} // namespace centrali::cli

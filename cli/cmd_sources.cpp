// `centrali sources add|list|show|rm`: the named inbound endpoints.
#include <algorithm>

#include <CLI/CLI.hpp>

#include "centrali/ingest/providers.hpp"
#include "centrali/ingest/secrets.hpp"
#include "centrali/ingest/source_rules.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

struct AddArgs {
  std::string name;
  std::string provider;
  std::vector<std::string> secrets;
  std::optional<std::string> tolerance;
  std::string forward_to;
};

// --tolerance is a duration (with a unit, as every duration) kept in seconds.
Result<std::optional<std::int64_t>> tolerance_seconds(const std::optional<std::string>& given)
{
  if (!given) return std::optional<std::int64_t>();
  auto seconds = seconds_option("--tolerance", *given);
  if (!seconds) return std::unexpected(seconds.error());
  return std::optional<std::int64_t>(*seconds);
}

// A source's problem in the words of these commands' flags.
Error flag_error(const ingest::SourceProblem& p)
{
  using Field = ingest::SourceProblem::Field;
  switch (p.field) {
  case Field::name: return {ErrorKind::usage, "source name " + p.message};
  case Field::provider: return {ErrorKind::usage, "--provider: " + p.message};
  case Field::secrets:
    return {ErrorKind::usage, "--secret" + (p.index >= 0 ? " #" + std::to_string(p.index + 1) : std::string()) + ": " + p.message};
  case Field::tolerance: return {ErrorKind::usage, "--tolerance " + p.message};
  case Field::forward_to: return {ErrorKind::usage, "--forward-to: " + p.message};
  }
  return {ErrorKind::usage, p.message};
}

nlohmann::json source_json(const store::Source& s)
{
  nlohmann::json secrets = nlohmann::json::array();
  for (const auto& ref : s.secrets) secrets.push_back(ingest::redact_secret(ref));
  return {{"name", s.name},
          {"provider", s.provider},
          {"secrets", secrets},
          {"tolerance_s", s.tolerance_s ? nlohmann::json(*s.tolerance_s) : nlohmann::json(nullptr)},
          {"forward_to", s.forward_to.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.forward_to)},
          {"ingest_path", "/ingest/" + s.name},
          {"created_at", timeutil::format_rfc3339(s.created_ms)}};
}

Result<void> run_add(Context& ctx, const AddArgs& args)
{
  store::Source s;
  s.name = args.name;
  s.provider = args.provider;
  s.secrets = args.secrets;
  auto tolerance = tolerance_seconds(args.tolerance);
  if (!tolerance) return std::unexpected(tolerance.error());
  s.tolerance_s = *tolerance;
  s.forward_to = args.forward_to;
  s.created_ms = timeutil::now_ms();
  if (auto problem = ingest::source_problem(s)) return std::unexpected(flag_error(*problem));
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (auto r = store::add_source(**store, s); !r) return r;
  if (ctx.out().json()) {
    ctx.out().json_document(source_json(s));
  } else {
    ctx.out().line("added source " + s.name + " (" + s.provider + "): POST /ingest/" + s.name);
  }
  return {};
}

Result<void> run_list(Context& ctx)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto sources = store::list_sources(**store);
  if (!sources) return std::unexpected(sources.error());
  if (ctx.out().json()) {
    auto arr = nlohmann::json::array();
    for (const auto& s : *sources) arr.push_back(source_json(s));
    ctx.out().json_document(arr);
    return {};
  }
  if (sources->empty()) {
    ctx.out().note("no sources; add one with 'centrali sources add NAME --provider P --secret K'");
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  auto now = timeutil::now_ms();
  for (const auto& s : *sources)
    rows.push_back({s.name, s.provider, std::to_string(s.secrets.size()), s.forward_to.empty() ? "-" : shown_url(s.forward_to),
                    timeutil::relative(s.created_ms, now)});
  ctx.out().table({"NAME", "PROVIDER", "SECRETS", "FORWARD", "CREATED"}, rows);
  return {};
}

Result<void> run_show(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto s = store::get_source(**store, name);
  if (!s) return std::unexpected(s.error());
  if (ctx.out().json()) {
    ctx.out().json_document(source_json(*s));
    return {};
  }
  std::string secrets;
  for (const auto& ref : s->secrets) secrets += (secrets.empty() ? "" : ", ") + ingest::redact_secret(ref);
  ctx.out().fields({{"name", s->name},
                    {"provider", s->provider},
                    {"ingest", "POST /ingest/" + s->name},
                    {"secrets", secrets.empty() ? "-" : secrets},
                    {"tolerance", s->tolerance_s ? std::to_string(*s->tolerance_s) + "s" : "300s (default)"},
                    {"forward to", s->forward_to.empty() ? "-" : shown_url(s->forward_to)},
                    {"created", timeutil::format_rfc3339(s->created_ms)}});
  return {};
}

struct UpdateArgs {
  std::string name;
  std::string forward_to;
  bool no_forward = false;
  std::optional<std::string> tolerance;
  std::vector<std::string> add_secrets;
  std::vector<std::string> remove_secrets;
};

// Changes a source in place: unlike rm and add, the source never stops
// existing, so a running listener answers every request meanwhile.
Result<void> run_update(Context& ctx, const UpdateArgs& args)
{
  if (!args.forward_to.empty() && args.no_forward)
    return fail(ErrorKind::usage, "--forward-to and --no-forward contradict each other");
  if (args.forward_to.empty() && !args.no_forward && !args.tolerance && args.add_secrets.empty() &&
      args.remove_secrets.empty())
    return fail(ErrorKind::usage, "nothing to change: give --forward-to, --no-forward, --tolerance, --add-secret or --remove-secret");
  auto tolerance = tolerance_seconds(args.tolerance);
  if (!tolerance) return std::unexpected(tolerance.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  store::Source s;
  auto updated = store::write_transaction(**store, [&]() -> Result<void> {
    auto current = store::get_source(**store, args.name);
    if (!current) return std::unexpected(current.error());
    s = std::move(*current);
    for (const auto& ref : args.remove_secrets) {
      auto it = std::find(s.secrets.begin(), s.secrets.end(), ref);
      if (it == s.secrets.end())
        return fail(ErrorKind::usage, "--remove-secret: source '" + s.name + "' has no such secret (it has " +
                                          std::to_string(s.secrets.size()) + "; see 'centrali sources show " + s.name + "')");
      s.secrets.erase(it);
    }
    for (const auto& ref : args.add_secrets)
      if (std::find(s.secrets.begin(), s.secrets.end(), ref) == s.secrets.end()) s.secrets.push_back(ref);
    if (*tolerance) s.tolerance_s = *tolerance;
    if (!args.forward_to.empty()) s.forward_to = args.forward_to;
    if (args.no_forward) s.forward_to.clear();
    if (auto problem = ingest::source_problem(s)) {
      auto error = flag_error(*problem);
      if (problem->field == ingest::SourceProblem::Field::secrets && s.secrets.empty())
        error.message = "--remove-secret would leave " + s.provider + " source '" + s.name + "' without a secret; add the new one first";
      return std::unexpected(error);
    }
    return store::update_source(**store, s);
  });
  if (!updated) return std::unexpected(updated.error());
  if (ctx.out().json()) ctx.out().json_document(source_json(s));
  else ctx.out().line("updated source " + s.name + " (a running listener uses it within 0.1 s)");
  return {};
}

Result<void> run_rm(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  if (auto r = store::remove_source(**store, name); !r) return r;
  if (ctx.out().json()) ctx.out().json_document({{"removed", name}});
  else ctx.out().line("removed source " + name + " (its stored events are kept)");
  return {};
}

} // namespace

void add_sources_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("sources", "Manage inbound sources (POST /ingest/<name>)");
  cmd->require_subcommand(1);
  cmd->footer("Examples:\n  centrali sources add gh --provider github --secret env:GH_SECRET\n  centrali sources list");

  auto add_args = std::make_shared<AddArgs>();
  auto* add = cmd->add_subcommand("add", "Add a source");
  add->add_option("name", add_args->name, "Source name, used in the URL")->required();
  add->add_option("--provider", add_args->provider, "Signature scheme of the sender")
      ->required()
      ->type_name(ingest::provider_names());
  add->add_option("--secret", add_args->secrets, "Signing secret: a value, env:NAME or file:PATH (repeat to rotate)")
      ->type_name("K");
  add->add_option("--tolerance", add_args->tolerance, "Allowed timestamp skew (whole seconds, e.g. 10m) [default: 300s]")
      ->type_name("DURATION");
  add->add_option("--forward-to", add_args->forward_to, "Forward this source's accepted events to URL")->type_name("URL");
  add->footer("Examples:\n"
              "  centrali sources add stripe --provider stripe --secret whsec_...\n"
              "  centrali sources add gh --provider github --secret env:GITHUB_WEBHOOK_SECRET --forward-to http://localhost:3000/gh");
  add->callback([&selected, add_args] { selected.run = [add_args](Context& c) { return run_add(c, *add_args); }; });

  auto update_args = std::make_shared<UpdateArgs>();
  auto* update = cmd->add_subcommand("update", "Change a source in place (no moment without it)");
  update->add_option("name", update_args->name, "Source name")->required();
  update->add_option("--forward-to", update_args->forward_to, "Forward its accepted events to URL")->type_name("URL");
  update->add_flag("--no-forward", update_args->no_forward, "Stop forwarding its events");
  update->add_option("--tolerance", update_args->tolerance, "Allowed timestamp skew (whole seconds, e.g. 10m)")
      ->type_name("DURATION");
  update->add_option("--add-secret", update_args->add_secrets,
                     "Accept this secret too: a value, env:NAME or file:PATH (repeatable)")
      ->type_name("K");
  update->add_option("--remove-secret", update_args->remove_secrets,
                     "Stop accepting this secret, as it was given (repeatable)")
      ->type_name("K");
  update->footer("Rotate a secret without a 401 in between: add the new one, switch the sender, remove the old one.\n"
                 "Examples:\n"
                 "  centrali sources update stripe --forward-to http://localhost:4000/webhooks\n"
                 "  centrali sources update stripe --add-secret env:STRIPE_NEW_SECRET\n"
                 "  centrali sources update stripe --remove-secret env:STRIPE_OLD_SECRET");
  update->callback([&selected, update_args] {
    selected.run = [update_args](Context& c) { return run_update(c, *update_args); };
  });

  auto* list = cmd->add_subcommand("list", "List sources");
  list->footer("Example:\n  centrali sources list --json");
  list->callback([&selected] { selected.run = run_list; });

  auto show_name = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Show one source (secrets redacted)");
  show->add_option("name", *show_name, "Source name")->required();
  show->footer("Example:\n  centrali sources show stripe");
  show->callback([&selected, show_name] { selected.run = [show_name](Context& c) { return run_show(c, *show_name); }; });

  auto rm_name = std::make_shared<std::string>();
  auto* rm = cmd->add_subcommand("rm", "Remove a source (its events stay in the store)");
  rm->add_option("name", *rm_name, "Source name")->required();
  rm->footer("Example:\n  centrali sources rm stripe");
  rm->callback([&selected, rm_name] { selected.run = [rm_name](Context& c) { return run_rm(c, *rm_name); }; });
}

} // namespace centrali::cli

// `centrali sources add|list|show|rm`: the named inbound endpoints.
#include <cctype>

#include <CLI/CLI.hpp>

#include "centrali/ingest/providers.hpp"
#include "centrali/ingest/secrets.hpp"
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
  std::optional<std::int64_t> tolerance_s;
  std::string forward_to;
};

// The usual ways a secret gets mangled between being printed and being
// pasted (or captured with $(…)): each would make every request a 401.
std::string pasted_secret_problem(const std::string& secret)
{
  if (secret.starts_with("secret:"))
    return "starts with 'secret:', the label a terminal shows; give the value alone (keys generate, webhooks add "
           "and rotate-secret print it bare when their output is piped)";
  if (!secret.empty() && (std::isspace(static_cast<unsigned char>(secret.front())) ||
                          std::isspace(static_cast<unsigned char>(secret.back()))))
    return "has spaces or a line break around it; give the value alone";
  return {};
}

bool valid_name(const std::string& name)
{
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
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
  if (!valid_name(args.name))
    return fail(ErrorKind::usage, "invalid source name '" + args.name +
                                      "' (1-64 characters: letters, digits, '-', '_', '.')");
  if (args.name == "local")
    return fail(ErrorKind::usage, "the source name 'local' is reserved for events made here (records, events emit)");
  auto provider = ingest::parse_provider(args.provider);
  if (!provider)
    return fail(ErrorKind::usage,
                "unknown provider '" + args.provider + "' (expected " + ingest::provider_names() + ")");
  if (*provider != ingest::Provider::none && args.secrets.empty())
    return fail(ErrorKind::usage, "provider " + args.provider +
                                      " verifies signatures: give --secret (a value, env:NAME or file:PATH)");
  if (*provider == ingest::Provider::none && !args.secrets.empty())
    return fail(ErrorKind::usage, "provider none does not verify signatures; drop --secret");
  if (args.tolerance_s && (*args.tolerance_s < 0 || *args.tolerance_s > 31'536'000))
    return fail(ErrorKind::usage, "--tolerance must be between 0 and 31536000 seconds");
  if (!args.forward_to.empty())
    if (auto u = parse_url(args.forward_to); !u) return fail(ErrorKind::usage, "--forward-to: " + u.error().message);
  // A literal secret that the scheme cannot use (e.g. whsec_ with broken
  // base64) is refused now rather than failing every request later.
  for (const auto& ref : args.secrets)
    if (auto problem = pasted_secret_problem(ref); !problem.empty()) return fail(ErrorKind::usage, "--secret " + problem);
  if (*provider != ingest::Provider::none) {
    auto scheme = ingest::signature_scheme(*provider);
    for (const auto& ref : args.secrets) {
      if (ref.starts_with("env:") || ref.starts_with("file:")) continue;
      sig::SignInput probe;
      probe.scheme = *scheme;
      probe.secrets = {ref};
      probe.id = "msg_probe";
      probe.timestamp = 1;
      probe.url = "http://localhost/";
      if (auto r = sig::sign(probe); !r) return fail(ErrorKind::usage, "--secret: " + r.error().message);
    }
  }
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  store::Source s;
  s.name = args.name;
  s.provider = args.provider;
  s.secrets = args.secrets;
  s.tolerance_s = args.tolerance_s;
  s.forward_to = args.forward_to;
  s.created_ms = timeutil::now_ms();
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
  add->add_option("--tolerance", add_args->tolerance_s, "Allowed timestamp skew in seconds [default: 300]")
      ->type_name("SECONDS");
  add->add_option("--forward-to", add_args->forward_to, "Forward this source's accepted events to URL")->type_name("URL");
  add->footer("Examples:\n"
              "  centrali sources add stripe --provider stripe --secret whsec_...\n"
              "  centrali sources add gh --provider github --secret env:GITHUB_WEBHOOK_SECRET --forward-to http://localhost:3000/gh");
  add->callback([&selected, add_args] { selected.run = [add_args](Context& c) { return run_add(c, *add_args); }; });

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

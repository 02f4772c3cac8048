// `centrali send`: post an event as its provider would send it, signed,
// with the provider's own headers, to a source of this store (through the
// running listener, or straight into the store) or to any URL.
#include <algorithm>
#include <random>

#include <CLI/CLI.hpp>

#include "centrali/fixtures/fixtures.hpp"
#include "centrali/http/client.hpp"
#include "centrali/ingest/json_peek.hpp"
#include "centrali/ingest/secrets.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/send/direct.hpp"
#include "centrali/send/provider_request.hpp"
#include "centrali/store/listen_address.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/json_path.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

struct SendArgs {
  std::string source;
  std::string as;
  std::vector<std::string> secrets;
  std::string to;
  std::vector<std::string> fixtures;
  std::string data;
  std::string data_file;
  std::vector<std::string> sets;
  std::string id;
  std::string timestamp;
  std::vector<std::string> headers;
  int repeat = 1;
  bool duplicate = false;
  bool shuffle = false;
  std::string timeout = "30s";
};

// Where the requests go and how they are signed.
struct Target {
  send::SendAs as;
  std::string url;            // empty: straight into the store
  std::string source;         // --source
  std::string shown;          // for output
};

// One thing to send: a fixture, or the --data body.
struct Template {
  std::string fixture;        // empty for --data
  std::optional<ojson> body;  // JSON (placeholders filled per send)
  std::string raw;            // --data that is not JSON
  HeaderList headers;
};

Result<Target> resolve_target(Context& ctx, const SendArgs& a)
{
  Target t;
  if (!a.source.empty()) {
    if (!a.as.empty() || !a.secrets.empty() || !a.to.empty())
      return fail(ErrorKind::usage, "--source sends as that source's provider, with its secret, to its listener: "
                                    "drop --as, --secret and --to");
    auto store = ctx.store();
    if (!store) return std::unexpected(store.error());
    auto keys = ingest::read_source_keys(**store, a.source);
    if (!keys) return std::unexpected(keys.error());
    if (!keys->exists) return fail(ErrorKind::not_found, "no source named '" + a.source + "'");
    if (!keys->secret_error.empty()) return fail(ErrorKind::usage, "source '" + a.source + "': " + keys->secret_error);
    t.source = a.source;
    t.as.provider = keys->provider;
    t.as.secrets = keys->secrets;
    if (auto listener = store::running_listener(ctx.options().store_path)) {
      t.url = *listener + "/ingest/" + a.source;
      t.shown = t.url;
    } else {
      t.shown = "the store (no listener running)";
    }
    t.as.url = t.url.empty() ? "http://localhost/ingest/" + a.source : t.url;
    return t;
  }
  if (a.as.empty() || a.to.empty())
    return fail(ErrorKind::usage, "give --source NAME, or --as PROVIDER --secret KEY --to URL");
  auto provider = ingest::parse_provider(a.as);
  if (!provider) return fail(ErrorKind::usage, "--as: unknown provider '" + a.as + "' (one of " + ingest::provider_names() + ")");
  if (auto u = parse_url(a.to); !u) return fail(ErrorKind::usage, "--to: " + u.error().message);
  if (*provider != ingest::Provider::none && a.secrets.empty())
    return fail(ErrorKind::usage, "--as " + a.as + " signs: give --secret (a value, env:NAME or file:PATH)");
  for (const auto& ref : a.secrets) {
    auto secret = ingest::resolve_secret(ref);
    if (!secret) return std::unexpected(secret.error());
    t.as.secrets.push_back(std::move(*secret));
  }
  t.as.provider = *provider;
  t.url = a.to;
  t.as.url = a.to;
  t.shown = redact_url(a.to);
  return t;
}

Result<std::vector<Template>> resolve_templates(Context& ctx, const SendArgs& a, const Target& target)
{
  const int bodies = (!a.fixtures.empty()) + (!a.data.empty()) + (!a.data_file.empty());
  if (bodies != 1) return fail(ErrorKind::usage, "give one of --fixture NAME, --data JSON or --data-file PATH");
  HeaderList extra;
  for (const auto& line : a.headers) {
    auto h = parse_header_line(line);
    if (!h) return std::unexpected(h.error());
    extra.push_back(std::move(*h));
  }
  std::vector<Template> out;
  if (!a.fixtures.empty()) {
    const auto provider = std::string(ingest::provider_name(target.as.provider));
    const auto user_dir = std::filesystem::path(ctx.options().store_path).parent_path() / "fixtures";
    auto all = fixtures::load_fixtures(user_dir);
    if (!all) return std::unexpected(all.error());
    for (const auto& name : a.fixtures) {
      auto f = fixtures::find_fixture(*all, provider, name, user_dir);
      if (!f) return std::unexpected(f.error());
      Template t{f->name, f->body, {}, f->headers};
      for (const auto& h : extra) t.headers.push_back(h);
      out.push_back(std::move(t));
    }
    return out;
  }
  Template t;
  std::string text = a.data;
  if (!a.data_file.empty()) {
    auto file = read_file(a.data_file);
    if (!file) return std::unexpected(file.error());
    text = std::move(*file);
  }
  auto parsed = parse_ordered_json(text);
  if (!parsed.is_discarded()) t.body = std::move(parsed);
  else if (!a.sets.empty()) return fail(ErrorKind::usage, "--set edits JSON bodies; the data " + json_refusal(text));
  else t.raw = std::move(text);
  t.headers = std::move(extra);
  out.push_back(std::move(t));
  return out;
}

struct Sent {
  std::string fixture;
  std::string event_type;
  std::string delivery_id;
  int status = 0;
  std::string body;
  std::string error;
  bool ok() const { return status >= 200 && status < 300; }
};

json response_json(const std::string& body)
{
  auto parsed = parse_json(body);
  return parsed.is_discarded() ? json(body) : parsed;
}

Result<void> run_send(Context& ctx, const SendArgs& a)
{
  if (a.repeat < 1 || a.repeat > 100'000) return fail(ErrorKind::usage, "--repeat must be between 1 and 100000");
  auto timeout = timeutil::parse_duration(a.timeout);
  if (!timeout) return fail(ErrorKind::usage, "--timeout: " + timeout.error().message);
  if (timeout->count() <= 0) return fail(ErrorKind::usage, "--timeout must be more than 0");
  std::optional<std::int64_t> fixed_time;
  if (!a.timestamp.empty()) {
    auto t = timeutil::parse_instant(a.timestamp);
    if (!t) return fail(ErrorKind::usage, "--timestamp: " + t.error().message);
    fixed_time = *t;
  }
  auto target = resolve_target(ctx, a);
  if (!target) return std::unexpected(target.error());
  auto templates = resolve_templates(ctx, a, *target);
  if (!templates) return std::unexpected(templates.error());

  http::ClientPool clients;
  std::mt19937 shuffler(std::random_device{}());
  std::vector<Sent> results;
  int unreachable = 0;
  for (int round = 0; round < a.repeat; ++round) {
    auto order = *templates;
    if (a.shuffle) std::shuffle(order.begin(), order.end(), shuffler);
    for (const auto& t : order) {
      const auto now_ms = fixed_time.value_or(timeutil::now_ms());
      std::optional<ojson> body;
      if (t.body) {
        body = fixtures::instantiate(*t.body, now_ms);
        for (const auto& assignment : a.sets)
          if (auto r = apply_json_assignment(*body, assignment); !r) return std::unexpected(r.error());
      }
      send::SendAs as = target->as;
      as.delivery_id = a.id;
      as.timestamp_s = now_ms / 1000;
      auto request = send::provider_request(as, body ? &*body : nullptr, t.raw, t.headers);
      if (!request) return std::unexpected(request.error());
      Sent sent;
      sent.fixture = t.fixture;
      sent.delivery_id = request->delivery_id;
      sent.event_type = ingest::event_type(as.provider, request->headers, ingest::peek_json(request->body));
      for (int copy = 0; copy < (a.duplicate ? 2 : 1); ++copy) {
        if (target->url.empty()) {
          auto store = ctx.store();
          if (!store) return std::unexpected(store.error());
          auto answer = send::ingest_directly(**store, target->source, *request, "localhost", timeutil::now_ms());
          if (!answer) return std::unexpected(answer.error());
          sent.status = answer->status;
          sent.body = answer->body;
        } else {
          http::OutboundRequest out;
          out.url = target->url;
          out.headers = request->headers;
          out.body = request->body;
          out.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
          auto outcome = clients.send(out);
          if (outcome.response) {
            sent.status = outcome.response->status;
            sent.body = outcome.response->body;
          } else if (!target->source.empty() && outcome.error.starts_with("connect to ")) {
            // The listener named in <store>-listen is gone (it stopped while
            // another one runs): into the store, which any listener reads.
            auto store = ctx.store();
            if (!store) return std::unexpected(store.error());
            auto answer = send::ingest_directly(**store, target->source, *request, "localhost", timeutil::now_ms());
            if (!answer) return std::unexpected(answer.error());
            sent.status = answer->status;
            sent.body = answer->body;
            target->url.clear();
            target->shown = "the store (the listener did not answer)";
          } else {
            sent.error = outcome.error;
            ++unreachable;
          }
        }
        if (!ctx.out().json()) {
          const std::string what = (sent.fixture.empty() ? sent.event_type : sent.fixture) +
                                   (sent.delivery_id.empty() ? "" : " " + sent.delivery_id);
          const std::string answer = sent.error.empty() ? std::to_string(sent.status) + " " + sent.body : sent.error;
          ctx.out().line(for_terminal(what) + " -> " + target->shown + ": " +
                         ctx.out().paint(for_terminal(answer), sent.ok() ? Style::green : Style::red));
        }
        results.push_back(sent);
      }
    }
  }
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& s : results)
      arr.push_back({{"fixture", s.fixture.empty() ? json(nullptr) : json(s.fixture)},
                     {"provider", std::string(ingest::provider_name(target->as.provider))},
                     {"event_type", s.event_type},
                     {"delivery_id", s.delivery_id.empty() ? json(nullptr) : json(s.delivery_id)},
                     {"to", target->url.empty() ? json("store") : json(redact_url(target->url))},
                     {"status", s.status == 0 ? json(nullptr) : json(s.status)},
                     {"response", s.error.empty() ? response_json(s.body) : json(nullptr)},
                     {"error", s.error.empty() ? json(nullptr) : json(s.error)},
                     {"ok", s.ok()}});
    ctx.out().json_document(arr);
  }
  if (unreachable > 0)
    return fail(ErrorKind::network, std::to_string(unreachable) + " of " + std::to_string(results.size()) +
                                        " requests could not reach " + target->shown);
  auto refused = std::count_if(results.begin(), results.end(), [](const Sent& s) { return !s.ok(); });
  if (refused > 0)
    return fail(ErrorKind::rejected, std::to_string(refused) + " of " + std::to_string(results.size()) +
                                         " requests were answered with a non-2xx status");
  return {};
}

} // namespace

void add_send_command(CLI::App& app, Selected& selected)
{
  auto a = std::make_shared<SendArgs>();
  auto* cmd = app.add_subcommand("send", "Send an event as its provider would: signed, with the provider's headers");
  cmd->add_option("--source", a->source, "Send to this source of the store (through the running listener, or into the store)");
  cmd->add_option("--as", a->as, "Send as this provider (with --secret and --to)")
      ->type_name("standard|svix|clerk|stripe|github|shopify|slack|twilio|none");
  cmd->add_option("--secret", a->secrets, "With --as: the signing secret (a value, env:NAME or file:PATH)")->type_name("SECRET");
  cmd->add_option("--to", a->to, "With --as: where to POST it")->type_name("URL");
  cmd->add_option("--fixture", a->fixtures, "A fixture of the provider (see 'centrali fixtures list'); repeatable")
      ->type_name("NAME");
  cmd->add_option("--data", a->data, "The body (JSON, or any text)");
  cmd->add_option("--data-file", a->data_file, "Read the body from a file")->type_name("PATH");
  cmd->add_option("--set", a->sets, "Edit a field of the JSON body, e.g. data.object.amount=5000; repeatable")
      ->type_name("PATH=VALUE");
  cmd->add_option("--id", a->id, "The provider's delivery id (default: a fresh one per send)");
  cmd->add_option("--timestamp", a->timestamp, "Sign (and fill the body's times) as of this time (default: now)")
      ->type_name("UNIX|TIME");
  cmd->add_option("--header", a->headers, "Extra header, 'Name: value'; repeatable")->type_name("'NAME: VALUE'");
  cmd->add_option("--repeat", a->repeat, "Send it N times, each fresh (same id with --id)")->capture_default_str();
  cmd->add_flag("--duplicate", a->duplicate, "Send each request twice, same delivery id: is the handler idempotent?");
  cmd->add_flag("--shuffle", a->shuffle, "Send the --fixtures in a random order: does the handler depend on order?");
  cmd->add_option("--timeout", a->timeout, "Per-request timeout")->capture_default_str()->type_name("DURATION");
  cmd->footer("Exits 0 when every request was answered 2xx, 1 when one was not, 5 when one could not be sent.\n"
              "Examples:\n"
              "  centrali send --source stripe --fixture invoice.paid\n"
              "  centrali send --source stripe --fixture invoice.paid --set data.object.amount_paid=5000 --duplicate\n"
              "  centrali send --as github --secret env:GH_SECRET --to http://localhost:3000/gh --fixture push");
  cmd->callback([&selected, a] { selected.run = [a](Context& c) { return run_send(c, *a); }; });
}

} // namespace centrali::cli

// `centrali sign`, `centrali verify`, `centrali keys generate`: webhook
// signatures of every common scheme from the command line. The work is in
// lib/centrali/signatures; this file reads arguments and the body, and prints.
#include <unistd.h>

#include <charconv>

#include <CLI/CLI.hpp>

#include "centrali/ingest/secrets.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"

namespace centrali::cli {
namespace {

// Exactly one of --data, --data-file, or stdin.
struct BodyArgs {
  std::string data;
  std::string data_file;
  CLI::Option* data_opt = nullptr;
  CLI::Option* file_opt = nullptr;
};

struct SignArgs {
  std::string scheme;
  std::vector<std::string> secrets;
  std::string source;
  std::string id;
  std::string timestamp;
  std::string url;
  BodyArgs body;
};

struct VerifyArgs {
  std::string scheme;
  std::vector<std::string> secrets;
  std::vector<std::string> headers;
  std::string tolerance = "300s";
  std::string now;
  std::string url;
  BodyArgs body;
};

struct KeysArgs {
  std::string scheme = "standard";
};

Result<sig::Scheme> scheme_arg(const std::string& name)
{
  auto scheme = sig::parse_scheme(name);
  if (!scheme)
    return fail(ErrorKind::usage, "unknown scheme '" + name + "' (one of: " + std::string(sig::k_scheme_names) + ")");
  return *scheme;
}

// Whole seconds as digits; the flag is named in the error.
Result<std::int64_t> seconds_arg(std::string_view flag, const std::string& text)
{
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text[0] == '-' || ec != std::errc() || end != text.data() + text.size())
    return fail(ErrorKind::usage, std::string(flag) + " must be a whole number of seconds, got '" + text + "'");
  return value;
}

// --secret takes a value, env:NAME or file:PATH, as `sources add` does, so
// that a secret need not show in `ps` or the shell's history. A reference
// that cannot be read is named in the error; its value never is.
Result<std::vector<std::string>> resolve_secrets(const std::vector<std::string>& references)
{
  std::vector<std::string> values;
  for (const auto& ref : references) {
    auto value = ingest::resolve_secret(ref);
    if (!value) return std::unexpected(value.error());
    values.push_back(std::move(*value));
  }
  return values;
}

Result<std::string> read_body(const BodyArgs& args)
{
  if (args.data_opt->count() > 0) return args.data;
  if (args.file_opt->count() > 0) return read_file(args.data_file);
  return read_stdin("body");
}

std::int64_t now_s()
{
  return timeutil::now_ms() / 1000;
}

void add_body_options(CLI::App* cmd, BodyArgs& body)
{
  body.data_opt = cmd->add_option("--data", body.data, "The body, as given (else --data-file, else stdin)");
  body.file_opt = cmd->add_option("--data-file", body.data_file, "Read the body from this file, byte for byte")
                      ->type_name("PATH");
  body.data_opt->excludes(body.file_opt);
}

// Twilio signs JSON bodies through a bodySHA256 parameter in the URL: add it
// when the body is JSON and the URL does not carry one yet.
std::string twilio_url_for(const std::string& url, const std::string& body)
{
  auto first = body.find_first_not_of(" \t\r\n");
  bool json_like = first != std::string::npos && (body[first] == '{' || body[first] == '[');
  if (!json_like || url.find("bodySHA256=") != std::string::npos || !nlohmann::json::accept(body)) return url;
  return sig::twilio_url_with_body_hash(url, body);
}

// The scheme and secrets of a stored source, as `sign --source` uses them:
// the developer signs as the provider would without typing the secret again.
Result<std::pair<sig::Scheme, std::vector<std::string>>> source_signing(Context& ctx, const std::string& name)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto keys = ingest::read_source_keys(**store, name);
  if (!keys) return std::unexpected(keys.error());
  if (!keys->exists) return fail(ErrorKind::not_found, "no source named '" + name + "'");
  auto scheme = ingest::signature_scheme(keys->provider);
  if (!scheme) return fail(ErrorKind::usage, "source '" + name + "' (provider none) does not sign");
  if (!keys->secret_error.empty()) return fail(ErrorKind::usage, "source '" + name + "': " + keys->secret_error);
  return std::pair{*scheme, std::move(keys->secrets)};
}

Result<void> run_sign(Context& ctx, const SignArgs& args)
{
  if (args.source.empty() && args.scheme.empty()) return fail(ErrorKind::usage, "give --scheme and --secret, or --source NAME");
  if (!args.source.empty() && (!args.scheme.empty() || !args.secrets.empty()))
    return fail(ErrorKind::usage, "--source takes its scheme and secret from the store: drop --scheme and --secret");
  if (args.source.empty() && args.secrets.empty()) return fail(ErrorKind::usage, "--secret is required (or use --source NAME)");
  sig::SignInput input;
  if (!args.source.empty()) {
    auto signing = source_signing(ctx, args.source);
    if (!signing) return std::unexpected(signing.error());
    input.scheme = signing->first;
    input.secrets = std::move(signing->second);
  } else {
    auto scheme = scheme_arg(args.scheme);
    if (!scheme) return std::unexpected(scheme.error());
    auto secrets = resolve_secrets(args.secrets);
    if (!secrets) return std::unexpected(secrets.error());
    input.scheme = *scheme;
    input.secrets = std::move(*secrets);
  }
  const auto* scheme = &input.scheme;
  if (!args.timestamp.empty()) {
    auto ts = seconds_arg("--timestamp", args.timestamp);
    if (!ts) return std::unexpected(ts.error());
    input.timestamp = *ts;
  } else {
    input.timestamp = now_s();
  }
  input.id = args.id;
  bool uses_id = *scheme == sig::Scheme::standard || *scheme == sig::Scheme::v1a || *scheme == sig::Scheme::svix ||
                 *scheme == sig::Scheme::clerk;
  if (uses_id && input.id.empty()) input.id = ids::make(ids::k_message);
  if (*scheme == sig::Scheme::twilio && args.url.empty())
    return fail(ErrorKind::usage, "twilio signatures cover the request URL: pass --url");

  auto body = read_body(args.body);
  if (!body) return std::unexpected(body.error());
  input.body = *body;
  input.url = *scheme == sig::Scheme::twilio ? twilio_url_for(args.url, *body) : args.url;

  auto headers = sig::sign(input);
  if (!headers) return std::unexpected(headers.error());
  bool url_changed = input.url != args.url;
  if (ctx.out().json()) {
    nlohmann::json doc = {{"headers", nlohmann::json::object()}};
    for (const auto& h : *headers) doc["headers"][h.name] = h.value;
    if (url_changed) doc["url"] = input.url;
    ctx.out().json_document(doc);
    return {};
  }
  for (const auto& h : *headers) ctx.out().line(h.name + ": " + h.value);
  if (url_changed) ctx.out().note("note: the body is JSON, so twilio signs the URL with its bodySHA256; send to " + input.url);
  return {};
}

nlohmann::json verdict_json(sig::Scheme scheme, const sig::Verdict& v)
{
  nlohmann::json doc = {{"valid", v.valid},
                        {"scheme", std::string(sig::scheme_name(scheme))},
                        {"reason", v.valid ? nlohmann::json(nullptr) : nlohmann::json(v.reason)},
                        {"failure", v.valid ? nlohmann::json(nullptr) : nlohmann::json(sig::failure_name(v.failure))},
                        {"hints", v.hints}};
  if (v.valid) doc["matched_secret"] = v.matched_secret + 1;
  return doc;
}

Result<void> run_verify(Context& ctx, const VerifyArgs& args)
{
  auto scheme = scheme_arg(args.scheme);
  if (!scheme) return std::unexpected(scheme.error());
  sig::HeaderList headers;
  for (const auto& line : args.headers) {
    auto h = sig::parse_header_line(line);
    if (!h) return std::unexpected(Error{ErrorKind::usage, "--header: " + h.error().message});
    headers.push_back(std::move(*h));
  }
  auto tolerance = seconds_option("--tolerance", args.tolerance);
  if (!tolerance) return std::unexpected(tolerance.error());
  std::int64_t now = now_s();
  if (!args.now.empty()) {
    auto parsed = seconds_arg("--now", args.now);
    if (!parsed) return std::unexpected(parsed.error());
    now = *parsed;
  }
  if (*scheme == sig::Scheme::twilio && args.url.empty())
    return fail(ErrorKind::usage, "twilio signatures cover the request URL: pass --url (the full URL Twilio requested)");
  auto secrets = resolve_secrets(args.secrets);
  if (!secrets) return std::unexpected(secrets.error());
  auto body = read_body(args.body);
  if (!body) return std::unexpected(body.error());

  sig::VerifyInput input{.scheme = *scheme, .secrets = *secrets, .headers = &headers, .body = *body,
                         .url = args.url, .tolerance_s = *tolerance, .now_s = now};
  auto verdict = sig::verify(input);

  if (ctx.out().json()) ctx.out().json_document(verdict_json(*scheme, verdict));
  if (verdict.valid) {
    if (!ctx.out().json())
      ctx.out().line("valid (" + std::string(sig::scheme_name(*scheme)) + ", matched secret #" +
                     std::to_string(verdict.matched_secret + 1) + ")");
    return {};
  }
  // With --json the hints are in the verdict on stdout already.
  if (!ctx.out().json())
    for (const auto& hint : verdict.hints) ctx.out().note("hint: " + hint);
  // A secret that cannot be a key for this scheme is a mistake in the
  // command, not a verdict on the request.
  if (verdict.failure == sig::Failure::bad_secret) return fail(ErrorKind::usage, "--secret: " + verdict.reason);
  return fail(ErrorKind::rejected, "signature invalid: " + verdict.reason);
}

Result<void> run_keys_generate(Context& ctx, const KeysArgs& args)
{
  auto scheme = scheme_arg(args.scheme);
  if (!scheme) return std::unexpected(scheme.error());
  auto key = sig::generate_key(*scheme);
  if (!key) return std::unexpected(key.error());
  if (ctx.out().json()) {
    ctx.out().json_document({{"scheme", std::string(sig::scheme_name(*scheme))},
                             {"secret", key->secret},
                             {"public_key", key->public_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(key->public_key)}});
    return {};
  }
  // Labelled for people; bare on a pipe, so `S=$(centrali keys generate)`
  // captures the secret itself (a labelled one would be refused by every
  // check it is given to).
  const bool labelled = ::isatty(STDOUT_FILENO) != 0;
  ctx.out().line((labelled ? "secret: " : "") + key->secret);
  if (!key->public_key.empty()) ctx.out().line((labelled ? "public: " : "") + key->public_key);
  return {};
}

} // namespace

void add_signature_commands(CLI::App& app, Selected& selected)
{
  const std::string schemes = "Scheme: " + std::string(sig::k_scheme_names);
  // The choices as the type name: help and completion show them, and our
  // own check says which scheme was unknown and lists the right ones.
  const std::string scheme_choices = "standard|v1a|svix|clerk|stripe|github|shopify|slack|twilio";

  auto sign_args = std::make_shared<SignArgs>();
  auto* sign = app.add_subcommand("sign", "Print the signature headers a webhook sender would send");
  sign->add_option("--scheme", sign_args->scheme, schemes + " (or --source)")->type_name(scheme_choices);
  sign->add_option("--secret", sign_args->secrets,
                   "Signing secret: a value, env:NAME or file:PATH (its first line); repeat to sign with several "
                   "(rotation)")
      ->allow_extra_args(false)
      ->type_name("SECRET");
  sign->add_option("--source", sign_args->source, "Sign as this stored source's provider, with its secret");
  sign->add_option("--id", sign_args->id, "Message id (standard/svix/clerk; default: a new msg_ id)");
  sign->add_option("--timestamp", sign_args->timestamp, "Unix time in seconds (default: now)")->type_name("UNIX");
  sign->add_option("--url", sign_args->url, "Full request URL (twilio)")->type_name("URL");
  add_body_options(sign, sign_args->body);
  sign->footer("Prints one 'Name: value' line per header (or {\"headers\": {...}} with --json).\n"
               "Example:\n"
               "  curl -H @<(centrali sign --scheme stripe --secret whsec_x --data-file ev.json) \\\n"
               "       --data-binary @ev.json http://127.0.0.1:8787/ingest/stripe\n"
               "  centrali sign --source stripe --data-file ev.json");
  sign->callback([&selected, sign_args] { selected.run = [sign_args](Context& c) { return run_sign(c, *sign_args); }; });

  auto verify_args = std::make_shared<VerifyArgs>();
  auto* verify = app.add_subcommand("verify", "Check a webhook's signature and say why it fails");
  verify->add_option("--scheme", verify_args->scheme, schemes)
      ->required()
      ->type_name(scheme_choices);
  verify->add_option("--secret", verify_args->secrets,
                     "Secret (or whpk_ public key): a value, env:NAME or file:PATH (its first line); repeat for "
                     "rotation")
      ->required()
      ->allow_extra_args(false)
      ->type_name("SECRET");
  verify->add_option("--header", verify_args->headers, "A received header, 'Name: value'; repeatable")
      ->allow_extra_args(false)
      ->type_name("'NAME: VALUE'");
  verify->add_option("--tolerance", verify_args->tolerance, "Allowed timestamp age (whole seconds, e.g. 300s or 5m)")
      ->capture_default_str()
      ->type_name("DURATION");
  verify->add_option("--now", verify_args->now, "Check as if it were this Unix time (default: now)")->type_name("UNIX");
  verify->add_option("--url", verify_args->url, "Full request URL (twilio)")->type_name("URL");
  add_body_options(verify, verify_args->body);
  verify->footer("Exit status: 0 valid, 1 invalid (the reason on stderr, hints as 'hint:' lines), 2 usage.\n"
                 "Example:\n"
                 "  centrali verify --scheme github --secret env:GITHUB_SECRET \\\n"
                 "    --header 'X-Hub-Signature-256: sha256=757107ea…' --data-file body.json");
  verify->callback(
      [&selected, verify_args] { selected.run = [verify_args](Context& c) { return run_verify(c, *verify_args); }; });

  auto keys_args = std::make_shared<KeysArgs>();
  auto* keys = app.add_subcommand("keys", "Make signing secrets");
  keys->require_subcommand(1);
  auto* generate = keys->add_subcommand("generate", "Print a new random secret (and public key for v1a)");
  generate->add_option("--scheme", keys_args->scheme, "standard (svix, clerk), v1a or stripe")
      ->capture_default_str()
      ->type_name("standard|svix|clerk|v1a|stripe");
  generate->footer("Examples:\n  centrali keys generate\n  centrali keys generate --scheme v1a --json");
  keys->footer("Example:\n  centrali keys generate --scheme stripe");
  generate->callback(
      [&selected, keys_args] { selected.run = [keys_args](Context& c) { return run_keys_generate(c, *keys_args); }; });
}

} // namespace centrali::cli

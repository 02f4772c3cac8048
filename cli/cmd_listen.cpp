// `centrali listen`: the long-running process. Prints the bound URL first
// on stdout (scripts read it), then one log line per request on stderr.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <thread>

#include <CLI/CLI.hpp>

#include "centrali/listen/listener.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"
#include "context.hpp"
#include "log_writer.hpp"

namespace centrali::cli {
namespace {

struct ListenArgs {
  std::string host = "127.0.0.1";
  int port = 8787;
  std::string forward_to;
  std::string config;
  std::vector<std::string> allowed_hosts;
  std::size_t max_body = 1 << 20;
  int threads = 64;
  bool quiet = false;
};

std::string clock_now()
{
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

Result<void> run_listen(Context& ctx, const ListenArgs& args)
{
  if (args.port < 0 || args.port > 65535) return fail(ErrorKind::usage, "--port must be between 0 and 65535");
  if (args.max_body == 0) return fail(ErrorKind::usage, "--max-body must be at least 1 byte");
  if (!args.forward_to.empty())
    if (auto u = parse_url(args.forward_to); !u) return fail(ErrorKind::usage, "--forward-to: " + u.error().message);

  auto store = ctx.store();  // creates and migrates before the listener opens its connections
  // A store's server that does not answer yet (starting with the machine,
  // restarting) is waited for, saying so once: Ctrl-C ends the wait.
  if (!store && store.error().fault == StoreFault::unavailable) {
    ctx.out().note("waiting for the store: " + store.error().message,
                   {{"event", "store_waiting"}, {"message", store.error().message}});
    while (!store && store.error().fault == StoreFault::unavailable) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      store = ctx.store();
    }
    if (store) ctx.out().note("the store answers again", {{"event", "store_back"}});
  }
  if (!store) return std::unexpected(store.error());
  // The project file first: the listener starts with the setup it names,
  // and a broken file stops it before it serves anything.
  int config_changes = 0;
  if (!args.config.empty()) {
    auto applied = apply_project_file(ctx, args.config, false, false, true);
    if (!applied) return std::unexpected(applied.error());
    config_changes = *applied;
  }
  auto sources = store::list_sources(**store);
  if (!sources) return std::unexpected(sources.error());
  auto automations = store::list_automations(**store);
  if (!automations) return std::unexpected(automations.error());

  // Signals go to a watcher thread (blocked everywhere else before any
  // thread starts), which asks the server to stop: in-flight requests
  // finish and commit, then run() returns.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  listen::ListenerOptions options;
  options.store_path = ctx.options().store_path;
  options.http.host = args.host;
  options.http.port = args.port;
  options.http.max_body = args.max_body;
  options.http.allowed_hosts = args.allowed_hosts;
  options.http.threads = args.threads;
  options.forward_to = args.forward_to;
  bool json = ctx.out().json();
  bool quiet = args.quiet;
  // Log lines leave through their own thread: a terminal or pipe that stops
  // reading stderr must not stall the event loops that acknowledge webhooks.
  LogWriter log(STDERR_FILENO, 4 << 20, [json](const std::string& text) { return message_line(text, json); });
  // Request paths, source names, event types and errors come from the
  // network: a human line is escaped whole, so none of them can write
  // escape sequences to the terminal or forge a line of its own. (JSON
  // lines are escaped by their encoder.)
  auto log_line = [&log, json](std::string line) {
    if (!json) {
      const bool newline = !line.empty() && line.back() == '\n';
      if (newline) line.pop_back();
      line = for_terminal(line) + (newline ? "\n" : "");
    }
    log.write(std::move(line));
  };

  listen::ListenerCallbacks callbacks;
  callbacks.on_request = [json, quiet, &log_line](const http::Request& req, const http::Response& res, double ms) {
    if (quiet) return;
    char timing[32];
    std::snprintf(timing, sizeof timing, "%.1fms", ms);
    if (json) {
      nlohmann::json j = {{"time", timeutil::format_rfc3339(timeutil::now_ms())},
                          {"status", res.status},
                          {"method", req.method},
                          {"path", redact_url(req.target)},
                          {"ms", ms},
                          {"note", res.note}};
      log_line(dump_json(j) + "\n");
      return;
    }
    log_line(clock_now() + " " + std::to_string(res.status) + " " + std::string(req.method) + " " +
             redact_url(req.target) + " " + timing + (res.note.empty() ? "" : " " + res.note) + "\n");
  };
  callbacks.on_attempt = [json, quiet, &log_line](const delivery::AttemptReport& r) {
    if (quiet) return;
    if (!r.disabled_webhook.empty()) {
      const std::string text = "webhook " + r.delivery.webhook_id + " disabled: " + r.disabled_webhook;
      log_line(message_line(json ? text : clock_now() + " " + text, json));
    }
    // Not sent: its webhook is off (said when it was turned off). Kept as
    // skipped for `webhooks recover`.
    if (r.update.status == "skipped") return;
    std::string result = r.attempt.response_status ? "HTTP " + std::to_string(*r.attempt.response_status)
                                                   : r.attempt.error;
    std::string next;
    if (r.update.status == "pending" && r.update.next_attempt_ms)
      next = "; retry in " + timeutil::format_duration(std::chrono::milliseconds(
                                  std::max<std::int64_t>(0, *r.update.next_attempt_ms - timeutil::now_ms())));
    else if (r.update.status == "failed")
      next = r.delivery.kind == "webhook"
                 ? "; giving up (resend with 'centrali webhooks resend " + r.delivery.id + "')"
                 : "; giving up (resend with 'centrali events replay " + r.delivery.event_id + " --to URL')";
    if (json) {
      nlohmann::json j = {{"time", timeutil::format_rfc3339(timeutil::now_ms())},
                          {"delivery", r.delivery.id},
                          {"kind", r.delivery.kind},
                          {"event", r.delivery.event_id},
                          {"url", redact_url(r.delivery.url)},
                          {"attempt", r.attempt.number},
                          {"response_status", r.attempt.response_status ? nlohmann::json(*r.attempt.response_status)
                                                                        : nlohmann::json(nullptr)},
                          {"error", r.attempt.error},
                          {"duration_ms", r.attempt.duration_ms},
                          {"status", r.update.status}};
      log_line(dump_json(j) + "\n");
      return;
    }
    // The delivery id first: it is what `deliveries show` and `resend` take.
    log_line(clock_now() + " -> " + r.delivery.kind + " " + r.delivery.id + " (" + r.delivery.event_id + ") to " +
             redact_url(r.delivery.url) + ": " +
             result + " (" + std::to_string(r.attempt.duration_ms) + "ms, attempt " +
             std::to_string(r.attempt.number) + ")" + next + "\n");
  };

  callbacks.on_log = [json, quiet, &log_line](const std::string& line) {
    if (quiet) return;
    log_line(message_line(json ? line : clock_now() + " " + line, json));
  };

  auto listener = listen::Listener::create(options, callbacks);
  if (!listener) return std::unexpected(listener.error());
  auto& l = **listener;

  std::string host = args.host.find(':') != std::string::npos ? "[" + args.host + "]" : args.host;
  std::string base = "http://" + host + ":" + std::to_string(l.port());
  if (json) {
    ctx.out().json_line({{"url", base}, {"host", args.host}, {"port", l.port()}, {"store", store::display_location(options.store_path)}});
  } else {
    ctx.out().line("listening on " + base);
    std::fflush(stdout);
  }
  // Free-text news for people: plain lines, or {"time","message"} NDJSON
  // with --json, like every other line on stderr.
  auto news = [&](const std::string& text) { log_line(message_line(text, json)); };
  if (!quiet) {
    if (sources->empty()) news("no sources yet; add one with: centrali sources add NAME --provider stripe --secret whsec_...");
    for (const auto& s : *sources)
      news("  POST " + base + "/ingest/" + s.name + "  (" + s.provider + ")" +
           (s.forward_to.empty() ? "" : " -> " + redact_url(s.forward_to)));
    for (const auto& a : *automations)
      if (a.trigger == "http")
        news("  POST " + base + "/automations/" + for_terminal(a.path) + "  (automation " + for_terminal(a.name) +
             (a.paused ? ", paused" : "") + ")");
    if (!args.forward_to.empty()) news("forwarding accepted events to " + redact_url(args.forward_to));
    if (!args.config.empty())
      news("applied " + args.config + ": " + count_of(static_cast<std::size_t>(config_changes), "change", "changes"));
  }

  std::thread watcher([&l, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig != 0) l.stop();
  });
  l.run();
  // run() may also return on its own (e.g. the socket failed): release the
  // watcher by sending ourselves the signal it waits for.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  if (!quiet) news("stopped: every acknowledged event is committed");
  log.finish();  // before anything else goes to stderr directly
  auto stats = l.stats();
  ctx.out().verbose(1, std::to_string(stats.writes) + " store writes in " + std::to_string(stats.commits) +
                           " commits (group commit)");
  return {};
}

} // namespace

void add_listen_command(CLI::App& app, Selected& selected)
{
  auto args = std::make_shared<ListenArgs>();
  auto* cmd = app.add_subcommand("listen", "Receive webhooks: verify, store durably, forward");
  cmd->add_option("--host", args->host, "Address to bind (use 0.0.0.0 to accept from other machines)")
      ->capture_default_str();
  cmd->add_option("--port", args->port, "Port to bind (0 picks a free one)")->capture_default_str();
  cmd->add_option("--forward-to", args->forward_to, "Forward accepted events to this URL (per-source setting wins)")
      ->type_name("URL");
  cmd->add_option("--config", args->config, "Apply this project file (see 'centrali apply') before serving")
      ->type_name("FILE");
  cmd->add_option("--allow-host", args->allowed_hosts,
                  "Also answer requests for this name in Host or Origin (a tunnel's public name; .example.com for "
                  "subdomains; '*' for any). Repeatable")
      ->type_name("NAME");
  cmd->add_option("--max-body", args->max_body, "Largest accepted body in bytes (413 above)")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads for requests that run a command (endpoint triggers); other requests are served by event loops")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("-q,--quiet", args->quiet, "No per-request log lines on stderr");
  cmd->footer("The first line of stdout is the bound URL. Sources receive at POST <url>/ingest/<source>.\n"
              "Examples:\n"
              "  centrali listen\n"
              "  centrali listen --port 0 --forward-to http://localhost:3000/webhooks");
  cmd->callback([&selected, args] { selected.run = [args](Context& c) { return run_listen(c, *args); }; });
}

} // namespace centrali::cli

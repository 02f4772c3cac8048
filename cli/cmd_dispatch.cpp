// `centrali dispatch`: the listener's engine (engine/engine.hpp) without
// HTTP — fan out new events, deliver due deliveries, run triggers — plus its
// output. With --until-idle it stops when nothing is due (for CI), and with
// --fast-forward it jumps the clock over what falls due later.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <CLI/CLI.hpp>

#include "centrali/engine/engine.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"
#include "log_writer.hpp"
#include "render_deliveries.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct DispatchArgs {
  bool until_idle = false;
  bool fast_forward = false;
  std::string timeout;
};

// How long --until-idle waits for a store that another process keeps
// locked (say a `sqlite3` shell left in a transaction) before it gives up
// with exit 4; a longer --timeout wins. Without --until-idle, dispatch
// waits as long as the lock is held, as `listen` does.
constexpr std::int64_t k_locked_too_long_ms = 30'000;

// The error that ends a run on a failing store: what failed, and where.
Error store_failure(const Error& e, const std::string& store_path)
{
  return {ErrorKind::store,
          "dispatch stopped, store " + for_terminal(store::display_location(store_path)) + ": " + for_terminal(e.message),
          e.fault};
}

Result<void> run_dispatch(Context& ctx, const DispatchArgs& a)
{
  std::int64_t wait_ms = 0;
  if (!a.timeout.empty()) {
    auto t = timeutil::parse_duration(a.timeout);
    if (!t) return fail(ErrorKind::usage, "--timeout: " + t.error().message);
    wait_ms = t->count();
  }
  if (!a.until_idle && !a.timeout.empty())
    return fail(ErrorKind::usage, "--timeout only makes sense with --until-idle");
  // Without an end, a jumped clock would run a listener's worth of retries
  // and schedules ahead of time for ever.
  if (a.fast_forward && !a.until_idle) return fail(ErrorKind::usage, "--fast-forward only makes sense with --until-idle");
  auto main_store = ctx.store();  // creates and migrates the store first
  if (!main_store) return std::unexpected(main_store.error());

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const auto path = ctx.options().store_path;
  std::atomic<int> attempts{0}, succeeded{0}, gave_up{0}, skipped{0};
  bool json_out = ctx.out().json();
  auto& out = ctx.out();
  // Attempts and notes go to stderr (NDJSON under --json; the summary alone
  // is stdout's), through a writer thread of their own: a terminal or pipe
  // that stops reading must not stall the delivery worker, which reports
  // from its claim thread, nor the exit.
  LogWriter log_out(STDERR_FILENO, 4 << 20, [json_out](const std::string& text) { return message_line(text, json_out); });
  // Webhooks this run turned off (id, reason); read after the worker stops.
  std::vector<std::pair<std::string, std::string>> disabled;
  auto report = [&](const delivery::AttemptReport& r) {
    if (r.update.status == "skipped") {  // not sent: its webhook was turned off (said once, below)
      ++skipped;
      return;
    }
    ++attempts;
    if (!r.disabled_webhook.empty()) {
      disabled.emplace_back(r.delivery.webhook_id, r.disabled_webhook);
      // Always said, whatever the verbosity: nothing goes to it any more.
      log_out.write(message_line("webhook " + r.delivery.webhook_id + " disabled: " + r.disabled_webhook, json_out));
    }
    if (r.update.status == "succeeded") ++succeeded;
    if (r.update.status == "failed") ++gave_up;
    // Failures always, successes with -v: a CI log of thousands of 200s
    // hides the one that matters.
    bool ok = r.update.status == "succeeded";
    if (ok && out.verbosity() == 0) return;
    if (json_out) log_out.write(dump_json(attempt_json(r.attempt)) + "\n");
    else log_out.write(attempt_line(out, r.attempt) + (r.update.status == "pending" ? " (will retry)" : "") + "\n");
  };
  auto log = [&](const std::string& line) { log_out.write(message_line(line, json_out)); };
  // Continuous mode runs triggers as the listener does; --until-idle drains
  // them from this thread whenever runs are waiting. Schedules tick only
  // under `listen`.
  auto created = engine::Engine::create(
      {path, {}, a.until_idle ? engine::RunsOn::idle_loop : engine::RunsOn::engine_threads, engine::Schedules::ignore,
       // A jumped clock must not reach another sender's leases and retries.
       a.fast_forward ? engine::Senders::alone : engine::Senders::shared},
      {report, log, [&skipped](int n) { skipped += n; }, {}});
  if (!created) return std::unexpected(created.error());
  auto& engine = **created;
  engine.start();

  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop = true;
  });

  engine::IdleReport idle;
  if (a.until_idle) {
    // A store another process keeps locked is borne this long, or --timeout if longer.
    engine::IdleOptions options;
    options.wait_for_due = std::chrono::milliseconds(wait_ms);
    options.locked_patience = std::chrono::milliseconds(std::max<std::int64_t>(k_locked_too_long_ms, wait_ms));
    options.fast_forward = a.fast_forward ? engine::FastForward::yes : engine::FastForward::no;
    idle = engine.run_until_idle(options, stop);
  } else {
    engine.run_until_stopped(stop);
  }
  engine.stop();
  if (!stop) pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  // What is still queued goes out before the summary (giving up on a
  // reader that takes nothing for a moment).
  log_out.finish();

  // Also after a signal: work that failed on a broken store is not a
  // success, nor is a queue that cannot be read.
  if (auto failed = engine.failure()) return std::unexpected(store_failure(*failed, path));
  store::QueueState queue;
  if (auto q = store::queue_state(**main_store); q) queue = *q;
  else return std::unexpected(store_failure(q.error(), path));
  // Automation runs left waiting (in a delay, or before a retry).
  auto open_runs = store::count_all_open_automation_runs(**main_store);
  if (!open_runs) return std::unexpected(store_failure(open_runs.error(), path));
  auto next_run = store::next_automation_due_ms(**main_store);
  if (!next_run) return std::unexpected(store_failure(next_run.error(), path));
  auto now = timeutil::now_ms();
  std::string waiting = queue.pending == 0 ? "nothing waiting"
                        : std::to_string(queue.pending) + " pending" +
                              (queue.next_due_ms ? ", next due " + timeutil::relative(*queue.next_due_ms, now) : "");
  if (*open_runs > 0)
    waiting += "; " + count_of(static_cast<std::size_t>(*open_runs), "automation run", "automation runs") + " open" +
               (*next_run ? ", next due " + timeutil::relative(**next_run, now) : "");
  if (json_out) {
    out.json_document({{"runs", idle.trigger_runs},
                       {"automation_steps", idle.automation_steps},
                       {"automation_runs_open", *open_runs},
                       {"attempts", attempts.load()},
                       {"succeeded", succeeded.load()},
                       {"failed", gave_up.load()},
                       {"skipped", skipped.load()},
                       {"pending", queue.pending},
                       {"webhooks_disabled", [&] {
                          auto arr = json::array();
                          for (const auto& [id, why] : disabled) arr.push_back({{"id", id}, {"reason", why}});
                          return arr;
                        }()},
                       {"next_due_at", queue.next_due_ms ? json(timeutil::format_rfc3339(*queue.next_due_ms)) : json(nullptr)},
                       {"fast_forwarded_ms", idle.fast_forwarded_ms}});
  } else {
    out.line("dispatched: " + std::to_string(idle.trigger_runs) + " trigger runs, " +
             (idle.automation_steps > 0
                  ? count_of(static_cast<std::size_t>(idle.automation_steps), "automation step", "automation steps") + ", "
                  : "") +
             std::to_string(attempts.load()) +
             " attempts, " + std::to_string(succeeded.load()) + " delivered, " + std::to_string(gave_up.load()) +
             " failed for good" +
             (skipped > 0 ? ", " + std::to_string(skipped.load()) + " skipped (webhook disabled; 'centrali webhooks "
                                                                   "recover' sends them once it is back)"
                          : "") +
             "; " + waiting +
             (idle.fast_forwarded_ms > 0
                  ? "; clock fast-forwarded by " + timeutil::format_duration(std::chrono::milliseconds(idle.fast_forwarded_ms))
                  : "") +
             (disabled.empty() ? ""
                               : "; " + count_of(disabled.size(), "webhook", "webhooks") +
                                     " disabled (see 'centrali webhooks show " + disabled.front().first + "')"));
  }
  if (gave_up > 0)
    return fail(ErrorKind::rejected, count_of(static_cast<std::size_t>(gave_up.load()), "delivery", "deliveries") +
                                         " failed after their last retry (see 'centrali deliveries list --status failed')");
  return {};
}

} // namespace

void add_dispatch_command(CLI::App& app, Selected& selected)
{
  auto args = std::make_shared<DispatchArgs>();
  auto* cmd = app.add_subcommand("dispatch",
                                 "Fan out new events, run queued triggers, deliver due deliveries (no HTTP listener)");
  cmd->add_flag("--until-idle", args->until_idle, "Exit when nothing is due (retries not yet due are reported)");
  cmd->add_option("--timeout", args->timeout, "With --until-idle: also wait for retries due within this long")
      ->type_name("DURATION");
  cmd->add_flag("--fast-forward", args->fast_forward,
                "With --until-idle: when nothing is due now, jump the clock to the next retry instead of waiting or "
                "ending (for CI; refused while another listen or dispatch runs on the store)");
  cmd->footer("Exit status 1 when a delivery failed for good during the run; 4 when the store fails (corrupt,\n"
              "I/O error, full disk), or with --until-idle stays locked by another process for 30s (or --timeout),\n"
              "or with --fast-forward another process sends from it.\n"
              "Examples:\n  centrali events emit order.created --data '{\"id\":1}' && centrali dispatch --until-idle\n"
              "  centrali dispatch --until-idle --timeout 2m\n"
              "  centrali dispatch --until-idle --fast-forward   # the whole retry schedule, at once");
  cmd->callback([&selected, args] { selected.run = [args](Context& c) { return run_dispatch(c, *args); }; });
}

} // namespace centrali::cli

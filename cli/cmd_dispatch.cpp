// `centrali dispatch`: do what a running listener does in the background —
// fan out new events, deliver due deliveries — without serving HTTP. With
// --until-idle it stops when nothing is due (for CI).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <CLI/CLI.hpp>

#include "centrali/delivery/worker.hpp"
#include "centrali/dispatch/dispatcher.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/triggers/runner.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"
#include "log_writer.hpp"
#include "render_deliveries.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct DispatchArgs {
  bool until_idle = false;
  std::string timeout;
};

// How long --until-idle waits for a store that another process keeps
// locked (say a `sqlite3` shell left in a transaction) before it gives up
// with exit 4; a longer --timeout wins. Without --until-idle, dispatch
// waits as long as the lock is held, as `listen` does.
constexpr std::int64_t k_locked_too_long_ms = 30'000;

// Decides what a store failure means for the run. A store that another
// process holds locked is looked at again, until it has been locked for
// `patience` (none: for ever); anything else (a corrupt file, an I/O
// error, a full disk) ends the run at once. It watches this thread's reads
// and, through the writer, every write of the fan-out, the sender and the
// trigger runner.
class StoreWatch {
public:
  StoreWatch(const store::GroupCommitter& writer, std::optional<std::chrono::milliseconds> patience)
      : m_writer(writer), m_patience(patience)
  {
  }

  // True when the run must end (failure() says why): checks the writer, and
  // `read`, a failure of this thread's own store read, if given.
  bool must_stop(const Error* read = nullptr)
  {
    if (m_failure) return true;
    if (auto broken = m_writer.broken()) {
      m_failure = std::move(*broken);
      return true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (read) {
      if (read->fault != StoreFault::locked) {
        m_failure = *read;
        return true;
      }
      if (!m_reads_locked_since) m_reads_locked_since = now;
    }
    auto since = m_writer.locked_since();
    if (m_reads_locked_since && (!since || *m_reads_locked_since < *since)) since = m_reads_locked_since;
    if (since && m_patience && now - *since >= *m_patience) {
      m_failure = Error{ErrorKind::store,
                        "the store has been locked by another process for more than " +
                            timeutil::format_duration(*m_patience) + " (a 'sqlite3' shell in a transaction?)",
                        StoreFault::locked};
      return true;
    }
    return false;
  }
  // This thread's last read succeeded: its reads are not locked out.
  void read_ok() { m_reads_locked_since.reset(); }
  const std::optional<Error>& failure() const { return m_failure; }

private:
  const store::GroupCommitter& m_writer;
  std::optional<std::chrono::milliseconds> m_patience;
  std::optional<std::chrono::steady_clock::time_point> m_reads_locked_since;
  std::optional<Error> m_failure;
};

// The error that ends a run on a failing store: what failed, and where.
Error store_failure(const Error& e, const std::string& store_path)
{
  return {ErrorKind::store, "dispatch stopped, store " + for_terminal(store_path) + ": " + for_terminal(e.message),
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
  auto main_store = ctx.store();  // creates and migrates the store first
  if (!main_store) return std::unexpected(main_store.error());

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const auto path = ctx.options().store_path;
  auto writer_store = store::Store::open(path, {store::Durability::full});
  if (!writer_store) return std::unexpected(writer_store.error());
  store::GroupCommitter writer(std::move(*writer_store));

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
  delivery::Worker worker(writer, path, {}, report);
  auto log = [&](const std::string& line) { log_out.write(message_line(line, json_out)); };
  triggers::Runner runner(writer, path, {}, log);
  // Continuous mode runs triggers as the listener does; --until-idle drains
  // them from this thread whenever runs are waiting (see the loop below).
  dispatch::Dispatcher dispatcher(writer, path,
                                  {[&worker] { worker.wake(); },
                                   [&runner, &a] {
                                     if (!a.until_idle) runner.wake();
                                   },
                                   worker.hand_off(),
                                   [&skipped](int n) { skipped += n; }});
  worker.start();
  dispatcher.start();
  if (!a.until_idle) runner.start();
  int runs_done = 0;

  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop = true;
  });

  auto started = timeutil::now_ms();
  auto& reader = **main_store;
  store::QueueState queue;
  auto idle_epoch = worker.idle_epoch();
  StoreWatch watch(writer, a.until_idle ? std::optional(std::chrono::milliseconds(
                                              std::max<std::int64_t>(k_locked_too_long_ms, wait_ms)))
                                        : std::nullopt);
  // A failed read ends the run or is looked at again (a locked store).
  auto read_failed = [&](const Error& e) { return watch.must_stop(&e); };
  while (!stop) {
    // Short: the end of a run is noticed within this, or at once when the
    // worker finishes its last delivery. A busy worker costs one small index
    // probe per look; the queue is only read once it idles.
    worker.wait_idle_after(idle_epoch, std::chrono::milliseconds(10));
    idle_epoch = worker.idle_epoch();
    if (watch.must_stop()) break;
    if (!a.until_idle) continue;
    auto pending_runs = store::has_pending_runs(reader);
    if (!pending_runs) {
      if (read_failed(pending_runs.error())) break;
      continue;
    }
    if (*pending_runs) {
      // Deliveries keep flowing on their own threads while runs execute here.
      auto ran = runner.drain();
      if (ran) runs_done += *ran;
      else if (read_failed(ran.error())) break;
      continue;
    }
    if (!worker.idle()) continue;
    auto pending_events = store::has_pending_events(reader);
    if (!pending_events) {
      if (read_failed(pending_events.error())) break;
      continue;
    }
    auto q = store::queue_state(reader);
    if (!q) {
      if (read_failed(q.error())) break;
      continue;
    }
    watch.read_ok();
    queue = *q;
    auto now = timeutil::now_ms();
    bool due_now = queue.next_due_ms && *queue.next_due_ms <= now;
    if (*pending_events || due_now || !worker.idle()) continue;
    // Idle now. Wait for retries only when they fall due within --timeout.
    bool due_in_window = queue.next_due_ms && *queue.next_due_ms <= started + wait_ms;
    if (!due_in_window) break;
  }
  dispatcher.stop();
  if (!a.until_idle) runner.stop();
  worker.stop();
  writer.stop();
  if (!stop) pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  // What is still queued goes out before the summary (giving up on a
  // reader that takes nothing for a moment).
  log_out.finish();

  // Also after a signal: work that failed on a broken store is not a
  // success, nor is a queue that cannot be read.
  if (watch.must_stop()) return std::unexpected(store_failure(*watch.failure(), path));
  if (auto q = store::queue_state(reader); q) queue = *q;
  else return std::unexpected(store_failure(q.error(), path));
  auto now = timeutil::now_ms();
  std::string waiting = queue.pending == 0 ? "nothing waiting"
                        : std::to_string(queue.pending) + " pending" +
                              (queue.next_due_ms ? ", next due " + timeutil::relative(*queue.next_due_ms, now) : "");
  if (json_out) {
    out.json_document({{"runs", runs_done},
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
                       {"next_due_at", queue.next_due_ms ? json(timeutil::format_rfc3339(*queue.next_due_ms)) : json(nullptr)}});
  } else {
    out.line("dispatched: " + std::to_string(runs_done) + " trigger runs, " + std::to_string(attempts.load()) +
             " attempts, " + std::to_string(succeeded.load()) + " delivered, " + std::to_string(gave_up.load()) +
             " failed for good" +
             (skipped > 0 ? ", " + std::to_string(skipped.load()) + " skipped (webhook disabled; 'centrali webhooks "
                                                                   "recover' sends them once it is back)"
                          : "") +
             "; " + waiting +
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
  cmd->footer("Exit status 1 when a delivery failed for good during the run; 4 when the store fails (corrupt,\n"
              "I/O error, full disk), or with --until-idle stays locked by another process for 30s (or --timeout).\n"
              "Examples:\n  centrali events emit order.created --data '{\"id\":1}' && centrali dispatch --until-idle\n"
              "  centrali dispatch --until-idle --timeout 2m");
  cmd->callback([&selected, args] { selected.run = [args](Context& c) { return run_dispatch(c, *args); }; });
}

} // namespace centrali::cli

#include "centrali/engine/engine.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <mutex>

#include "centrali/automations/executor.hpp"
#include "centrali/automations/schedules.hpp"
#include "centrali/dispatch/dispatcher.hpp"
#include "centrali/engine/store_watch.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/store/sender_lock.hpp"
#include "centrali/store/work_signal.hpp"
#include "centrali/triggers/runner.hpp"
#include "centrali/triggers/scheduler.hpp"
#include "centrali/util/time.hpp"

namespace centrali::engine {

struct Engine::Parts {
  EngineOptions options;
  std::optional<store::SenderLock> exclusive;  // Senders::alone: held from create() to the worker
  std::unique_ptr<store::Store> reader;        // the idle loop's own reads
  std::unique_ptr<store::GroupCommitter> writer;
  std::unique_ptr<delivery::Worker> worker;
  std::unique_ptr<triggers::Runner> runner;
  std::unique_ptr<automations::Executor> executor;
  std::unique_ptr<triggers::Scheduler> scheduler;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  // News of work from other processes (PostgreSQL), which wakes the parts
  // above at once; null on a SQLite file, whose parts look every 250 ms.
  std::unique_ptr<store::WorkWatch> watch;
  std::thread watcher;
  std::atomic<bool> stop_watching{false};
  bool started = false;
  bool stopped = false;
  std::optional<Error> failure;  // what ended the last run_until_*
};

namespace {

// How often the idle loop looks at the store when the worker does not go
// idle first: the end of a run is noticed within this, or at once when the
// worker finishes its last delivery.
constexpr std::chrono::milliseconds k_idle_look{10};
// How long the watch waits for news before it looks whether to stop.
constexpr std::chrono::milliseconds k_watch_wait{50};

} // namespace

Result<std::unique_ptr<Engine>> Engine::create(EngineOptions options, EngineCallbacks callbacks)
{
  std::unique_ptr<Engine> self(new Engine());
  auto& parts = *(self->m_parts = std::make_unique<Parts>());
  parts.options = options;
  if (options.senders == Senders::alone) {
    auto lock = store::SenderLock::acquire(options.store_path);
    if (!lock) return std::unexpected(lock.error());
    if (!lock->alone())
      return fail(ErrorKind::store, "a fast-forwarded run needs the store to itself, and another process sends from "
                                    "this store (a running 'centrali listen' or 'centrali dispatch'); stop it first");
    parts.exclusive.emplace(std::move(*lock));
  }
  auto reader = store::Store::open(options.store_path);
  if (!reader) return std::unexpected(reader.error());
  parts.reader = std::make_unique<store::Store>(std::move(*reader));
  auto writer_store = store::Store::open(options.store_path, {store::Durability::full});
  if (!writer_store) return std::unexpected(writer_store.error());
  parts.writer = std::make_unique<store::GroupCommitter>(std::move(*writer_store));

  auto log = callbacks.on_log ? callbacks.on_log : [](const std::string&) {};
  parts.worker = std::make_unique<delivery::Worker>(*parts.writer, options.store_path, options.worker,
                                                    callbacks.on_attempt);
  // Runs are leased in the name the worker's sender lock gives this
  // process, so that the others free them too should it die.
  auto lease_owner = [worker = parts.worker.get()] { return worker->lease_owner(); };
  triggers::RunnerOptions runner_options;
  runner_options.lease_owner = lease_owner;
  parts.runner = std::make_unique<triggers::Runner>(*parts.writer, options.store_path, runner_options, log);
  automations::ExecutorOptions executor_options;
  executor_options.lease_owner = lease_owner;
  parts.executor = std::make_unique<automations::Executor>(*parts.writer, options.store_path, executor_options, log);
  auto* runner = parts.runner.get();
  auto* executor = parts.executor.get();
  if (options.schedules == Schedules::tick)
  {
    parts.scheduler = std::make_unique<triggers::Scheduler>(*parts.writer, options.store_path,
                                                            [runner] { runner->wake(); }, log);
    // Schedule-triggered automations tick on the same thread, by the same
    // timing rules, reading through a connection of their own.
    auto reader = std::make_shared<std::unique_ptr<store::Store>>();
    parts.scheduler->also_tick([reader, writer = parts.writer.get(), path = options.store_path, executor,
                                log](std::int64_t now, bool restart) -> Result<std::optional<std::int64_t>> {
      if (!*reader) {
        auto opened = store::Store::open(path, {store::Durability::normal});
        if (!opened) return std::unexpected(opened.error());
        *reader = std::make_unique<store::Store>(std::move(*opened));
      }
      auto tick = automations::tick_schedules(**reader, *writer, now, restart, log);
      if (!tick) return std::unexpected(tick.error());
      if (tick->started > 0) executor->wake();
      return tick->earliest;
    });
  }
  auto* worker = parts.worker.get();
  const bool threads_run = options.runs == RunsOn::engine_threads;
  parts.dispatcher = std::make_unique<dispatch::Dispatcher>(
      *parts.writer, options.store_path,
      dispatch::DispatcherHooks{[worker] { worker->wake(); },
                                [runner, executor, threads_run] {
                                  // The idle loop drains them itself when it sees them.
                                  if (!threads_run) return;
                                  runner->wake();
                                  executor->wake();
                                },
                                worker->hand_off(), callbacks.on_skipped, callbacks.on_fan_out_failed});
  // Without a watch the parts still look at the store on their own, only
  // later: a server that refuses one more session costs latency, not work.
  if (auto watch = store::watch_work(options.store_path.string()); watch) parts.watch = std::move(*watch);
  return self;
}

Engine::~Engine()
{
  if (m_parts) stop();
}

void Engine::start()
{
  auto& p = *m_parts;
  if (p.started) return;
  p.started = true;
  if (p.exclusive) p.worker->start(std::move(*p.exclusive));
  else p.worker->start();
  p.exclusive.reset();
  p.dispatcher->start();
  if (p.options.runs == RunsOn::engine_threads) {
    p.runner->start();
    p.executor->start();
  }
  if (p.scheduler) p.scheduler->start();
  if (p.watch) {
    p.watcher = std::thread([&p] {
      ::pthread_setname_np(::pthread_self(), "work-watch");  // for top -H and perf
      while (!p.stop_watching.load(std::memory_order_acquire)) {
        if (!p.watch->wait(k_watch_wait)) continue;
        p.dispatcher->wake();
        p.worker->wake();
        if (p.options.runs == RunsOn::engine_threads) {
          p.runner->wake();
          p.executor->wake();
        }
      }
    });
  }
}

void Engine::stop()
{
  auto& p = *m_parts;
  if (p.stopped) return;
  p.stopped = true;
  // Reverse order of dependence: the scheduler first, so no tick queues a
  // run for a runner that has stopped; the writer last, so nothing writes
  // after it.
  // (Parts are null when create() failed half-way.)
  // The watch ends within k_watch_wait: joined last, so that no part works
  // on while it winds down (a wake-up of a stopped part does nothing).
  p.stop_watching.store(true, std::memory_order_release);
  if (p.scheduler) p.scheduler->stop();
  if (p.runner) p.runner->stop();
  if (p.executor) p.executor->stop();
  if (p.dispatcher) p.dispatcher->stop();
  if (p.worker) p.worker->stop();
  if (p.writer) p.writer->stop();
  if (p.watcher.joinable()) p.watcher.join();
}

store::GroupCommitter& Engine::writer()
{
  return *m_parts->writer;
}

const std::filesystem::path& Engine::store_path() const
{
  return m_parts->options.store_path;
}

void Engine::events_written(bool forwarded)
{
  m_parts->dispatcher->wake();
  if (forwarded) m_parts->worker->wake();
}

automations::Executor& Engine::executor()
{
  return *m_parts->executor;
}

std::optional<Error> Engine::failure()
{
  auto& p = *m_parts;
  if (!p.failure)
    if (auto broken = p.writer->broken()) p.failure = std::move(*broken);
  return p.failure;
}

void Engine::run_until_stopped(const std::atomic<bool>& stop)
{
  auto& p = *m_parts;
  StoreWatch watch(*p.writer, std::nullopt);
  auto idle_epoch = p.worker->idle_epoch();
  while (!stop) {
    p.worker->wait_idle_after(idle_epoch, k_idle_look);
    idle_epoch = p.worker->idle_epoch();
    if (watch.must_stop()) break;
  }
  if (watch.failure()) p.failure = watch.failure();
}

IdleReport Engine::run_until_idle(const IdleOptions& options, const std::atomic<bool>& stop)
{
  auto& p = *m_parts;
  auto& reader = *p.reader;
  auto& worker = *p.worker;
  IdleReport report;
  StoreWatch watch(*p.writer, options.locked_patience);
  // A failed read ends the run or is looked at again (a locked store).
  auto read_failed = [&](const Error& e) { return watch.must_stop(&e); };
  const auto started = timeutil::now_ms();
  auto idle_epoch = worker.idle_epoch();
  report.interrupted = true;
  while (!stop) {
    // A busy worker costs one small index probe per look; the queue is only
    // read once it idles.
    worker.wait_idle_after(idle_epoch, k_idle_look);
    idle_epoch = worker.idle_epoch();
    if (watch.must_stop()) break;
    auto pending_runs = store::has_pending_runs(reader);
    if (!pending_runs) {
      if (read_failed(pending_runs.error())) break;
      continue;
    }
    if (*pending_runs) {
      // Deliveries keep flowing on their own threads while runs execute here.
      auto ran = p.runner->drain();
      if (ran) report.trigger_runs += *ran;
      else if (read_failed(ran.error())) break;
      continue;
    }
    auto due_automations = store::has_due_automation_runs(reader, timeutil::now_ms());
    if (!due_automations) {
      if (read_failed(due_automations.error())) break;
      continue;
    }
    if (*due_automations) {
      auto steps = p.executor->drain();
      if (steps) report.automation_steps += *steps;
      else if (read_failed(steps.error())) break;
      continue;
    }
    if (!worker.idle()) continue;
    auto pending_events = store::has_pending_events(reader);
    if (!pending_events) {
      if (read_failed(pending_events.error())) break;
      continue;
    }
    auto queue = store::queue_state(reader);
    if (!queue) {
      if (read_failed(queue.error())) break;
      continue;
    }
    auto next_automation = store::next_automation_due_ms(reader);
    if (!next_automation) {
      if (read_failed(next_automation.error())) break;
      continue;
    }
    watch.read_ok();
    const auto now = timeutil::now_ms();
    std::optional<std::int64_t> next_due = queue->next_due_ms;
    if (*next_automation) next_due = next_due ? std::min(*next_due, **next_automation) : **next_automation;
    const bool due_now = next_due && *next_due <= now;
    if (*pending_events || due_now || !worker.idle()) continue;
    // Idle now, and what is left falls due later.
    if (next_due && options.fast_forward == FastForward::yes) {
      // Only when idle: nothing is in flight, so no lease or attempt spans
      // the jump. Everyone sleeping until then looks again now.
      report.fast_forwarded_ms += *next_due - now;
      timeutil::jump_clock_to(*next_due);
      worker.wake();
      p.executor->wake();
      p.dispatcher->wake();
      continue;
    }
    // Wait for what falls due within the window only.
    const bool due_in_window = next_due && *next_due <= started + options.wait_for_due.count();
    if (!due_in_window) {
      report.interrupted = false;
      break;
    }
  }
  if (watch.failure()) {
    p.failure = watch.failure();
    report.interrupted = false;
  }
  return report;
}

} // namespace centrali::engine

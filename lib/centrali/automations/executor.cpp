#include "centrali/automations/executor.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "centrali/automations/compute.hpp"
#include "centrali/automations/progress.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::automations {
namespace {

using json = nlohmann::json;
using LivePtr = std::shared_ptr<LiveRun>;

// A held run starts only while this much of its claim lease is left (the
// start's write must land before the lease ends).
constexpr std::int64_t k_lease_spare_ms = 2'000;

// One run's part of a progress write.
struct PendingWrite {
  LivePtr run;
  store::RunProgress progress;
  std::vector<store::AutomationStep*> inserted;  // rows this write inserts (redone writes insert again)
  // Whether this write starts the run's compute step. Decided when it is
  // submitted: by its completion, a held run may have been taken by a
  // worker and started elsewhere.
  bool starts_compute = false;
  bool written = false;
};

std::string run_summary(const LiveRun& run)
{
  std::string line = "automation run " + run.row.id + " of " + run.row.automation + ": " + run.row.status + " (" +
                     std::to_string(run.row.steps_run) + (run.row.steps_run == 1 ? " step" : " steps") + ")";
  if (!run.row.error.empty()) line += ": " + run.row.error;
  return line;
}

} // namespace

struct Executor::State {
  State(store::GroupCommitter& w, std::filesystem::path p, ExecutorOptions o, std::function<void(const std::string&)> l)
      : writer(w), store_path(std::move(p)), options(o), log(std::move(l))
  {
    if (!log) log = [](const std::string&) {};
    options.max_parallel = std::max(1, options.max_parallel);
    options.claim_batch = std::max(1, options.claim_batch);
  }

  store::GroupCommitter& writer;
  std::filesystem::path store_path;
  ExecutorOptions options;
  std::function<void(const std::string&)> log;

  std::mutex mutex;
  std::condition_variable claim_cv;  // claim loop: a slot freed, a write landed, new work, or stop
  std::condition_variable job_cv;    // workers: compute steps ready, or stop
  std::deque<LivePtr> jobs;          // compute steps whose start is committed
  std::deque<LivePtr> held;          // claimed runs at a compute step, waiting for a slot (leased)
  int slots_used = 0;                // compute steps reserved, queued or running
  int writes_pending = 0;            // progress writes not yet committed
  bool woken = false;
  std::uint64_t changes = 0;         // counts landed writes and freed slots (drain waits on it)
  bool stopping = false;
  bool started = false;
  std::atomic<int> steps{0};
  std::string last_failure;          // claim thread only: said once per failure
  std::thread claimer;
  std::vector<std::thread> workers;

  // Claim-thread state: its own read connection, and what it read last of
  // the sources' secret variables (under `mutex`: workers read it).
  std::unique_ptr<store::Store> reader;
  std::vector<std::string> withheld_env;

  bool settled()
  {
    std::lock_guard lock(mutex);
    return slots_used == 0 && writes_pending == 0 && jobs.empty() && held.empty();
  }

  Result<store::Store*> read_connection()
  {
    if (!reader) {
      auto opened = store::Store::open(store_path);
      if (!opened) return std::unexpected(opened.error());
      reader = std::make_unique<store::Store>(std::move(*opened));
    }
    return reader.get();
  }

  // The input of a claimed run: stored, or built from its event on first claim.
  json input_of(store::ClaimedAutomationRun& claimed, std::string& new_input, std::string& problem)
  {
    if (!claimed.run.input.empty() || claimed.run.event_id.empty()) {
      auto parsed = parse_json(claimed.run.input.empty() ? std::string("{}") : claimed.run.input);
      return parsed.is_discarded() ? json::object() : parsed;
    }
    auto reader_store = read_connection();
    if (!reader_store) {
      problem = "cannot open the store to read event " + claimed.run.event_id;
      return nullptr;
    }
    auto event = store::get_event(**reader_store, claimed.run.event_id);
    if (!event) {
      problem = "cannot read event " + claimed.run.event_id + ": " + event.error().message;
      return nullptr;
    }
    json input = event_input(*event);
    new_input = triggers::dump_json(input);
    return input;
  }

  // Claims due runs, takes their steps that start no process, starts
  // compute steps while slots are free, and writes it all as one batch.
  // Returns how many runs it claimed.
  Result<int> claim_round()
  {
    int free = 0;
    {
      std::lock_guard lock(mutex);
      free = options.max_parallel - slots_used;
      // Held runs take the next free slots; claiming more would only hold more.
      if (!held.empty()) return 0;
    }
    if (free <= 0) return 0;
    const auto now = timeutil::now_ms();
    if (auto r = read_connection(); r) {
      // A read first: most looks find nothing due, and need not queue a
      // transaction behind the writer's other work.
      if (auto due = store::has_due_automation_runs(**r, now); due && !*due) return 0;
      if (auto names = store::secret_env_names(**r)) {
        std::lock_guard lock(mutex);  // workers copy it for each step
        withheld_env = std::move(*names);
      }
    }
    std::vector<store::ClaimedAutomationRun> claimed;
    auto done = writer
                    .submit([&](store::Store& s) -> Result<void> {
                      auto r = store::claim_automation_runs(s, now, now + k_claim_lease_ms, options.claim_batch,
                                                            options.lease_owner ? options.lease_owner() : 0);
                      if (!r) return std::unexpected(r.error());
                      claimed = std::move(*r);
                      return {};
                    })
                    .get();
    if (!done) return std::unexpected(done.error());
    if (claimed.empty()) return 0;
    std::vector<LivePtr> batch;  // runs with something to write
    std::vector<LivePtr> newly_held;
    batch.reserve(claimed.size());
    for (auto& c : claimed) {
      std::string new_input, problem;
      json input = input_of(c, new_input, problem);
      auto live = std::make_shared<LiveRun>(resume(std::move(c), std::move(input), now, timeutil::clock_offset_ms()));
      live->new_input = std::move(new_input);
      if (!problem.empty() && !live->ended()) {
        live->row.status = "failed";
        live->row.error = problem;
        live->row.next_step.clear();
        live->row.lease_until_ms.reset();
        live->row.ended_ms = now;
      }
      if (live->ended()) {
      } else if (auto halt = advance(*live, now, free > 0); halt == Halt::compute) {
        --free;
        std::lock_guard lock(mutex);
        ++slots_used;
      } else if (halt == Halt::held) {
        newly_held.push_back(live);
        // Its lease is the claim's; written now only if a step ran before it.
        if (live->to_write.empty()) continue;
      }
      batch.push_back(std::move(live));
    }
    if (!batch.empty()) write(batch);
    // Only now may a worker take them: write() has read what they had to write.
    if (!newly_held.empty()) {
      std::lock_guard lock(mutex);
      held.insert(held.end(), newly_held.begin(), newly_held.end());
    }
    return static_cast<int>(claimed.size());
  }

  // Writes the runs' progress in one group commit, not waited for; compute
  // steps whose start it records go to the workers once it has committed.
  void write(const std::vector<LivePtr>& runs)
  {
    const auto now = timeutil::now_ms();
    auto pending = std::make_shared<std::vector<PendingWrite>>();
    pending->reserve(runs.size());
    for (const auto& run : runs) {
      steps += std::exchange(run->steps_this_claim, 0);
      PendingWrite p{run, progress_of(*run, now), {}, run->open_compute != nullptr, false};
      for (auto* row : p.progress.steps)
        if (row->seq == 0) p.inserted.push_back(row);
      pending->push_back(std::move(p));
    }
    {
      std::lock_guard lock(mutex);
      ++writes_pending;
    }
    writer.submit(
        [pending](store::Store& s) -> Result<void> {
          for (auto& p : *pending) {
            for (auto* row : p.inserted) row->seq = 0;
            auto w = store::write_run_progress(s, p.progress);
            if (!w) return std::unexpected(w.error());
            p.written = *w;
          }
          return {};
        },
        store::Durability::full,
        [this, pending](Result<void> r) {
          std::vector<std::string> lines;
          for (auto& p : *pending)
            if (r && p.written && p.run->ended()) lines.push_back(run_summary(*p.run));
          if (!r) log("cannot record automation runs' progress (they resume when their lease ends): " + r.error().message);
          for (const auto& line : lines) log(line);
          // Last, under the lock: once writes_pending drops, a stopping
          // executor may be destroyed, so nothing here touches it after.
          std::lock_guard lock(mutex);
          for (auto& p : *pending)
            if (p.starts_compute) {
              if (r && p.written) jobs.push_back(p.run);
              else --slots_used;  // not started: cancelled meanwhile, or the write failed
            }
          --writes_pending;
          ++changes;
          job_cv.notify_all();
          claim_cv.notify_all();
        });
  }

  void work()
  {
    for (;;) {
      LivePtr run;
      {
        std::unique_lock lock(mutex);
        job_cv.wait(lock, [&] { return !jobs.empty() || (stopping && slots_used == 0); });
        if (jobs.empty()) return;
        run = std::move(jobs.front());
        jobs.pop_front();
      }
      const Step* step = run->definition.step(run->open_compute->step);
      ComputeIdentity identity{run->row.automation, run->row.id, run->open_compute->attempt, store_path, {}};
      {
        std::lock_guard lock(mutex);
        identity.withheld_env = withheld_env;
      }
      auto outcome = run_compute(*step, identity, triggers::dump_json(run->document()));
      const auto now = timeutil::now_ms();
      auto halt = finish_compute(*run, outcome, now);
      bool stopping_now = false;
      {
        std::lock_guard lock(mutex);
        stopping_now = stopping;
      }
      // The slot stays with the run for its next compute step, if any.
      if (halt == Halt::compute) halt = advance(*run, now, !stopping_now);
      if (halt == Halt::held) release(*run, now);  // stopping: any executor takes it next
      std::vector<LivePtr> writes{run};
      if (halt != Halt::compute) {
        // Else the slot goes to the run held longest, if any.
        if (auto next = next_held(now, stopping_now)) writes.push_back(std::move(next));
      }
      claim_cv.notify_all();
      job_cv.notify_all();
      write(writes);
    }
  }

  // A held run, its compute step started in the slot just freed; none (and
  // the slot freed) when no run is held or the executor is stopping. A run
  // whose claim lease is about to end is let go: once it has ended another
  // process may take it (and the next claim here will, if none does).
  LivePtr next_held(std::int64_t now, bool stopping_now)
  {
    for (;;) {
      LivePtr next;
      {
        std::lock_guard lock(mutex);
        if (held.empty() || stopping_now) {
          --slots_used;
          ++changes;
          return nullptr;
        }
        next = std::move(held.front());
        held.pop_front();
      }
      if (next->row.lease_until_ms && *next->row.lease_until_ms - now < k_lease_spare_ms) continue;
      if (advance(*next, now, true) == Halt::compute) return next;
      // It ended or waits instead (nothing else follows a held run, but the
      // slot is not kept for it).
      write({next});
    }
  }

  void start_workers()
  {
    for (int i = 0; i < options.max_parallel; ++i) workers.emplace_back([this] { work(); });
  }

  void stop_workers()
  {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    job_cv.notify_all();
    for (auto& w : workers) w.join();
    workers.clear();
    // Held runs wait for a slot no worker will free now: let them go.
    std::vector<LivePtr> let_go;
    {
      std::lock_guard lock(mutex);
      let_go.assign(held.begin(), held.end());
      held.clear();
    }
    const auto now = timeutil::now_ms();
    for (auto& run : let_go) release(*run, now);
    if (!let_go.empty()) write(let_go);
    std::unique_lock lock(mutex);
    claim_cv.wait(lock, [&] { return writes_pending == 0; });
  }

  // Says a failing claim once, not once per poll.
  void claim_failed(const Error& e)
  {
    if (e.message == last_failure) return;
    last_failure = e.message;
    log("cannot claim automation runs (trying again): " + e.message);
  }

  void claim_loop()
  {
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
      }
      auto claimed = claim_round();
      if (!claimed) claim_failed(claimed.error());
      else last_failure.clear();
      if (claimed && *claimed >= options.claim_batch) continue;  // more may be due
      // Until the poll, or sooner when a delay falls due.
      auto wait = options.poll_interval;
      if (auto r = read_connection(); r)
        if (auto due = store::next_automation_due_ms(**r); due && *due) {
          auto until = **due - timeutil::now_ms();
          if (until > 0) wait = std::min(wait, std::chrono::milliseconds(until));
        }
      std::unique_lock lock(mutex);
      claim_cv.wait_for(lock, wait, [&] { return woken || stopping; });
      woken = false;
    }
  }
};

Executor::Executor(store::GroupCommitter& writer, std::filesystem::path store_path, ExecutorOptions options,
                   std::function<void(const std::string&)> log)
    : m_state(std::make_unique<State>(writer, std::move(store_path), options, std::move(log)))
{
}

Executor::~Executor()
{
  stop();
}

void Executor::start()
{
  auto& s = *m_state;
  if (s.started) return;
  s.started = true;
  s.stopping = false;
  s.start_workers();
  s.claimer = std::thread([&s] { s.claim_loop(); });
}

void Executor::stop()
{
  auto& s = *m_state;
  if (!s.started) return;
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
  }
  s.claim_cv.notify_all();
  s.claimer.join();
  s.stop_workers();
  s.started = false;
}

void Executor::wake()
{
  auto& s = *m_state;
  {
    std::lock_guard lock(s.mutex);
    s.woken = true;
  }
  s.claim_cv.notify_all();
}

Result<int> Executor::drain()
{
  auto& s = *m_state;
  const int before = s.steps;
  s.stopping = false;
  s.start_workers();
  std::optional<Error> failure;
  std::uint64_t seen = 0;
  for (;;) {
    // Settled before a claim that finds nothing due: nothing is left to do now.
    const bool settled = s.settled();
    auto claimed = s.claim_round();
    if (!claimed) {
      failure = claimed.error();
      break;
    }
    if (*claimed > 0) continue;
    if (settled) break;
    std::unique_lock lock(s.mutex);
    s.claim_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return s.woken || s.changes != seen; });
    s.woken = false;
    seen = s.changes;
  }
  s.stop_workers();
  s.stopping = false;
  if (failure) return std::unexpected(*failure);
  return s.steps - before;
}

} // namespace centrali::automations

#include "centrali/triggers/scheduler.hpp"

#include <algorithm>

#include "centrali/store/runs.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/timing.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::triggers {

Scheduler::Scheduler(store::GroupCommitter& writer, std::filesystem::path store_path, std::function<void()> runs_queued,
                     std::function<void(const std::string&)> log, std::chrono::milliseconds poll_interval)
    : m_writer(writer), m_store_path(std::move(store_path)), m_runs_queued(std::move(runs_queued)),
      m_log(std::move(log)), m_poll(poll_interval)
{
  if (!m_log) m_log = [](const std::string&) {};
}

Scheduler::~Scheduler()
{
  stop();
}

void Scheduler::start()
{
  {
    std::lock_guard lock(m_mutex);
    m_stopping = false;
  }
  m_thread = std::thread([this] { loop(); });
}

void Scheduler::stop()
{
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

Result<std::optional<std::int64_t>> Scheduler::tick(std::int64_t now_ms, bool restart)
{
  if (!m_reader) {
    auto opened = store::Store::open(m_store_path, {store::Durability::normal});
    if (!opened) return std::unexpected(opened.error());
    m_reader = std::make_unique<store::Store>(std::move(*opened));
  }
  // Triggers are re-read every pass: `triggers add/pause/rm` in another
  // process reach a running listener within one poll interval.
  auto triggers = store::list_triggers(*m_reader, "schedule");
  if (!triggers) return std::unexpected(triggers.error());

  struct Fire {
    std::string trigger;
    std::int64_t due_ms;
    std::optional<std::int64_t> next_ms;
    std::string run_id;
  };
  struct Reset {
    std::string trigger;
    std::optional<std::int64_t> next_ms;
  };
  std::vector<Fire> fires;
  std::vector<Reset> resets;
  std::optional<std::int64_t> earliest;
  auto consider = [&](std::optional<std::int64_t> next) {
    if (next && (!earliest || *next < *earliest)) earliest = next;
  };
  for (const auto& t : *triggers) {
    if (t.paused) continue;
    if (restart || (!t.next_fire_ms && !t.at_ms)) {
      auto next = next_fire_after(t, now_ms);
      if (!next) {
        m_log("schedule " + t.name + ": " + next.error().message);
        continue;
      }
      if (*next != t.next_fire_ms) resets.push_back({t.name, *next});
      consider(*next);
      continue;
    }
    if (!t.next_fire_ms) continue;
    if (*t.next_fire_ms > now_ms) {
      consider(t.next_fire_ms);
      continue;
    }
    auto next = following_fire(t, *t.next_fire_ms, now_ms);
    if (!next) {
      m_log("schedule " + t.name + ": " + next.error().message);
      continue;
    }
    fires.push_back({t.name, *t.next_fire_ms, *next, ids::make(ids::k_run)});
    consider(*next);
  }
  if (fires.empty() && resets.empty()) return earliest;

  int queued = 0;
  auto done = m_writer
                  .submit([&](store::Store& s) -> Result<void> {
                    queued = 0;
                    for (const auto& r : resets)
                      if (auto ok = store::set_next_fire(s, r.trigger, r.next_ms); !ok && ok.error().kind != ErrorKind::not_found)
                        return ok;
                    for (const auto& f : fires) {
                      // Only the process that moves the schedule queues the
                      // run, so two listeners on one store fire a tick once.
                      auto moved = store::advance_schedule(s, f.trigger, f.due_ms, f.next_ms);
                      if (!moved) return std::unexpected(moved.error());
                      if (!*moved) continue;
                      store::Run run;
                      run.id = f.run_id;
                      run.trigger = f.trigger;
                      run.status = "queued";
                      run.origin = "schedule";
                      run.input = dump_json(schedule_params(f.due_ms, now_ms));
                      run.queued_ms = now_ms;
                      if (auto ins = store::insert_run(s, run); !ins) return ins;
                      ++queued;
                    }
                    return {};
                  })
                  .get();
  if (!done) return std::unexpected(done.error());
  if (queued > 0 && m_runs_queued) m_runs_queued();
  return earliest;
}

void Scheduler::loop()
{
  bool restart = true;
  while (true) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return;
    }
    const auto now = timeutil::now_ms();
    auto next = tick(now, restart);
    if (!next) m_log("scheduler: " + next.error().message);
    if (m_other) {
      auto other = m_other(now, restart);
      if (!other) m_log("scheduler: " + other.error().message);
      else if (next && *other && (!*next || **other < **next)) next = *other;
    }
    if (next) restart = false;
    auto wait = m_poll;
    if (next && *next)
      wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(1, **next - timeutil::now_ms())));
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, wait, [&] { return m_stopping; });
  }
}

} // namespace centrali::triggers

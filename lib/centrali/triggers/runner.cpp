#include "centrali/triggers/runner.hpp"

#include "centrali/store/events.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/function.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::triggers {

using json = nlohmann::json;

Runner::Runner(store::GroupCommitter& writer, std::filesystem::path store_path, RunnerOptions options,
               std::function<void(const std::string&)> log)
    : m_writer(writer), m_store_path(std::move(store_path)), m_options(options), m_log(std::move(log))
{
  if (m_options.max_parallel < 1) m_options.max_parallel = 1;
  if (!m_log) m_log = [](const std::string&) {};
}

Runner::~Runner()
{
  stop();
}

void Runner::start()
{
  {
    std::lock_guard lock(m_mutex);
    if (m_started) return;
    m_started = true;
    m_stopping = false;
  }
  for (int i = 0; i < m_options.max_parallel; ++i) m_workers.emplace_back([this] { work_loop(); });
  m_claimer = std::thread([this] { claim_loop(false); });
}

void Runner::stop()
{
  {
    std::lock_guard lock(m_mutex);
    if (!m_started) return;
    m_stopping = true;
  }
  m_claim_cv.notify_all();
  m_ready_cv.notify_all();
  if (m_claimer.joinable()) m_claimer.join();
  for (auto& t : m_workers)
    if (t.joinable()) t.join();
  m_workers.clear();
  // Claimed but never started: back to the queue, for the next runner.
  for (const auto& c : m_ready)
    m_writer.submit([id = c.run.id](store::Store& s) { return store::release_run(s, id); }).wait();
  m_ready.clear();
  // Results are submitted without waiting; this one returns after they commit.
  m_writer.submit([](store::Store&) -> Result<void> { return {}; }).wait();
  std::lock_guard lock(m_mutex);
  m_started = false;
}

void Runner::wake()
{
  {
    std::lock_guard lock(m_mutex);
    m_woken = true;
  }
  m_claim_cv.notify_one();
}

Result<int> Runner::drain()
{
  {
    std::lock_guard lock(m_mutex);
    if (m_started) return fail(ErrorKind::usage, "the runner is already running");
    m_started = true;
    m_stopping = false;
  }
  m_ran = 0;
  for (int i = 0; i < m_options.max_parallel; ++i) m_workers.emplace_back([this] { work_loop(); });
  claim_loop(true);
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_ready_cv.notify_all();
  for (auto& t : m_workers)
    if (t.joinable()) t.join();
  m_workers.clear();
  auto flushed = m_writer.submit([](store::Store&) -> Result<void> { return {}; }).get();
  auto pending = idle();
  {
    std::lock_guard lock(m_mutex);
    m_started = false;
  }
  if (!flushed) return std::unexpected(flushed.error());
  if (!pending) return std::unexpected(pending.error());
  return m_ran.load();
}

int Runner::claim(int capacity)
{
  std::vector<store::ClaimedRun> claimed;
  const auto now = timeutil::now_ms();
  auto done = m_writer
                  .submit([&](store::Store& s) -> Result<void> {
                    auto c = store::claim_runs(s, now, capacity, m_options.lease_owner ? m_options.lease_owner() : 0);
                    if (!c) return std::unexpected(c.error());
                    claimed = std::move(*c);
                    return {};
                  })
                  .get();
  if (!done) {
    m_log("trigger runs: cannot claim queued runs: " + done.error().message);
    return 0;
  }
  int n = static_cast<int>(claimed.size());
  if (n > 0) {
    {
      std::lock_guard lock(m_mutex);
      for (auto& c : claimed) m_ready.push_back(std::move(c));
    }
    m_ready_cv.notify_all();
  }
  return n;
}

// True once nothing is left that a runner could run, here or elsewhere.
Result<bool> Runner::idle()
{
  bool pending = false;
  auto r = m_writer
               .submit([&](store::Store& s) -> Result<void> {
                 auto p = store::has_pending_runs(s);
                 if (!p) return std::unexpected(p.error());
                 pending = *p;
                 return {};
               })
               .get();
  if (!r) return std::unexpected(r.error());
  return !pending;
}

void Runner::claim_loop(bool until_idle)
{
  while (true) {
    int capacity = 0;
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return;
      m_woken = false;
      // Claim only what can start now: a claimed run's lease counts from
      // the claim, so it must not wait long in our queue.
      capacity = m_options.max_parallel - static_cast<int>(m_ready.size()) - m_in_flight;
    }
    int got = capacity > 0 ? claim(capacity) : 0;
    if (until_idle && got == 0) {
      bool busy = false;
      {
        std::lock_guard lock(m_mutex);
        busy = !m_ready.empty() || m_in_flight > 0;
      }
      if (!busy) {
        auto done = idle();
        // A failing store ends the drain; drain() reports the error.
        if (!done || *done) return;
      }
    }
    std::unique_lock lock(m_mutex);
    if (m_stopping) return;
    if (!m_woken) m_claim_cv.wait_for(lock, m_options.poll_interval, [&] { return m_stopping || m_woken; });
  }
}

void Runner::work_loop()
{
  std::optional<store::Store> reader;
  bool reader_tried = false;
  while (true) {
    store::ClaimedRun claimed;
    {
      std::unique_lock lock(m_mutex);
      m_ready_cv.wait(lock, [&] { return m_stopping || !m_ready.empty(); });
      if (m_stopping) return;
      claimed = std::move(m_ready.front());
      m_ready.pop_front();
      ++m_in_flight;
    }
    // Only event runs read the store; open the connection on first need
    // and keep it, rather than paying an open per run.
    if (!claimed.run.event_id.empty() && !reader_tried) {
      reader_tried = true;
      if (auto opened = store::Store::open(m_store_path, {store::Durability::normal})) reader.emplace(std::move(*opened));
    }
    execute(reader ? &*reader : nullptr, claimed);
    {
      std::lock_guard lock(m_mutex);
      --m_in_flight;
      m_woken = true;
    }
    m_claim_cv.notify_one();
  }
}

void Runner::execute(store::Store* reader, const store::ClaimedRun& claimed)
{
  const auto& run = claimed.run;
  RunIdentity identity{run.id, "", m_store_path, {}};
  json params;
  std::string problem;
  if (reader) {
    if (auto names = store::secret_env_names(*reader)) identity.withheld_env = std::move(*names);
    else problem = "cannot read the sources' secret variables: " + names.error().message;
  }
  if (!run.event_id.empty()) {
    if (!reader) {
      problem = "cannot open the store to read event " + run.event_id;
    } else if (auto event = store::get_event(*reader, run.event_id)) {
      params = event_params(*event);
      identity.event_type = event->type;
    } else {
      problem = "cannot read event " + run.event_id + ": " + event.error().message;
    }
  } else {
    params = parse_json(run.input.empty() ? std::string("{}") : run.input);
    if (params.is_discarded()) params = json::object();
  }

  store::RunResult result;
  if (!problem.empty()) {
    result.id = run.id;
    result.status = "failure";
    result.error = problem;
    result.started_ms = result.ended_ms = timeutil::now_ms();
  } else {
    result = run_function(claimed.trigger, params, identity).result;
  }
  ++m_ran;
  std::string line = "run " + run.id + " of " + run.trigger + ": " + result.status + " (" +
                     std::to_string(result.ended_ms - result.started_ms) + "ms)" +
                     (result.error.empty() ? "" : ": " + result.error);
  // Not waited for: results of many runs share the writer's next commit,
  // and the claim that follows is queued behind them, so it sees them.
  m_writer.submit([result = std::move(result)](store::Store& s) { return store::finish_run(s, result); });
  m_log(line);
}

} // namespace centrali::triggers

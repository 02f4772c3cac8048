#include "centrali/delivery/worker.hpp"

#include <pthread.h>

#include <algorithm>

#include "centrali/delivery/attempt.hpp"
#include "centrali/delivery/webhook_request.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/webhooks.hpp"
#include "centrali/util/time.hpp"

namespace centrali::delivery {

using namespace std::chrono_literals;

namespace {
// Per URL, up to this many rounds of `per_url` attempts are claimed: one on
// the wire, the rest ready, so slots refill without waiting for the store
// and claims come in large batches (each claim is a commit the writer must
// make at once; at 4 rounds, claims were a third of all commits). The next
// claim for a URL is made once half of this is left. The lease does not
// grow with it (see WorkerOptions::lease_rounds). Half of it must outlast
// a claim that waits behind a WAL checkpoint on the writer (20-40 ms, at
// about 10 attempts per ms to a fast local receiver): at 16 rounds, sending
// stopped for the rest of each such wait.
constexpr int k_claim_rounds = 32;
// At most this many handed-over deliveries wait for room at their URL;
// the fan-out leaves the rest due, to be claimed. Each costs its row in
// memory (a few hundred bytes) and its event's body while those fit in
// k_max_handed_bytes; past that the body is read when the job is made, as
// for a claim.
constexpr int k_max_handed = 8192;
constexpr std::size_t k_max_handed_bytes = 64u << 20;
// See claim_batch: how often the store is asked while handed-over
// deliveries keep the worker busy.
constexpr auto k_store_claim_interval = std::chrono::milliseconds(50);
// How often the processes sending from the store are counted (one query on
// PostgreSQL, before a claim): a sender that joins or leaves changes the
// others' share of the per-URL cap within this long (what they already
// sent finishes). At 1 s, four senders started at once had 30 requests
// open to one URL before each knew of the others.
constexpr auto k_senders_look_interval = std::chrono::milliseconds(100);
} // namespace

std::vector<std::chrono::milliseconds> default_forward_schedule()
{
  return {1s, 2s, 5s, 10s, 30s, 1min, 2min, 5min, 10min, 30min, 60min};
}

// One claimed delivery, from the claim to its recorded attempt. The event
// and webhook are read once per claimed batch and shared by its jobs.
struct Worker::Job {
  store::Delivery delivery;
  std::shared_ptr<const Result<store::Event>> event;
  std::shared_ptr<const Result<store::Webhook>> webhook;  // null for forwards
  std::shared_ptr<const std::string> envelope;            // webhook deliveries of a readable event
  std::shared_ptr<const ingest::SourceKeys> source;       // forwards: the event's source
  std::shared_ptr<std::atomic<bool>> withdrawn;           // webhook deliveries: set once it answered 410
  PreparedAttempt prepared;
};

Worker::Worker(store::GroupCommitter& writer, std::filesystem::path store_path, WorkerOptions options,
               std::function<void(const AttemptReport&)> on_attempt)
    : m_writer(writer), m_store_path(std::move(store_path)), m_options(std::move(options)),
      m_forward_policy{m_options.forward_schedule, m_options.forward_timeout},
      m_sources(m_store_path, 1000), m_on_attempt(std::move(on_attempt))
{
}

Worker::~Worker()
{
  stop();
}

void Worker::start()
{
  // Without the lock file (an unwritable folder), leases simply run out.
  if (auto lock = store::SenderLock::acquire(m_store_path); lock) {
    if (lock->alone()) free_leases(Freeing::all);
    lock->share();
    m_sender_lock = std::move(*lock);
  }
  look_at_senders();
  start_threads();
}

void Worker::start(store::SenderLock held)
{
  if (held.alone()) free_leases(Freeing::all);
  m_sender_lock = std::move(held);  // not shared: no other sender joins until stop()
  look_at_senders();
  start_threads();
}

void Worker::look_at_senders()
{
  const auto seen = m_sender_lock ? m_sender_lock->look() : store::SenderLock::Look{};
  m_per_url.store(std::max(1, m_options.per_url / std::max(1, seen.senders)), std::memory_order_relaxed);
  if (m_sender_lock) m_lease_owner.store(m_sender_lock->owner(), std::memory_order_relaxed);
  // What they had in flight is free at once, not when their leases end
  // (minutes, for slow webhooks); claimed by the next pass.
  if (seen.someone_left) free_leases(Freeing::departed_senders);
  m_next_senders_look = std::chrono::steady_clock::now() + k_senders_look_interval;
}

void Worker::free_leases(Freeing which)
{
  (void)m_writer
      .submit([which](store::Store& s) -> Result<void> {
        const auto now = timeutil::now_ms();
        auto freed = which == Freeing::all ? store::release_abandoned_leases(s, now)
                                           : store::release_departed_senders_leases(s, now);
        if (!freed) return std::unexpected(freed.error());
        return {};
      }, store::Durability::normal)
      .wait();
}

void Worker::start_threads()
{
  http::AsyncClientOptions client_options;
  client_options.max_connections_per_origin = m_options.connections_per_origin;
  m_async = std::make_unique<http::AsyncClient>(client_options);
  m_claimer = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "deliver-claim");  // for top -H and perf
    claim_loop();
  });
}

void Worker::stop()
{
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    m_stopping = true;
  }
  m_wake.notify_all();
  m_https_cv.notify_all();
  // The claim loop hands back what was never sent and waits until every
  // attempt on the wire is recorded.
  if (m_claimer.joinable()) m_claimer.join();
  for (auto& t : m_https_senders)
    if (t.joinable()) t.join();
  if (m_async) m_async->stop();
  m_sender_lock.reset();  // sends no more: holds no lease
}

void Worker::wake()
{
  bool notify = false;
  {
    std::lock_guard lock(m_mutex);
    m_woken = true;
    notify = m_claimer_sleeping;
  }
  if (notify) m_wake.notify_one();
}

bool Worker::idle()
{
  // A claim in progress counts: its leases may already be committed, so the
  // store shows those deliveries as not due while no job holds them yet.
  // Asked in that gap, `dispatch --until-idle` would see nothing due, an
  // idle worker, and stop, handing them back unsent.
  // A hand-over under way counts too: its deliveries may be committed,
  // leased to this worker, before take_handed counts them.
  std::lock_guard lock(m_mutex);
  return m_claimed == 0 && !m_claiming && !m_handing_over;
}

std::uint64_t Worker::idle_epoch()
{
  std::lock_guard lock(m_mutex);
  return m_idle_epoch;
}

bool Worker::wait_idle_after(std::uint64_t epoch, std::chrono::milliseconds timeout)
{
  std::unique_lock lock(m_mutex);
  return m_idle_cv.wait_for(lock, timeout, [&] { return m_idle_epoch != epoch; });
}

store::DeliveryHandOff Worker::hand_off()
{
  return {[this](store::Store& s, std::int64_t now_ms) { return lease_for_fan_out(s, now_ms); },
          [this](std::vector<store::LeasedDelivery> deliveries) { take_handed(std::move(deliveries)); }};
}

std::int64_t lease_length_ms(const WorkerOptions& options, std::int64_t longest_webhook_timeout_ms, LeaseCovers covers)
{
  // A lease covers a few rounds of attempts to the same URL that all run to
  // their timeout, plus the attempt itself. What waits longer (an endpoint
  // that turned slow under a deep queue) is given back, not sent: a lease
  // that expired mid-attempt would let another process send it too. The
  // forward timeout counts only for forwards: a 2 s webhook's deliveries
  // are free again a minute after a crash, not three.
  std::int64_t longest = longest_webhook_timeout_ms;
  if (covers == LeaseCovers::forwards_too) longest = std::max<std::int64_t>(longest, options.forward_timeout.count());
  return options.lease_rounds * longest + options.lease_slack.count();
}

store::ClaimLease Worker::lease(store::Store& store) const
{
  // Unreadable, the longest webhook timeout is unknown: the forward
  // timeout (30 s) stands in, as it always counted before.
  auto read = store::max_webhook_timeout_ms(store);
  const auto longest = read ? *read : m_options.forward_timeout.count();
  return {lease_length_ms(m_options, longest, LeaseCovers::webhooks),
          lease_length_ms(m_options, longest, LeaseCovers::forwards_too), m_lease_owner.load(std::memory_order_relaxed)};
}

store::FanOutLease Worker::lease_for_fan_out(store::Store& writer_store, std::int64_t now_ms)
{
  int room = 0;
  std::size_t bytes = 0;
  {
    std::lock_guard lock(m_mutex);
    m_handing_over = true;  // until take_handed: see idle()
    room = m_stopping ? 0 : k_max_handed - m_handed;
    bytes = m_handed_bytes < k_max_handed_bytes ? k_max_handed_bytes - m_handed_bytes : 0;
  }
  // Accepts on the writer thread within this one transaction: a count of
  // its own is enough (a redone transaction asks again).
  auto left = std::make_shared<int>(room);
  // The fan-out makes webhook deliveries only (forwards are made at ingestion).
  return {now_ms + lease(writer_store).webhooks_ms, [left](const std::string&) { return (*left)-- > 0; }, bytes,
          m_lease_owner.load(std::memory_order_relaxed)};
}

void Worker::take_handed(std::vector<store::LeasedDelivery> deliveries)
{
  // One shared payload per event, as claim_batch makes them; each delivery
  // counts its body (an overcount when an event has several).
  std::vector<Handed> handed;
  handed.reserve(deliveries.size());
  std::unordered_map<const store::Event*, std::shared_ptr<const Result<store::Event>>> payloads;
  for (auto& d : deliveries) {
    Handed h{std::move(d.delivery), nullptr, 0};
    if (d.payload) {
      auto& payload = payloads[d.payload.get()];
      if (!payload) payload = std::make_shared<const Result<store::Event>>(std::move(*d.payload));
      h.payload = payload;
      h.bytes = (*payload)->body.size();
    }
    handed.push_back(std::move(h));
  }
  bool stopping = false;
  bool notify = false;
  {
    std::lock_guard lock(m_mutex);
    m_handing_over = false;
    stopping = m_stopping;
    if (!stopping && !handed.empty()) {
      m_claimed += static_cast<int>(handed.size());
      m_handed += static_cast<int>(handed.size());
      for (auto& h : handed) {
        m_handed_bytes += h.bytes;
        auto& q = m_urls[h.delivery.url];
        q.handed.push_back(std::move(h));
      }
      m_woken = true;
      notify = m_claimer_sleeping;
      m_claimer_sleeping = false;
    }
  }
  if (notify) m_wake.notify_one();
  if (!stopping || handed.empty()) return;
  // Leased after the worker began to stop: free them for the next run.
  m_writer
      .submit([&handed](store::Store& s) -> Result<void> {
        for (const auto& h : handed)
          if (auto r = store::release_lease(s, h.delivery); !r) return r;
        return {};
      }, store::Durability::normal)
      .wait();
}

void Worker::claim_loop()
{
  auto reader = store::Store::open(m_store_path, {store::Durability::normal});
  auto next_claim = std::chrono::steady_clock::now();
  while (true) {
    report_finished();
    if (std::chrono::steady_clock::now() >= m_next_senders_look) look_at_senders();
    int capacity = 0;
    bool want = false;
    bool handed = false;
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) break;
      want = m_woken || std::chrono::steady_clock::now() >= next_claim;
      // Handed-over deliveries are held outside the window: the fan-out
      // bounds them, and they must not keep retries from being claimed.
      capacity = m_options.window - (m_claimed - m_handed);
      handed = m_handed > 0;
      if (want) m_woken = false;
      // From before the claim's leases commit until its jobs count as
      // claimed: the worker is not idle meanwhile (see idle()).
      m_claiming = want && capacity > 0;
    }
    if (want) {
      // Full, or holding back for busy endpoints: either way the next claim
      // is worth making only once an endpoint drains (which wakes us).
      bool limited = capacity <= 0;
      const auto looked = timeutil::now_ms();  // the claim sees what is due by then (or later)
      if ((!limited || handed) && reader) limited = claim_batch(*reader, capacity) || limited;
      {
        std::lock_guard lock(m_mutex);
        m_claiming = false;  // claim_batch has counted what it claimed, if anything
      }
      // Otherwise sleep until the next delivery falls due, new work is
      // announced, or the poll interval passes (work queued by other
      // processes). What was due by `looked` and not claimed is held by
      // someone: its lease's end is what counts for it.
      auto wait = m_options.poll_interval;
      if (reader && !limited)
        if (auto next = store::next_due_ms(*reader, looked); next && *next)
          wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(0, **next - timeutil::now_ms())));
      next_claim = std::chrono::steady_clock::now() + wait;
    }
    std::unique_lock lock(m_mutex);
    if (m_woken || m_stopping || !m_finished.empty()) continue;
    m_claimer_sleeping = true;
    m_wake.wait_until(lock, next_claim, [&] { return m_stopping || m_woken || !m_finished.empty(); });
    m_claimer_sleeping = false;
  }
  hand_back_unsent();
  // Attempts on the wire end within their timeouts; wait for their records.
  while (true) {
    report_finished();
    std::unique_lock lock(m_mutex);
    if (m_claimed == 0) return;
    m_claimer_sleeping = true;
    m_wake.wait_for(lock, 100ms, [&] { return !m_finished.empty(); });
    m_claimer_sleeping = false;
  }
}

bool Worker::claim_batch(store::Store& reader, int capacity)
{
  // Claim no more for one URL than k_claim_rounds times what it may have on
  // the wire: the rest waits ready, so a slot that frees is refilled without
  // a round trip to the store, and the rest of the window stays free for
  // other endpoints. Handed-over deliveries come first (they are leased
  // already); the store is asked for the rest.
  const int per_url_claims = k_claim_rounds * m_per_url.load(std::memory_order_relaxed);
  std::vector<store::Delivery> handed;
  std::vector<std::shared_ptr<const Result<store::Event>>> handed_payloads;  // one per handed delivery
  std::unordered_map<std::string, int> held;
  {
    std::lock_guard lock(m_mutex);
    for (auto& [url, q] : m_urls) {
      int& h = held[url];
      h = q.sending + static_cast<int>(q.ready.size());
      while (h < per_url_claims && !q.handed.empty()) {
        auto& next = q.handed.front();
        handed.push_back(std::move(next.delivery));
        handed_payloads.push_back(std::move(next.payload));
        m_handed_bytes -= next.bytes;
        q.handed.pop_front();
        --m_handed;
        ++h;
      }
      h += static_cast<int>(q.handed.size());
    }
  }
  // They need no writer: they go out before the store is asked, which
  // waits for the writer (behind a checkpoint, tens of milliseconds, while
  // nothing refilled the ready queues and sending stopped).
  const bool supplied = !handed.empty();
  if (supplied) start_claimed(reader, std::move(handed), handed_payloads, 0);
  if (capacity <= 0) return true;
  // While the fan-out keeps this worker supplied, the store is asked only
  // every k_store_claim_interval: deliveries due there (retries, or what
  // the fan-out made past its hand-over bound) wait at most that long.
  const auto now = std::chrono::steady_clock::now();
  if (supplied && now < m_next_store_claim) return true;  // cut short: asked again as endpoints drain
  m_next_store_claim = now + k_store_claim_interval;

  int refused = 0;
  auto accept = [&](const std::string& url) {
    bool ok = ++held[url] <= per_url_claims;
    refused += ok ? 0 : 1;
    return ok;
  };
  std::vector<store::Delivery> due;
  auto now_ms = timeutil::now_ms();
  // With the write lock shared: other processes' claims pass over the rows
  // this one holds (SKIP LOCKED), so several senders claim at once.
  m_writer
      .submit([&](store::Store& s) -> Result<void> {
        auto r = store::claim_due_deliveries(s, now_ms, capacity, lease(s), accept);
        if (!r) return std::unexpected(r.error());
        due = std::move(*r);
        return {};
      }, store::Durability::normal, store::WriteLock::shared)
      .wait();
  const int from_store = static_cast<int>(due.size());
  const bool limited = from_store == capacity || refused > 0;
  if (!due.empty()) start_claimed(reader, std::move(due), {}, from_store);
  return limited;
}

void Worker::start_claimed(store::Store& reader, std::vector<store::Delivery> claimed,
                           const std::vector<std::shared_ptr<const Result<store::Event>>>& payloads_read,
                           int from_store)
{
  // Read what the batch needs once: a fan-out makes several deliveries of
  // one event, and most deliveries share a few webhooks. Webhooks are read
  // fresh per batch, so an edit or a disable applies from the next batch.
  // Forwards send the event's stored headers; webhooks only its payload
  // and the envelope built from it, kept together in one entry per event.
  struct Payload {
    std::shared_ptr<const Result<store::Event>> event;
    std::shared_ptr<const std::string> envelope;  // null when the event could not be read
  };
  std::unordered_map<std::string, Payload> payloads;
  // What the fan-out handed over with its deliveries needs no read.
  for (std::size_t i = 0; i < payloads_read.size(); ++i)
    if (payloads_read[i] && claimed[i].kind == "webhook") {
      auto& payload = payloads[claimed[i].event_id];
      if (!payload.event) payload.event = payloads_read[i];
    }
  std::unordered_map<std::string, std::shared_ptr<const Result<store::Event>>> events;
  std::unordered_map<std::string, std::shared_ptr<const Result<store::Webhook>>> webhooks;
  std::vector<JobPtr> jobs;
  jobs.reserve(claimed.size());
  auto read_jobs = [&] {
    for (auto& d : claimed) {
      auto job = std::make_shared<Job>();
      if (d.kind == "webhook" && !d.webhook_id.empty()) {
        auto& payload = payloads[d.event_id];
        if (!payload.event)
          payload.event = std::make_shared<const Result<store::Event>>(store::get_event_payload(reader, d.event_id));
        // The envelope is the same bytes on every attempt: build it here, so
        // the thread that sends only signs.
        if (!payload.envelope && *payload.event)
          payload.envelope = std::make_shared<const std::string>(envelope_body(**payload.event));
        job->event = payload.event;
        job->envelope = payload.envelope;
        auto& webhook = webhooks[d.webhook_id];
        if (!webhook)
          webhook = std::make_shared<const Result<store::Webhook>>(store::get_webhook(reader, d.webhook_id));
        job->webhook = webhook;
        // Queued by where it will go: the webhook's URL now (see prepare_attempt).
        if (*webhook && !(*webhook)->url.empty()) d.url = (*webhook)->url;
      } else {
        auto& event = events[d.event_id];
        if (!event) event = std::make_shared<const Result<store::Event>>(store::get_event(reader, d.event_id));
        job->event = event;
        if (*event && (*event)->source != "local") job->source = m_sources.lookup((*event)->source, timeutil::now_ms());
      }
      job->delivery = std::move(d);
      jobs.push_back(std::move(job));
    }
  };
  // In one read transaction. Should one fail to start, the reads run on
  // their own: every claimed delivery must become a job (or its lease
  // would hold it until it expires), and a read that fails fails its job.
  bool read = false;
  (void)store::read_snapshot(reader, [&]() -> Result<void> {
    read = true;
    read_jobs();
    return {};
  });
  if (!read) read_jobs();
  std::vector<JobPtr> startable, expired;
  {
    std::lock_guard lock(m_mutex);
    // A fresh read that finds a webhook active again (re-enabled after its
    // 410) supersedes what this worker remembered.
    for (const auto& [id, webhook] : webhooks)
      if (*webhook && (*webhook)->active && m_gone.erase(id) > 0) m_withdraw.erase(id);
    m_claimed += from_store;  // handed-over ones were counted when handed
    if (from_store > 0) m_claiming = false;  // counted now (see idle())
    for (auto& job : jobs) m_urls[job->delivery.url].ready.push_back(job);
    for (const auto& job : jobs) take_startable(job->delivery.url, startable, expired);
  }
  give_back(expired);
  for (const auto& job : startable) start_job(job);
}

void Worker::take_startable(const std::string& url, std::vector<JobPtr>& out, std::vector<JobPtr>& expired)
{
  auto it = m_urls.find(url);
  if (it == m_urls.end()) return;
  auto& q = it->second;
  const auto now = timeutil::now_ms();
  while (q.sending < m_per_url.load(std::memory_order_relaxed) && !q.ready.empty()) {
    auto job = std::move(q.ready.front());
    q.ready.pop_front();
    // The attempt's deadline starts when it is sent (the timeout
    // prepare_attempt will give it: the webhook's own, or the forwards').
    const std::int64_t timeout = job->webhook && *job->webhook ? (*job->webhook)->timeout_ms
                                                                : m_options.forward_timeout.count();
    if (outlives_lease(*job, now, timeout)) {
      expired.push_back(std::move(job));
      continue;
    }
    ++q.sending;
    if (job->webhook && *job->webhook) {
      const auto& id = (*job->webhook)->id;
      if (auto gone = m_gone.find(id); gone != m_gone.end() && (*job->webhook)->active) {
        // Claimed before its webhook answered 410: skip it, as the next
        // read of the webhook would.
        auto disabled = **job->webhook;
        disabled.active = false;
        disabled.disabled_reason = gone->second;
        job->webhook = std::make_shared<const Result<store::Webhook>>(std::move(disabled));
      }
      auto& flag = m_withdraw[id];
      if (!flag) flag = std::make_shared<std::atomic<bool>>(false);
      job->withdrawn = flag;
    }
    out.push_back(std::move(job));
  }
}

bool Worker::outlives_lease(const Job& job, std::int64_t now_ms, std::int64_t timeout_ms) const
{
  // It must end before the lease does, with a margin for recording it.
  return now_ms + timeout_ms + m_options.lease_margin.count() > job.delivery.lease_until_ms;
}

void Worker::start_job(const JobPtr& job)
{
  // The job lends its delivery to the input and takes it back: no copy of
  // its strings per attempt.
  AttemptInput input;
  input.delivery = std::move(job->delivery);
  input.envelope = job->envelope.get();
  input.forward_signing.source = job->source;
  job->prepared = prepare_attempt(input, *job->event, job->webhook.get(),
                                  m_forward_policy);
  job->delivery = std::move(input.delivery);
  if (!job->prepared.request) {
    sent(job, nullptr);
    return;
  }
  job->prepared.request->withdrawn = job->withdrawn;
  if (!job->prepared.result.attempt.url.starts_with("https://")) {
    // The client owns the request now; its headers come back with the outcome.
    auto request = std::move(*job->prepared.request);
    job->prepared.request.reset();
    m_async->send(std::move(request), [this, job](http::SendOutcome outcome) { sent(job, &outcome); });
    return;
  }
  // TLS goes through the blocking client, on threads started on first use.
  {
    std::lock_guard lock(m_mutex);
    m_https.push_back(job);
    if (!m_https_started) {
      m_https_started = true;
      for (int i = 0; i < m_options.threads; ++i) m_https_senders.emplace_back([this] { https_loop(); });
    }
  }
  m_https_cv.notify_one();
}

void Worker::https_loop()
{
  while (true) {
    JobPtr job;
    {
      std::unique_lock lock(m_mutex);
      m_https_cv.wait(lock, [&] { return m_stopping || !m_https.empty(); });
      if (m_stopping) return;  // what is still queued is handed back
      job = std::move(m_https.front());
      m_https.pop_front();
    }
    // The blocking client's deadline starts now, not when the job queued
    // for a thread: check the lease again.
    if (outlives_lease(*job, timeutil::now_ms(), job->prepared.request->timeout.count())) {
      std::vector<JobPtr> unsent{job};
      free_slot(job);
      give_back(unsent);
      continue;
    }
    http::SendOutcome outcome;
    if (const auto& w = job->prepared.request->withdrawn; w && w->load(std::memory_order_acquire))
      outcome.withdrawn = true;  // its webhook answered 410 while it waited for a thread
    else
      outcome = m_clients.send(*job->prepared.request);
    sent(job, &outcome);
  }
}

void Worker::sent(const JobPtr& job, http::SendOutcome* outcome)
{
  if (outcome && outcome->withdrawn) {
    std::string reason;
    {
      std::lock_guard lock(m_mutex);
      if (auto gone = m_gone.find(job->prepared.result.webhook_id); gone != m_gone.end()) reason = gone->second;
    }
    skip_attempt(job->prepared, store::skipped_because(reason));
  } else if (outcome) {
    conclude_attempt(job->prepared, std::move(*outcome));
  }
  if (const auto& reason = job->prepared.result.disable_reason; !reason.empty()) {
    std::lock_guard lock(m_mutex);
    // Only the first 410 names the time; later answers say no more.
    m_gone.try_emplace(job->prepared.result.webhook_id, reason);
    if (auto flag = m_withdraw.find(job->prepared.result.webhook_id); flag != m_withdraw.end())
      flag->second->store(true, std::memory_order_release);
  }
  free_slot(job);
  // The attempt log may be redone after a power loss (at-least-once), so it
  // shares commits without forcing an fsync of its own; no thread waits, so
  // it may also wait a moment for other attempts to share the commit. The
  // write lock is shared: what it changes is the claimed delivery's row and
  // rows of its own, each write conditional (see record_attempt,
  // note_webhook_health, disable_webhook), so other senders' attempts
  // commit alongside.
  m_writer.submit([job](store::Store& s) { return record_result(s, job->prepared.result); }, store::Durability::normal,
                  [this, job](Result<void> r) { recorded(job, r.has_value()); }, store::Latency::relaxed,
                  store::WriteLock::shared);
}

void Worker::free_slot(const JobPtr& job)
{
  std::vector<JobPtr> next, expired;
  bool notify = false;
  {
    std::lock_guard lock(m_mutex);
    const auto& url = job->delivery.url;
    if (auto it = m_urls.find(url); it != m_urls.end()) {
      auto& q = it->second;
      --q.sending;
      take_startable(url, next, expired);
      // Claim again once this URL is down to half of what it may hold, not
      // after every attempt: one claim transaction then serves many
      // deliveries, and what is still ready keeps the endpoint busy while
      // it runs.
      if (static_cast<int>(q.ready.size()) <= k_claim_rounds / 2 * m_per_url.load(std::memory_order_relaxed)) {
        m_woken = true;
        notify = m_claimer_sleeping;
        m_claimer_sleeping = false;  // one wake-up is enough
      }
      if (q.sending <= 0 && q.ready.empty() && q.handed.empty()) m_urls.erase(it);
    }
  }
  if (notify) m_wake.notify_one();
  give_back(expired);
  for (const auto& n : next) start_job(n);
}

void Worker::recorded(const JobPtr& job, bool ok)
{
  // On the writer thread: only hand over; reporting happens on the claim loop.
  bool notify = false;
  {
    std::lock_guard lock(m_mutex);
    m_finished.push_back({job, ok});
    notify = m_claimer_sleeping;
    m_claimer_sleeping = false;  // one wake-up is enough
  }
  if (notify) m_wake.notify_one();
}

void Worker::report_finished()
{
  std::deque<Finished> done;
  {
    std::lock_guard lock(m_mutex);
    done.swap(m_finished);
  }
  if (done.empty()) return;
  // An attempt that could not be recorded keeps its lease; it is sent again
  // once the lease expires.
  // The job is finished: its parts move into the report instead of copying.
  if (m_on_attempt)
    for (const auto& f : done)
      if (f.recorded) {
        auto& result = f.job->prepared.result;
        m_on_attempt({std::move(f.job->delivery), std::move(result.attempt), std::move(result.update),
                      std::move(result.disabled_webhook)});
      }
  std::lock_guard lock(m_mutex);
  settle(static_cast<int>(done.size()));
}

void Worker::settle(int finished)
{
  m_claimed -= finished;
  if (m_claimed == 0 && finished > 0) {
    ++m_idle_epoch;
    m_idle_cv.notify_all();
  }
}

void Worker::give_back(std::vector<JobPtr>& jobs)
{
  if (jobs.empty()) return;
  // Their leases end too soon to cover an attempt: release them (due again
  // as before the claim), to be claimed afresh with a new lease. Nothing is
  // recorded; the jobs count as finished once the release commits.
  auto released = std::make_shared<std::vector<JobPtr>>(std::move(jobs));
  jobs.clear();
  m_writer.submit(
      [released](store::Store& s) -> Result<void> {
        for (const auto& job : *released)
          if (auto r = store::release_lease(s, job->delivery); !r) return r;
        return {};
      },
      store::Durability::normal,
      [this, released](Result<void>) {
        // Should the release fail, the leases simply run out.
        bool notify = false;
        {
          std::lock_guard lock(m_mutex);
          for (const auto& job : *released) m_finished.push_back({job, false});
          notify = m_claimer_sleeping;
          m_claimer_sleeping = false;
        }
        if (notify) m_wake.notify_one();
      },
      store::Latency::relaxed);
}

void Worker::hand_back_unsent()
{
  std::vector<store::Delivery> unsent;
  {
    std::lock_guard lock(m_mutex);
    for (auto& [url, q] : m_urls) {
      for (const auto& job : q.ready) unsent.push_back(job->delivery);
      q.ready.clear();
      for (auto& h : q.handed) unsent.push_back(std::move(h.delivery));
      q.handed.clear();
    }
    m_handed = 0;
    m_handed_bytes = 0;
    for (const auto& job : m_https) {
      unsent.push_back(job->delivery);
      if (auto it = m_urls.find(job->delivery.url); it != m_urls.end()) --it->second.sending;
    }
    m_https.clear();
    settle(static_cast<int>(unsent.size()));
  }
  if (unsent.empty()) return;
  // Claimed but never sent: hand the leases back so the next run (or
  // another process) can send them at once.
  m_writer
      .submit([&unsent](store::Store& s) -> Result<void> {
        for (const auto& d : unsent)
          if (auto r = store::release_lease(s, d); !r) return r;
        return {};
      }, store::Durability::normal)
      .wait();
}

} // namespace centrali::delivery

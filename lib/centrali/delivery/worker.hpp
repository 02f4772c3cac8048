#pragma once
// The delivery worker: takes due deliveries from the store (the queue) in
// batches, sends them, records every attempt, and schedules retries.
// Threads: one claims (and reads each batch's events and webhooks once),
// the event-driven HTTP client sends every http:// attempt, a pool sends
// https:// ones through the blocking TLS client, and the group committer
// records attempts with a completion callback (no thread waits per
// attempt). Leases in the store keep a delivery from being in flight twice,
// across threads and across processes; a crashed holder's lease expires.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "centrali/delivery/attempt.hpp"
#include "centrali/http/async_client.hpp"
#include "centrali/http/client.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/sender_lock.hpp"

namespace centrali::delivery {

// Default retry delays for forwards to the app under development: short
// at first (the app is usually restarting), then backing off to an hour.
std::vector<std::chrono::milliseconds> default_forward_schedule();

struct WorkerOptions {
  // Threads for https:// targets, which go through the blocking TLS client;
  // http:// targets share one event-driven client and need none.
  int threads = 48;
  // At most this many attempts to one URL at once, so a slow or dead
  // endpoint cannot take every sender from the healthy ones. On a
  // PostgreSQL store the processes sending from it share it: each takes
  // its part (at least one).
  int per_url = 24;
  // Keep-alive connections to one origin (host:port) for http:// targets;
  // attempts beyond wait for one to free. Many receivers run a thread per
  // connection (cpp-httplib: 8 by default): a connection beyond their
  // threads is not read until another idles out, so more is slower.
  int connections_per_origin = 8;
  // Deliveries claimed at once (waiting, in flight or being recorded): room
  // for one URL's claimed rounds (see k_claim_rounds) plus the attempts
  // that wait for the writer meanwhile.
  int window = 2048;
  std::vector<std::chrono::milliseconds> forward_schedule = default_forward_schedule();
  std::chrono::milliseconds forward_timeout{30'000};
  std::chrono::milliseconds poll_interval{500};  // picks up work queued by other processes
  // A claim's lease covers `lease_rounds` attempts to one URL that all run
  // to the longest timeout, plus `lease_slack`. An attempt starts only if
  // it would end, timeout and all, `lease_margin` before its lease does;
  // what waited longer (queued behind an endpoint that turned slow) is given
  // back unsent and claimed afresh. So no delivery is ever sent on a lease
  // another process may already have taken over, and a crashed holder's
  // deliveries are free again within a few minutes however deep it queued.
  int lease_rounds = 4;
  std::chrono::milliseconds lease_slack{60'000};
  std::chrono::milliseconds lease_margin{5'000};
};

// What a lease covers: webhook deliveries only, or a forward too.
enum class LeaseCovers { webhooks, forwards_too };

// How long a lease lasts (the one rule; README "The queue is the store"):
// `lease_rounds` attempts that all run to the longest timeout among what it
// covers, plus `lease_slack`. The longest is every webhook's --timeout
// (`longest_webhook_timeout_ms`) and, only when it covers a forward, the
// forward timeout.
std::int64_t lease_length_ms(const WorkerOptions& options, std::int64_t longest_webhook_timeout_ms, LeaseCovers covers);

// What the worker reports after each attempt (for logs).
struct AttemptReport {
  store::Delivery delivery;
  store::Attempt attempt;
  store::DeliveryUpdate update;
  std::string disabled_webhook;  // why this attempt turned the delivery's webhook off, if it did
};

class Worker {
public:
  Worker(store::GroupCommitter& writer, std::filesystem::path store_path, WorkerOptions options,
         std::function<void(const AttemptReport&)> on_attempt);
  ~Worker();

  // Joins the store's senders (see SenderLock); when no other process is
  // one, first frees the leases that dead ones left, so their deliveries go
  // out now instead of when the leases end.
  void start();
  // Starts with the store's sender lock already held: when `held` is
  // alone() it stays exclusive, so no other process sends until stop().
  void start(store::SenderLock held);
  // Finishes attempts in flight (bounded by their timeouts) and stops;
  // claimed deliveries not yet sent are handed back.
  void stop();
  // New work may be due: look now instead of at the next poll.
  void wake();
  // Nothing claimed is waiting, in flight or being recorded, and no claim
  // is under way. Read the store's queue before asking: what a claim takes
  // after this answers true was due when the queue was read.
  bool idle();
  // Counts the times the worker went idle (its last claimed delivery
  // finished). With wait_idle_after, a caller that polls for the end of the
  // work (`dispatch --until-idle`) hears of it at once instead of at its
  // next poll.
  std::uint64_t idle_epoch();
  // Waits until the worker goes idle again after `epoch` (true), or for
  // `timeout` (false).
  bool wait_idle_after(std::uint64_t epoch, std::chrono::milliseconds timeout);
  // For the fan-out in this process: fresh deliveries come to the worker
  // already leased, up to a bound, instead of each being claimed later.
  store::DeliveryHandOff hand_off();
  // The name this process's leases carry (store::SenderLock::owner), for
  // whatever else it claims (runs, automation runs); 0 before start().
  std::int64_t lease_owner() const { return m_lease_owner.load(std::memory_order_relaxed); }

  struct Job;
  using JobPtr = std::shared_ptr<Job>;

private:
  // Per target URL: attempts on the wire, and claimed ones waiting for a slot.
  struct Handed {
    store::Delivery delivery;
    std::shared_ptr<const Result<store::Event>> payload;  // as the fan-out read it; null: read when taken
    std::size_t bytes = 0;                                 // counted against k_max_handed_bytes
  };
  struct UrlQueue {
    int sending = 0;
    std::deque<JobPtr> ready;
    // Handed over by the fan-out, leased: they become jobs as claims do,
    // when the URL has room for them.
    std::deque<Handed> handed;
  };
  struct Finished {
    JobPtr job;
    bool recorded = false;
  };

  // Frees leases of senders that are gone: every lease in the store (for a
  // sender that started alone), or those of senders seen to leave.
  enum class Freeing { all, departed_senders };
  void free_leases(Freeing which);
  // Counts the processes sending from the store, sets this one's share of
  // the per-URL cap (m_per_url), and frees the leases of any seen to leave.
  void look_at_senders();
  void start_threads();
  void claim_loop();
  // Takes handed-over deliveries for URLs with room, claims up to
  // `capacity` more from the store, reads their events and starts them;
  // true when the claim was cut short by the window or by busy URLs.
  bool claim_batch(store::Store& reader, int capacity);
  // Reads what `claimed` needs (`payloads_read`, one per leading entry,
  // may hold what the fan-out read already), makes them jobs and starts
  // what their URLs have room for. `from_store` of them were claimed from
  // the store just now (handed-over ones are counted when handed).
  void start_claimed(store::Store& reader, std::vector<store::Delivery> claimed,
                     const std::vector<std::shared_ptr<const Result<store::Event>>>& payloads_read, int from_store);
  store::FanOutLease lease_for_fan_out(store::Store& writer_store, std::int64_t now_ms);
  void take_handed(std::vector<store::LeasedDelivery> deliveries);
  // How long a claim's (or a hand-over's) lease lasts (see lease_length_ms).
  store::ClaimLease lease(store::Store& store) const;
  void https_loop();
  // Moves ready jobs of `url` to the wire while it has free slots (lock
  // held); jobs whose lease would end before their attempt go to `expired`.
  void take_startable(const std::string& url, std::vector<JobPtr>& out, std::vector<JobPtr>& expired);
  // An attempt of `job` started at `now_ms` could still run when its lease
  // ends: it must not be sent.
  bool outlives_lease(const Job& job, std::int64_t now_ms, std::int64_t timeout_ms) const;
  // Releases the leases of claimed jobs that will not be sent.
  void give_back(std::vector<JobPtr>& jobs);
  void start_job(const JobPtr& job);
  // An attempt came back (`outcome` is taken apart), or failed before
  // sending (null): frees its slot, starts the next, records it.
  void sent(const JobPtr& job, http::SendOutcome* outcome);
  // The job's URL has a free slot again: starts the next ready jobs.
  void free_slot(const JobPtr& job);
  void recorded(const JobPtr& job, bool ok);
  void hand_back_unsent();
  void report_finished();
  // `finished` claimed deliveries are done with (lock held).
  void settle(int finished);

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  WorkerOptions m_options;
  ForwardPolicy m_forward_policy;  // from m_options, built once
  ingest::SourceKeyCache m_sources;  // forwards sign again with their source's secret
  std::function<void(const AttemptReport&)> m_on_attempt;
  http::ClientPool m_clients;
  std::unique_ptr<http::AsyncClient> m_async;

  std::mutex m_mutex;
  std::condition_variable m_wake;        // claim loop: new work, finished work, or stop
  std::condition_variable m_https_cv;    // https senders: work or stop
  std::condition_variable m_idle_cv;     // wait_idle_after: the worker went idle
  std::unordered_map<std::string, UrlQueue> m_urls;
  std::deque<JobPtr> m_https;            // on the wire for the https senders
  std::deque<Finished> m_finished;       // recorded, not yet reported
  // Webhooks this worker saw answer 410 since their last read: what is
  // already claimed for them is skipped instead of being sent.
  std::unordered_map<std::string, std::string> m_gone;
  // Per webhook, the flag its requests carry (OutboundRequest::withdrawn):
  // set on its 410, so requests still waiting for a connection stay unsent.
  std::unordered_map<std::string, std::shared_ptr<std::atomic<bool>>> m_withdraw;
  int m_claimed = 0;                     // claimed (or handed over) and not yet reported
  int m_handed = 0;                      // handed over, not yet jobs (in UrlQueue::handed)
  std::size_t m_handed_bytes = 0;        // their payloads' bodies
  bool m_handing_over = false;           // a fan-out is leasing deliveries to this worker
  std::uint64_t m_idle_epoch = 0;        // times m_claimed fell to 0
  bool m_claiming = false;               // a claim is under way (see idle())
  std::chrono::steady_clock::time_point m_next_store_claim{};  // claim loop only
  bool m_woken = false;
  bool m_claimer_sleeping = false;
  bool m_stopping = false;
  bool m_https_started = false;
  std::optional<store::SenderLock> m_sender_lock;  // held while this worker may send
  // This process's share of WorkerOptions::per_url: the cap divided among
  // the processes sending from the store, so that it holds across them.
  // Counted at start and then by the claim loop (k_senders_look_interval).
  std::atomic<int> m_per_url{1};
  std::atomic<std::int64_t> m_lease_owner{0};  // this sender's SenderLock::owner, named in its leases
  std::chrono::steady_clock::time_point m_next_senders_look{};  // claim loop only
  std::thread m_claimer;
  std::vector<std::thread> m_https_senders;
};

} // namespace centrali::delivery

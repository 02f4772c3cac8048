#include "centrali/ingest/ingestor.hpp"

#include "centrali/util/time.hpp"

namespace centrali::ingest {

Ingestor::Ingestor(store::GroupCommitter& writer, std::filesystem::path store_path, IngestOptions options,
                   std::function<void(bool)> on_accepted)
    : m_writer(writer), m_options(std::move(options)), m_on_accepted(std::move(on_accepted)),
      m_sources(std::move(store_path), m_options.source_cache_ms)
{
}

Ingestor::~Ingestor() = default;

struct Ingestor::Batch {
  std::vector<Pending> requests;
  std::vector<Result<void>> results;  // each request's, when stored one by one
  bool one_by_one = false;
};

void Ingestor::handle(http::Request& req, http::Server::Reply reply)
{
  const auto now_ms = timeutil::now_ms();
  auto reception = std::make_shared<Reception>(receive(
      req, {m_options.forward_to, m_options.max_header_bytes},
      [this, now_ms](const std::string& name) { return m_sources.lookup(name, now_ms); }, now_ms));
  if (reception->store_unavailable) {
    reply(answer(*reception, {}));
    return;
  }
  queue(std::move(reception), std::move(reply));
}

void Ingestor::queue(std::shared_ptr<Reception> reception, http::Server::Reply reply)
{
  const bool accepted = reception->event.status == "accepted";
  Waiting& waiting = accepted ? m_accepted : m_refused;
  {
    std::lock_guard lock(m_mutex);
    waiting.requests.push_back({std::move(reception), std::move(reply)});
    if (waiting.queued) return;  // the queued work will take this one too
    waiting.queued = true;
  }
  auto batch = std::make_shared<Batch>();
  // The work takes what waits when the writer runs it, so every request
  // that came while the writer was busy shares its statement and commit.
  // Run again (a failing neighbour, a lock), it stores the same requests.
  auto take = [this, &waiting, batch] {
    if (!batch->requests.empty()) return;
    std::lock_guard lock(m_mutex);
    batch->requests.swap(waiting.requests);
    waiting.queued = false;
  };
  m_writer.submit(
      [take, batch](store::Store& store) {
        take();
        return store_batch(store, *batch);
      },
      accepted ? store::Durability::full : store::Durability::normal,
      [this, take, batch](Result<void> committed) {
        take();  // the work never ran (the writer stopping, or locked out): the failure is theirs too
        answer_batch(*batch, committed);
      },
      // Its statements insert given values (a repeated delivery id's lookup
      // is planned afresh all the same): plans kept.
      store::Latency::prompt, store::WriteLock::shared, store::Planning::once);
}

Result<void> Ingestor::store_batch(store::Store& store, Batch& batch)
{
  if (!batch.one_by_one) {
    std::vector<Reception*> receptions;
    receptions.reserve(batch.requests.size());
    for (auto& p : batch.requests) receptions.push_back(p.reception.get());
    auto stored = store_receptions(store, receptions);
    // The writer rolls back and runs the work again; then each request is
    // stored on its own, so one that cannot be fails alone. Not for a lock
    // or a server out of reach: every request waits for those alike.
    if (!stored && stored.error().fault != StoreFault::locked && stored.error().fault != StoreFault::unavailable)
      batch.one_by_one = true;
    return stored;
  }
  batch.results.clear();
  for (auto& p : batch.requests) {
    store.statement("SAVEPOINT reception").exec();
    auto stored = store_reception(store, *p.reception);
    if (!stored) store.statement("ROLLBACK TO reception").exec();
    store.statement("RELEASE reception").exec();
    batch.results.push_back(std::move(stored));
  }
  return {};
}

void Ingestor::answer_batch(Batch& batch, const Result<void>& committed)
{
  for (std::size_t i = 0; i < batch.requests.size(); ++i) {
    auto& [reception, reply] = batch.requests[i];
    const auto& stored = committed && i < batch.results.size() ? batch.results[i] : committed;
    auto res = answer(*reception, stored);
    // Wakes the fan-out (and the sender, for a forward) only once the event
    // is committed and can be read.
    if (stored && reception->event.status == "accepted" && m_on_accepted) m_on_accepted(!reception->forward_to.empty());
    reply(std::move(res));
  }
}

} // namespace centrali::ingest

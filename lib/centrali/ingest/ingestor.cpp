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
  // Only an accepted event is acknowledged with a 2xx that promises it is on
  // disk; rejections are recorded for inspection without forcing an fsync,
  // so a flood of bad requests cannot slow down good ones.
  auto durability = reception->event.status == "accepted" ? store::Durability::full : store::Durability::normal;
  Reception* raw = reception.get();
  // `reception` lives in the completion, which runs after the work (even
  // when a failing batch neighbour makes the work run twice) and frees it.
  m_writer.submit([raw](store::Store& store) { return store_reception(store, *raw); }, durability,
                  [this, reception = std::move(reception), reply = std::move(reply)](Result<void> committed) mutable {
                    auto res = answer(*reception, committed);
                    // Wakes the fan-out (and the sender, for a forward) only
                    // once the event is committed and can be read.
                    if (committed && reception->event.status == "accepted" && m_on_accepted)
                      m_on_accepted(!reception->forward_to.empty());
                    reply(std::move(res));
                  });
}

} // namespace centrali::ingest

#pragma once
// `POST /ingest/<source>`: verify the request on its raw bytes with the
// source's scheme, store it (accepted, rejected or duplicate) through the
// group committer, and answer only after the commit, so a 202 means the
// event is on disk.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "centrali/http/server.hpp"
#include "centrali/ingest/reception.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/sources.hpp"

namespace centrali::ingest {

struct IngestOptions {
  std::string forward_to;                   // for sources without their own forward target
  std::size_t max_header_bytes = 64 * 1024;
  std::int64_t source_cache_ms = 100;       // how soon `sources rm` reaches a running listener (add: at once)
};

class Ingestor {
public:
  // `store_path` is read (with a connection of its own) to look up sources.
  // `on_accepted(forwarded)` runs after the commit of an accepted event
  // (`forwarded`: a forward was queued too).
  Ingestor(store::GroupCommitter& writer, std::filesystem::path store_path, IngestOptions options,
           std::function<void(bool forwarded)> on_accepted);
  ~Ingestor();

  // Verifies on the caller's thread (an event loop), then replies from the
  // writer thread once the request's record is committed.
  void handle(http::Request& request, http::Server::Reply reply);

private:
  struct Pending {
    std::shared_ptr<Reception> reception;
    http::Server::Reply reply;
  };
  // Requests waiting for the store writer, and whether work that will take
  // them all is queued there: the writer stores them in one go, with one
  // statement for their events, instead of a statement (on PostgreSQL a
  // round trip) each.
  struct Waiting {
    std::vector<Pending> requests;
    bool queued = false;
  };
  struct Batch;
  void queue(std::shared_ptr<Reception> reception, http::Server::Reply reply);
  static Result<void> store_batch(store::Store& store, Batch& batch);
  void answer_batch(Batch& batch, const Result<void>& committed);

  store::GroupCommitter& m_writer;
  IngestOptions m_options;
  std::function<void(bool)> m_on_accepted;
  SourceKeyCache m_sources;
  std::mutex m_mutex;
  // Accepted events are fsynced before their answer; refusals are kept for
  // inspection without a commit of their own, so that a flood of bad
  // requests cannot slow down good ones.
  Waiting m_accepted;  // under m_mutex
  Waiting m_refused;   // under m_mutex
};

} // namespace centrali::ingest

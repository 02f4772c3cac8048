#pragma once
// Telling the processes on a store that there is new work in it, so that
// their idle parts (fan-out, senders, trigger runs, automations) wake at
// once instead of at their next look. PostgreSQL carries the news (NOTIFY,
// LISTEN), from any machine. A SQLite file has no such signal: processes
// on it look every 250 ms, and a listener wakes its own parts directly.
#include <chrono>
#include <memory>
#include <string>

#include "centrali/util/error.hpp"

namespace centrali::store {

class Store;

// Says, within the caller's transaction, that it made work for others:
// heard by every watch when (and only if) the transaction commits.
void announce_work(Store& store);

// The same for work a command has committed (a run it queued), outside
// any transaction: the processes already running take it now rather than
// at their next look. A failure is not reported: the work is in the store
// all the same, and they find it at that look.
void announce_committed_work(Store& store);

class WorkWatch {
public:
  virtual ~WorkWatch() = default;
  // Until news arrives or `timeout` passes: true when some did (all of it
  // is taken). Also true when the watch had to start again after losing
  // its server, since news may have been missed meanwhile.
  virtual bool wait(std::chrono::milliseconds timeout) = 0;
};

// A watch on the store at `location`; nullptr for a store that cannot
// carry news (a SQLite file).
Result<std::unique_ptr<WorkWatch>> watch_work(const std::string& location);

} // namespace centrali::store

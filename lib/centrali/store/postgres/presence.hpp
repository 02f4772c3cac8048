#pragma once
// Which processes run on a PostgreSQL store, told by their sessions: what
// store/sender_lock and store/listen_address tell with locked files beside
// a SQLite store. A session ends with its process, however it ends (kill -9
// too, once the server sees the connection drop), and takes its advisory
// locks and its application_name with it.
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrali/store/connection.hpp"
#include "centrali/util/error.hpp"

namespace centrali::store::postgres {

// One process among the senders of a store: a session of its own holding
// the senders' advisory lock (exclusively while `alone`, else shared) and
// a lock naming it, its owner: what the leases it takes hold
// (store::Delivery::lease_owner), so that the others can tell when it is
// gone and free them.
class SenderPresence {
public:
  // Joins: exclusively when nobody else held the senders' lock, else shared
  // (waiting out a sender that still holds it exclusively).
  static Result<SenderPresence> join(const std::string& url);

  bool alone() const { return m_alone; }
  std::int64_t owner() const { return m_owner; }
  // Lets other senders join: the exclusive hold becomes a shared one.
  void share();

  // What one look saw.
  struct Seen {
    std::vector<std::int64_t> owners;  // of the senders running, this one included; empty: no answer
    bool rejoined = false;             // this session had been lost: joined again, perhaps as another owner
  };
  // Reads who sends now. A session lost since the last look (made again by
  // this read) lost its locks with it: it joins again first, shared,
  // keeping its owner while that is free.
  Seen look();

private:
  SenderPresence(std::unique_ptr<Connection> session, bool alone, std::int64_t owner);
  Seen look_once();
  std::vector<std::int64_t> running_owners();

  std::unique_ptr<Connection> m_session;
  std::unique_ptr<Statement> m_running;  // prepared once, on m_session (looked at every 100 ms)
  bool m_alone = false;
  std::int64_t m_owner = 0;
};

// Holds a session named after the listener's URL and this machine.
Result<std::unique_ptr<Connection>> publish_listener(const std::string& url, const std::string& listener_url);
// The URL of the newest listener on this store running on this machine.
std::optional<std::string> running_listener(const std::string& url);

} // namespace centrali::store::postgres

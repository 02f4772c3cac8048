#pragma once
// Which processes run on a PostgreSQL store, told by their sessions: what
// store/sender_lock and store/listen_address tell with locked files beside
// a SQLite store. A session ends with its process, however it ends (kill -9
// too, once the server sees the connection drop), and takes its advisory
// locks and its application_name with it.
#include <memory>
#include <optional>
#include <string>

#include "centrali/store/connection.hpp"
#include "centrali/util/error.hpp"

namespace centrali::store::postgres {

// Joins the store's senders: a session holding the senders' advisory lock,
// exclusively (`alone`) when nobody else held it, else shared (waiting out
// a sender that still holds it exclusively).
struct SenderSession {
  std::unique_ptr<Connection> session;
  bool alone = false;
};
Result<SenderSession> join_senders(const std::string& url);
// Lets other senders join: the exclusive hold becomes a shared one.
void share_senders(Connection& session);
// How many processes send from the store now (this one included), told by
// the sessions holding the senders' lock; 1 when the server cannot say.
int count_senders(Connection& session);

// Holds a session named after the listener's URL and this machine.
Result<std::unique_ptr<Connection>> publish_listener(const std::string& url, const std::string& listener_url);
// The URL of the newest listener on this store running on this machine.
std::optional<std::string> running_listener(const std::string& url);

} // namespace centrali::store::postgres

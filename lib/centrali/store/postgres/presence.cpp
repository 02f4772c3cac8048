#include "centrali/store/postgres/presence.hpp"

#include <unistd.h>

#include <algorithm>

#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/postgres/url.hpp"

namespace centrali::store::postgres {
namespace {

constexpr const char* k_listener_prefix = "centrali-listen ";

std::string this_host()
{
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

bool query_bool(Connection& db, const char* sql)
{
  Statement st(db.prepare(sql));
  st.bind(1, k_senders_lock_key);
  return st.step() && st.column(0).as_int64() != 0;
}

} // namespace

Result<SenderSession> join_senders(const std::string& url)
{
  try {
    SenderSession out;
    out.session = connect(url, Durability::normal);
    out.alone = query_bool(*out.session, k_try_senders_lock);
    if (!out.alone) query_bool(*out.session, k_share_senders_lock);
    return out;
  } catch (const DatabaseError& e) {
    return std::unexpected(
        Error{ErrorKind::store, "store " + redact_postgres_url(url) + ": cannot join its senders: " + e.what(), e.fault()});
  }
}

void share_senders(Connection& session)
{
  try {
    // Shared first, then the exclusive hold goes: a session's own locks
    // never conflict, and no moment passes with no lock held.
    query_bool(session, k_share_senders_lock);
    query_bool(session, k_unlock_senders_lock);
  } catch (const DatabaseError&) {
    // A lost session has dropped both locks: there is nothing left to share.
  }
}

int count_senders(Connection& session)
{
  try {
    Statement st(session.prepare(k_count_senders));
    st.bind(1, k_senders_lock_key);
    return st.step() ? std::max<int>(1, static_cast<int>(st.column(0).as_int64())) : 1;
  } catch (const DatabaseError&) {
    return 1;  // a lost session: its next look will say
  }
}

Result<std::unique_ptr<Connection>> publish_listener(const std::string& url, const std::string& listener_url)
{
  try {
    auto session = connect(url, Durability::normal);
    // The name is what other sessions read in pg_stat_activity. PostgreSQL
    // cuts it at 63 bytes; a cut one simply names no listener.
    Statement st(session->prepare(k_set_application_name));
    st.bind(1, k_listener_prefix + listener_url + " " + this_host());
    st.step();
    return session;
  } catch (const DatabaseError& e) {
    return std::unexpected(Error{ErrorKind::store, "store " + redact_postgres_url(url) + ": " + e.what(), e.fault()});
  }
}

std::optional<std::string> running_listener(const std::string& url)
{
  try {
    auto session = connect(url, Durability::normal);
    Statement st(session->prepare(k_listener_sessions));
    st.bind(1, std::string(k_listener_prefix) + "%");
    const std::string host = " " + this_host();
    // A listener on another machine listens on its own loopback: only one
    // on this machine can be reached at the URL it names.
    while (st.step()) {
      std::string name = st.column(0).as_string().substr(std::string_view(k_listener_prefix).size());
      if (name.size() > host.size() && name.ends_with(host)) return name.substr(0, name.size() - host.size());
    }
  } catch (const DatabaseError&) {
    // No server, no listener to go through: the caller writes to the store.
  }
  return std::nullopt;
}

} // namespace centrali::store::postgres

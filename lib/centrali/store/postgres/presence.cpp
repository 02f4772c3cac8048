#include "centrali/store/postgres/presence.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>

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

// Takes a lock naming this sender: `wanted` when given and free, else a
// number chosen at random that no other sender holds. Returns the number.
std::int64_t take_owner(Connection& session, std::int64_t wanted)
{
  std::random_device random;
  std::uniform_int_distribution<std::int64_t> any(1, std::numeric_limits<std::int32_t>::max());
  Statement st(session.prepare(k_try_owner_lock));
  st.bind(1, k_sender_owner_class);
  for (int tries = 0; tries < 100; ++tries) {
    const auto owner = wanted != 0 && tries == 0 ? wanted : any(random);
    st.bind(2, static_cast<long long>(owner));
    const bool taken = st.step() && st.column(0).as_int64() != 0;
    st.reset();
    if (taken) return owner;
  }
  throw DatabaseError("no free sender number", StoreFault::none);
}

} // namespace

SenderPresence::SenderPresence(std::unique_ptr<Connection> session, bool alone, std::int64_t owner)
    : m_session(std::move(session)), m_alone(alone), m_owner(owner)
{
}

Result<SenderPresence> SenderPresence::join(const std::string& url)
{
  try {
    auto session = connect(url, Durability::normal);
    const bool alone = query_bool(*session, k_try_senders_lock);
    if (!alone) query_bool(*session, k_share_senders_lock);
    const auto owner = take_owner(*session, 0);
    return SenderPresence(std::move(session), alone, owner);
  } catch (const DatabaseError& e) {
    return std::unexpected(
        Error{ErrorKind::store, "store " + redact_postgres_url(url) + ": cannot join its senders: " + e.what(), e.fault()});
  }
}

void SenderPresence::share()
{
  if (!m_alone) return;
  try {
    // Shared first, then the exclusive hold goes: a session's own locks
    // never conflict, and no moment passes with no lock held.
    query_bool(*m_session, k_share_senders_lock);
    query_bool(*m_session, k_unlock_senders_lock);
  } catch (const DatabaseError&) {
    // A lost session has dropped both locks: the next look joins again.
  }
}

std::vector<std::int64_t> SenderPresence::running_owners()
{
  if (!m_running) {
    m_running = std::make_unique<Statement>(m_session->prepare(k_running_owners));
    m_running->bind(1, k_sender_owner_class);
  }
  std::vector<std::int64_t> owners;
  while (m_running->step()) owners.push_back(m_running->column(0).as_int64());
  m_running->reset();
  return owners;
}

SenderPresence::Seen SenderPresence::look()
{
  // A session lost since the last look fails the first read; the second
  // makes it again (or finds the server still out of reach).
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      return look_once();
    } catch (const DatabaseError& e) {
      if (m_running) m_running->reset();
      if (e.fault() != StoreFault::unavailable) break;
    }
  }
  return {};
}

SenderPresence::Seen SenderPresence::look_once()
{
  Seen seen{running_owners(), false};
  if (std::find(seen.owners.begin(), seen.owners.end(), m_owner) != seen.owners.end()) return seen;
  // The session was made again: the locks went with the old one. Shared:
  // whoever starts alone now frees every lease, this one's too.
  query_bool(*m_session, k_share_senders_lock);
  m_owner = take_owner(*m_session, m_owner);
  return {running_owners(), true};
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

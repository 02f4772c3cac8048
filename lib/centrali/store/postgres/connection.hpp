#pragma once
// The PostgreSQL backend: one libpq session to a store's database. The only
// code that includes libpq; it turns every libpq failure into a
// DatabaseError at its boundary, never showing a password.
#include <memory>
#include <string>

#include "centrali/store/connection.hpp"
#include "centrali/store/work_signal.hpp"

namespace centrali::store::postgres {

// Opens a session to `url` (a libpq URL or conninfo). Unless the URL says
// otherwise, it waits at most 5 s for the server and names itself
// `centrali`. Throws DatabaseError (StoreFault::broken) when the server
// cannot be reached or refuses the login. A statement prepared on the
// connection must not outlive it.
std::unique_ptr<Connection> connect(const std::string& url, Durability durability);

// The channel on which a store's writers announce new work (NOTIFY).
inline constexpr const char* k_work_channel = "centrali_work";

// A session that hears those announcements (LISTEN), from every process on
// the store, its own included.
// Throws DatabaseError as connect does.
std::unique_ptr<WorkWatch> listen_for_work(const std::string& url);

} // namespace centrali::store::postgres

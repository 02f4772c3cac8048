#include "centrali/store/postgres/open.hpp"

#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/postgres/migrations.hpp"
#include "centrali/store/postgres/url.hpp"

namespace centrali::store::postgres {

Result<std::unique_ptr<Connection>> open(const std::string& url, OpenOptions options)
{
  const std::string context = "store " + redact_postgres_url(url);
  try {
    auto db = connect(url, options.durability);
    db->set_lock_wait(options.busy_timeout_ms);
    if (auto r = migrate(*db); !r) return std::unexpected(Error{r.error().kind, context + ": " + r.error().message, r.error().fault});
    return db;
  } catch (const DatabaseError& e) {
    return std::unexpected(Error{ErrorKind::store, context + ": " + e.what(), e.fault()});
  }
}

} // namespace centrali::store::postgres

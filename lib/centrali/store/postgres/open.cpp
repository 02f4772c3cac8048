#include "centrali/store/postgres/open.hpp"

#include "centrali/store/postgres/url.hpp"

namespace centrali::store::postgres {

Result<std::unique_ptr<Connection>> open(const std::string& url, OpenOptions)
{
  return fail(ErrorKind::store, "store " + redact_postgres_url(url) + ": PostgreSQL is not built in yet");
}

} // namespace centrali::store::postgres

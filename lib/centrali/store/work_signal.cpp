#include "centrali/store/work_signal.hpp"

#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/postgres/url.hpp"
#include "centrali/store/store.hpp"

namespace centrali::store {

void announce_work(Store& store)
{
  if (store.backend() != Backend::postgresql) return;
  static const std::string notify = std::string("NOTIFY ") + postgres::k_work_channel;
  store.statement(notify.c_str()).exec();
}

void announce_committed_work(Store& store)
{
  (void)guarded("announce work", [&]() -> Result<void> {
    announce_work(store);
    return {};
  });
}

Result<std::unique_ptr<WorkWatch>> watch_work(const std::string& location)
{
  if (!postgres::is_postgres_url(location)) return nullptr;
  try {
    return postgres::listen_for_work(location);
  } catch (const DatabaseError& e) {
    return std::unexpected(Error{ErrorKind::store,
                                 "store " + postgres::redact_postgres_url(location) + ": " + e.what(), e.fault()});
  }
}

} // namespace centrali::store

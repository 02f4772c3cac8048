#pragma once
// Opening a PostgreSQL store: connect, then migrate.
#include <memory>
#include <string>

#include "centrali/store/store.hpp"

namespace centrali::store::postgres {

Result<std::unique_ptr<Connection>> open(const std::string& url, OpenOptions options);

} // namespace centrali::store::postgres

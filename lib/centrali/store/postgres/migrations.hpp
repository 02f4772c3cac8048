#pragma once
// The versioned schema of a PostgreSQL store. Its versions are SQLite's:
// version 12 is the baseline (a PostgreSQL store never held an older one),
// and each later migration is added to both backends together, so
// `store info` reports one number whichever backend holds the store.
#include <span>

#include "centrali/util/error.hpp"

namespace centrali::store {
class Connection;
}

namespace centrali::store::postgres {

// One step of the schema: the SQL that moves a store from the version before
// it to `version`. Append-only, as for SQLite: never edit one that shipped.
struct Migration {
  int version;
  const char* sql;
};

// Every migration, oldest first.
std::span<const Migration> migrations();

// The version this binary creates and understands; equal to SQLite's
// store::latest_schema_version().
int latest_postgres_schema_version();

// Brings the store behind `db` to the latest version, in one transaction
// under an advisory lock, so that processes opening a new store at once
// migrate it once. Refuses (ErrorKind::store) a store whose version is
// newer than this binary's.
Result<void> migrate(Connection& db);

} // namespace centrali::store::postgres

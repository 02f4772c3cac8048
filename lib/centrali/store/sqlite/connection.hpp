#pragma once
// The SQLite backend: one connection to a store file. The only code besides
// the SQLite migrations that includes SQLite; it turns every SQLite failure
// into a DatabaseError at its boundary.
#include <memory>
#include <string>

#include "centrali/store/connection.hpp"

namespace SQLite {
class Database;
}

namespace centrali::store::sqlite {

// Wraps an open database (WAL set, migrated: see Store::open).
std::unique_ptr<Connection> wrap(std::unique_ptr<SQLite::Database> db);

// Message for a SQLite failure, without internal exception noise.
std::string describe_error(int code, const std::string& what);
// What a SQLite result code says about the store: locked (busy), broken
// (corrupt, I/O error, full, unwritable), or neither.
StoreFault fault_of(int code);

} // namespace centrali::store::sqlite

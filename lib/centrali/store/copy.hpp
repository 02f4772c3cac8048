#pragma once
// `centrali store copy`: a whole store moved into another, whichever backend
// each is on (SQLite file or PostgreSQL database).
#include <vector>

#include "centrali/store/store.hpp"
#include "centrali/util/error.hpp"

namespace centrali::store {

struct CopyCounts {
  std::vector<TableCount> tables;  // every table, in the order copied
};

// Copies every row of every table of `from` into `to`, keys (seq) and bytes
// unchanged, so references between tables stay true; on PostgreSQL each
// identity sequence then goes past the keys copied. Reads `from` in one
// snapshot and writes `to` in one transaction: all of it or nothing.
//
// Refuses (ErrorKind::rejected), copying nothing, when `to` is `from`, when
// `to` holds anything a fresh store does not, or when the two stores'
// tables or columns differ (one written by another version of centrali).
Result<CopyCounts> copy_store(Store& from, Store& to);

} // namespace centrali::store

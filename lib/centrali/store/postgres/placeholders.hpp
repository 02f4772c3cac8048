#pragma once
// Internal to the PostgreSQL backend: store SQL is written with SQLite's
// placeholders; PostgreSQL numbers its own ($1, $2...).
#include <string>
#include <string_view>
#include <vector>

namespace centrali::store::postgres {

// `sql` with each `?`, `?NNN` and `:name` written `$N`, numbered as SQLite
// numbers them: `?` takes the number after the highest so far, `?NNN` that
// number, and each distinct `:name` the next one (repeats share it). Text in
// quotes and comments and `::` casts are left alone. On return `names` has
// one entry per parameter number: `:name` for a named one, else empty.
// Throws DatabaseError for `?0` or a number past 32766 (as SQLite refuses).
std::string number_placeholders(std::string_view sql, std::vector<std::string>& names);

// `sql` without SQLite's `INDEXED BY name` planner hints: they steer
// SQLite's planner only (PostgreSQL's keeps statistics of its own), so the
// statements that carry them are otherwise the same on both backends.
std::string without_index_hints(std::string_view sql);

} // namespace centrali::store::postgres

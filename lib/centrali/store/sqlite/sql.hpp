#pragma once
// SQLite's text for what the two backends say differently. Statements both
// understand stay beside the code that runs them.
namespace centrali::store::sqlite {

inline constexpr const char* k_table_names =
    "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

// One row per column of table ?1, in table order: name, 1 when it holds
// bytes (BLOB), its place in the primary key (0: not in it), and 1 when the
// database numbers it from a sequence that a copy must move. SQLite has none
// to move: a rowid goes on from the largest key, and AUTOINCREMENT's
// sqlite_sequence follows the keys inserted.
inline constexpr const char* k_table_columns =
    "SELECT name, upper(type) = 'BLOB', pk, 0 FROM pragma_table_info(?1) ORDER BY cid";

} // namespace centrali::store::sqlite

#pragma once
// SQLite's text for what the two backends say differently. Statements both
// understand stay beside the code that runs them.
namespace centrali::store::sqlite {

inline constexpr const char* k_table_names =
    "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

} // namespace centrali::store::sqlite

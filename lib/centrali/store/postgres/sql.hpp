#pragma once
// PostgreSQL's text for what the two backends say differently. Statements
// both understand stay beside the code that runs them.
namespace centrali::store::postgres {

inline constexpr const char* k_schema_version = "SELECT coalesce(max(version), 0) FROM centrali_schema";
inline constexpr const char* k_table_names =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE' AND table_name <> 'centrali_schema' ORDER BY table_name";
inline constexpr const char* k_database_size = "SELECT pg_database_size(current_database())";

} // namespace centrali::store::postgres

#pragma once
#include <string>
#include <string_view>

// SQLite's text for what the two backends say differently. Statements both
// understand stay beside the code that runs them.
namespace centrali::store::sqlite {

inline constexpr const char* k_table_names =
    "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

// A glob (store/glob.hpp) as a condition on `column`.
inline std::string glob_condition(std::string_view column, std::string_view param)
{
  return " AND " + std::string(column) + " GLOB " + std::string(param);
}

// Deliveries due now, oldest due first. INDEXED BY: without statistics
// SQLite prefers deliveries_unsettled for `status = 'pending'` and then sorts
// every pending row for each claim; the due-time index yields candidates in
// order, lazily.
inline constexpr const char* k_claim_candidates =
    "SELECT seq, id, kind, event_id, webhook_id, event_type, url, status, attempt_count, next_attempt_ms, "
    "last_status, last_error, created_ms, updated_ms, auto_attempts FROM deliveries INDEXED BY deliveries_due "
    "WHERE status = 'pending' AND next_attempt_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1) "
    "ORDER BY next_attempt_ms LIMIT ?2";
// Moves the fan-out cursor past every event; never back, and an idle
// store writes nothing.
inline constexpr const char* k_cursor_to_the_end =
    "UPDATE fanout_cursor SET last_seq = (SELECT coalesce(max(seq), 0) FROM events) "
    "WHERE id = 1 AND last_seq < (SELECT coalesce(max(seq), 0) FROM events)";
// Leases the claimed rows, their seqs given as one JSON array.
inline constexpr const char* k_lease_deliveries =
    "UPDATE deliveries SET lease_until_ms = ?1, next_attempt_ms = ?1, lease_owner = ?3 "
    "WHERE seq IN (SELECT value FROM json_each(?2))";

// A record whose data holds a value at a path (`records list --where`); a
// JSON null and an absent member both count as null.
inline constexpr const char* k_json_equals = " AND json_extract(data, ?) = ?";
inline constexpr const char* k_json_is_null = " AND json_extract(data, ?) IS NULL";

// One row per column of table ?1, in table order: name, 1 when it holds
// bytes (BLOB), its place in the primary key (0: not in it), and 1 when the
// database numbers it from a sequence that a copy must move. SQLite has none
// to move: a rowid goes on from the largest key, and AUTOINCREMENT's
// sqlite_sequence follows the keys inserted.
inline constexpr const char* k_table_columns =
    "SELECT name, upper(type) = 'BLOB', pk, 0 FROM pragma_table_info(?1) ORDER BY cid";

} // namespace centrali::store::sqlite

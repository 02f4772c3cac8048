#pragma once
#include <string>
#include <string_view>

// PostgreSQL's text for what the two backends say differently. Statements
// both understand stay beside the code that runs them.
namespace centrali::store::postgres {

inline constexpr const char* k_schema_version = "SELECT coalesce(max(version), 0) FROM centrali_schema";
inline constexpr const char* k_table_names =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE' AND table_name <> 'centrali_schema' ORDER BY table_name";
inline constexpr const char* k_database_size = "SELECT pg_database_size(current_database())";

// A glob (store/glob.hpp) as a condition on `column`.
inline std::string glob_condition(std::string_view column, std::string_view param)
{
  return " AND " + std::string(column) + " LIKE " + std::string(param) + " ESCAPE '\\'";
}

// Deliveries due now, oldest due first. SKIP LOCKED: a row another
// process is claiming is passed over rather than waited for.
inline constexpr const char* k_claim_candidates =
    "SELECT seq, id, kind, event_id, webhook_id, event_type, url, status, attempt_count, next_attempt_ms, "
    "last_status, last_error, created_ms, updated_ms, auto_attempts FROM deliveries "
    "WHERE status = 'pending' AND next_attempt_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1) "
    "ORDER BY next_attempt_ms LIMIT ?2 FOR UPDATE SKIP LOCKED";
// Moves the fan-out cursor past every event; never back, and an idle
// store writes nothing. Passes with nothing to route run beside one
// another (under the write lock shared): one that finds the cursor's row
// locked leaves it to the other, rather than wait for it (and hold up its
// own batch's commit, or wait on a process that waits on it).
inline constexpr const char* k_cursor_to_the_end =
    "UPDATE fanout_cursor SET last_seq = m.last FROM (SELECT coalesce(max(seq), 0) AS last FROM events) AS m "
    "WHERE id = (SELECT id FROM fanout_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED) AND last_seq < m.last";
// Leases the claimed rows, their seqs given as one JSON array.
inline constexpr const char* k_lease_deliveries =
    "UPDATE deliveries SET lease_until_ms = ?1, next_attempt_ms = ?1, lease_owner = ?3 "
    "WHERE seq IN (SELECT value::bigint FROM json_array_elements_text(?2::json))";

// A record whose data holds a value at a path (`records list --where`); a
// JSON null and an absent member both count as null.
inline constexpr const char* k_json_equals = " AND data::jsonb #> ?::text[] = ?::jsonb";
inline constexpr const char* k_json_is_null = " AND coalesce(data::jsonb #> ?::text[], 'null'::jsonb) = 'null'::jsonb";

// One row per column of table ?1, in table order: name, 1 when it holds
// bytes (bytea), its place in the primary key (0: not in it), and 1 when it
// is an identity column, whose sequence a copy must move past the keys it
// inserted.
inline constexpr const char* k_table_columns =
    "SELECT c.column_name, (c.data_type = 'bytea')::int, "
    "coalesce((SELECT k.ordinal_position FROM information_schema.table_constraints t "
    "JOIN information_schema.key_column_usage k "
    "ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name "
    "WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema "
    "AND t.table_name = c.table_name AND k.column_name = c.column_name), 0), "
    "(c.is_identity = 'YES')::int "
    "FROM information_schema.columns c WHERE c.table_schema = current_schema() AND c.table_name = ?1 "
    "ORDER BY c.ordinal_position";
// Moves the sequence of identity column ?2 of table ?1 (quoted) so that
// the next row it numbers gets ?3 + 1.
inline constexpr const char* k_move_sequence = "SELECT setval(pg_get_serial_sequence(?1, ?2), ?3)";

// Senders of one store (store/postgres/presence.cpp) share one advisory
// lock, per database like the store itself.
inline constexpr long long k_senders_lock_key = 0x63656e7472616c73;  // "centrals"
inline constexpr const char* k_try_senders_lock = "SELECT pg_try_advisory_lock(?)::int";
inline constexpr const char* k_share_senders_lock = "SELECT 1 FROM (SELECT pg_advisory_lock_shared(?)) AS taken";
inline constexpr const char* k_unlock_senders_lock = "SELECT pg_advisory_unlock(?)::int";
// Each sender also holds a lock of its own, naming it: (class, owner) as
// two int keys, which pg_locks shows as classid and objid (objsubid 2). The
// owner is what a delivery's lease_owner holds while that sender leases it.
inline constexpr int k_sender_owner_class = 0x63656e74;  // "cent"
inline constexpr const char* k_try_owner_lock = "SELECT pg_try_advisory_lock(?1::int, ?2::int)::int";
// The owners of the senders running on this database (class ?N).
#define CENTRALI_RUNNING_OWNERS(N)                                                                               \
  "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "                \
  "AND classid::bigint = ?" #N " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
inline constexpr const char* k_running_owners = CENTRALI_RUNNING_OWNERS(1);
// Frees the leases not ended by ?1 whose owner is no running sender (class
// ?2): due at ?1.
inline constexpr const char* k_release_departed_leases =
    "UPDATE deliveries SET lease_until_ms = NULL, next_attempt_ms = ?1 WHERE status = 'pending' "
    "AND next_attempt_ms > ?1 AND lease_until_ms IS NOT NULL AND lease_owner IS NOT NULL "
    "AND lease_owner NOT IN (" CENTRALI_RUNNING_OWNERS(2) ")";
// Runs whose runner is no running sender (class ?3) were interrupted
// (error ?1, ended at ?2), as their lease's end would say.
inline constexpr const char* k_interrupt_departed_runs =
    "UPDATE runs SET status = 'failure', error = ?1, ended_ms = ?2, lease_until_ms = NULL "
    "WHERE status IN ('queued','running') AND status = 'running' AND lease_until_ms IS NOT NULL "
    "AND lease_owner IS NOT NULL AND lease_owner NOT IN (" CENTRALI_RUNNING_OWNERS(3) ")";
// Frees the automation runs leased by no running sender (class ?1).
inline constexpr const char* k_release_departed_automation_leases =
    "UPDATE automation_runs SET lease_until_ms = NULL WHERE status IN ('running','waiting') "
    "AND lease_until_ms IS NOT NULL AND lease_owner IS NOT NULL "
    "AND lease_owner NOT IN (" CENTRALI_RUNNING_OWNERS(1) ")";
#undef CENTRALI_RUNNING_OWNERS
inline constexpr const char* k_set_application_name = "SELECT set_config('application_name', ?, false)";
inline constexpr const char* k_listener_sessions =
    "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name LIKE ? ORDER BY backend_start DESC";

} // namespace centrali::store::postgres

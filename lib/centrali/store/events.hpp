#pragma once
// Events: every request a source received (accepted, rejected or duplicate)
// and every event made locally, with the exact body bytes.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/store/store.hpp"
#include "centrali/util/headers.hpp"

namespace centrali::store {

struct Event {
  std::int64_t seq = 0;          // insertion order; cursor for `tail`
  std::string id;                // evt_…
  std::string source;            // source name, or "local"
  std::string type;
  std::string status;            // accepted | rejected | duplicate
  std::string reason;            // why it was rejected / what it duplicates
  int http_status = 0;           // what the sender was answered
  std::string dedupe_key;        // provider delivery id; empty when none
  std::string duplicate_of;      // original event id for duplicates
  std::string method = "POST";
  std::string path;
  std::string remote_addr;
  HeaderList headers;            // credentials already redacted
  std::string body;              // exact bytes
  std::int64_t received_ms = 0;
};

// Inserts `event` (its id must be set). An accepted event whose
// (source, dedupe_key) is already stored as accepted is stored as a
// duplicate instead: status, duplicate_of and reason are updated in place.
// `dispatch` marks an accepted event for fan-out to triggers and webhooks.
Result<void> insert_event(Store& store, Event& event, bool dispatch);
// The same for many events, with one statement per up to 64 of them: a
// round trip to a server costs more than a row. Not all-or-nothing: on
// failure, the caller rolls back what it may have stored.
Result<void> insert_events(Store& store, std::span<Event* const> events, bool dispatch);

// Inserts an event from an export, keeping its id. False when the id exists.
Result<bool> import_event(Store& store, const Event& event);

// The event with this id; ErrorKind::not_found when there is none.
Result<Event> get_event(Store& store, const std::string& id);
// Only what an outbound envelope is built from: id, type, received_ms and
// body; every other field is left empty. Webhook deliveries read this (the
// stored headers are the sender's and are not sent on).
Result<Event> get_event_payload(Store& store, const std::string& id);

struct EventFilter {
  std::string source;
  std::string type_glob;          // `*` and `?`
  std::string status;
  std::optional<std::int64_t> since_ms;
  std::optional<std::int64_t> until_ms;
  std::int64_t after_seq = 0;     // only events inserted after this one
  int limit = 50;                 // <= 0: no limit
  bool oldest_first = false;
  bool with_body = false;         // headers and body too (export, tail)
  // Content queries (`--where`): only events whose body this accepts. The
  // rows the fields above select are read in order and their bodies handed
  // to it; `limit` counts accepted events, so a rare match reads on until
  // it finds enough or reaches the end. Matching stays with the caller
  // (query/where.hpp), not in SQL.
  std::function<bool(std::string_view body)> body_match;
};

// Events matching `filter`, newest first unless `oldest_first`.
Result<std::vector<Event>> list_events(Store& store, const EventFilter& filter);

// The same, with how far the read went: `last_seq` is the seq of the last
// row read, matching or not (0 when none), so a follower (tail, export)
// resumes after rows body_match refused instead of reading them again.
struct EventPage {
  std::vector<Event> events;
  std::int64_t last_seq = 0;
};
Result<EventPage> read_events(Store& store, const EventFilter& filter);

struct PruneCounts {
  std::int64_t events = 0;
  std::int64_t deliveries = 0;  // with every attempt of each
  std::int64_t runs = 0;
  std::int64_t kept = 0;        // matched, but still in use (see prune_events)
};

// Deletes the events matching `filter` (source, type, status, since/until;
// its limit, order and body_match are ignored) with their deliveries, attempts and
// trigger runs. An event still in use is kept: one waiting for fan-out, or
// with a pending delivery or a queued or running run. `dry_run` counts
// what would go and deletes nothing. Free pages are reused by later writes;
// `vacuum` returns them to the file system.
Result<PruneCounts> prune_events(Store& store, const EventFilter& filter, bool dry_run);

} // namespace centrali::store

#pragma once
// What one request to `/ingest/<source>` becomes: judged (the source looked
// up, the signature checked on the raw bytes, the type and delivery id
// read), stored, and answered. The listener runs this for each HTTP
// request; `send --source` runs it for a request it made itself when no
// listener runs, so both store the same event and give the same answer.
#include <cstdint>
#include <functional>
#include <span>
#include <memory>
#include <string>

#include "centrali/http/server.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/store.hpp"

namespace centrali::ingest {

struct ReceptionOptions {
  std::string forward_to;                   // for sources without their own forward target
  std::size_t max_header_bytes = 64 * 1024;
};

struct Reception {
  store::Event event;           // accepted or rejected (a duplicate once stored)
  int status = 0;               // the refusal's status; 0 when accepted
  std::string error_code;       // for refusals
  std::string public_reason;    // what the sender is told of a refusal
  std::string forward_to;       // an accepted event's forward target, if any
  std::string slack_challenge;  // answered back: Slack's URL verification handshake
  HeaderList response_headers;  // e.g. Allow on a 405
  bool store_unavailable = false;  // the source could not be looked up: answer 503, store nothing
};

// Looks a source up by name; null when the store cannot be read.
using SourceLookup = std::function<std::shared_ptr<const SourceKeys>(const std::string& name)>;

// Judges `request` (its headers and body are moved into the event).
Reception receive(http::Request& request, const ReceptionOptions& options, const SourceLookup& lookup,
                  std::int64_t now_ms);

// Stores the event, and for an accepted event with a forward target the
// forward's delivery, in the caller's transaction. An accepted event whose
// delivery id was seen becomes a duplicate here.
Result<void> store_reception(store::Store& store, Reception& reception);
// The same for many, their events in as few statements as the store
// allows (a listener's requests that wait for one commit). Not
// all-or-nothing: on failure the caller rolls back what may be stored.
Result<void> store_receptions(store::Store& store, std::span<Reception* const> receptions);

// The answer once the store write ended: 202 (or 200 for a duplicate or
// Slack's challenge) only when it committed; a refusal's status otherwise.
// `note` is for the access log.
http::Response answer(const Reception& reception, const Result<void>& committed);

} // namespace centrali::ingest

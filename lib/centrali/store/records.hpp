#pragma once
// Records: JSON documents in named collections, versioned. Every change
// writes a `record_created`, `record_updated` or `record_deleted` event
// (source "local") in the same transaction, so the change and the event
// that fans it out to triggers and webhooks commit together or not at all.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/store/store.hpp"

namespace centrali::store {

struct Record {
  std::string id;          // rec_…
  std::string collection;
  nlohmann::json data;     // always an object
  std::int64_t version = 0;  // 1 on create, +1 per update
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

// One `--where field=value` condition: the value at `path` inside the
// record's data equals `value` (a JSON scalar; null matches a missing field).
struct FieldMatch {
  std::vector<std::string> path;
  nlohmann::json value;
};

struct RecordFilter {
  std::string collection;
  std::vector<FieldMatch> where;
  int limit = 50;  // <= 0: no limit
};

// A record before and after an update.
struct RecordChange {
  Record before;
  Record after;
};

// Computes a record's new data from its current data (a merge patch, say).
using DataChange = std::function<Result<nlohmann::json>(const nlohmann::json& before)>;

// Inserts a new record (version 1) and its record_created event.
Result<Record> create_record(Store& store, const std::string& collection, const nlohmann::json& data,
                             std::int64_t now_ms);

// Replaces the data of record `id` with change(data), bumps its version and
// writes record_updated with before and after. not_found when absent; the
// change's own error (e.g. usage) is returned unchanged and nothing is written.
Result<RecordChange> update_record(Store& store, const std::string& id, const DataChange& change, std::int64_t now_ms);

// Deletes record `id` and writes record_deleted carrying its last data;
// returns the record as it was. not_found when absent.
Result<Record> delete_record(Store& store, const std::string& id, std::int64_t now_ms);

// The record with this id; not_found when absent.
Result<Record> get_record(Store& store, const std::string& id);

// Records of one collection matching every condition, oldest first.
Result<std::vector<Record>> list_records(Store& store, const RecordFilter& filter);

// The JSON body of a record event, as fan-out and triggers read it:
// {"collection","id","version","data"} plus "before"/"after" for updates.
std::string record_event_body(const Record& record, const Record* before);

} // namespace centrali::store

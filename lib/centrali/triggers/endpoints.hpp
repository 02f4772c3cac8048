#pragma once
// `/endpoints/<path>`: endpoint triggers as synchronous HTTP APIs. The
// request runs the function at once and its output is the response:
//   exit 0, stdout JSON      200 application/json (stdout as is)
//   exit 0, other stdout     200 text/plain
//   --response envelope      stdout {"statusCode", "headers", "body"} shapes the response
//   exit non-zero / no start 502 {"error":"function_failed","run":"run_…"}
//   past --timeout           504 {"error":"function_timeout","run":"run_…"}
//   no such path             404; path served for other methods: 405 with Allow
//   paused trigger           503 {"error":"trigger_paused"}
// Stderr and internal text never reach the caller; the run log has them.
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "centrali/http/server.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/triggers.hpp"

namespace centrali::triggers {

struct EndpointOptions {
  std::int64_t cache_ms = 1000;  // how soon `triggers add/rm/pause` reach a running listener
};

class Endpoints {
public:
  // `store_path` is read (one connection, cached) for endpoint triggers;
  // runs are recorded through `writer`.
  Endpoints(store::GroupCommitter& writer, std::filesystem::path store_path, EndpointOptions options,
            std::function<void(const std::string&)> log);
  ~Endpoints();

  // Handles a request whose path starts with /endpoints/ (may move its body).
  void handle(http::Request& request, http::Response& response);

private:
  struct Table;
  std::shared_ptr<const Table> table(std::int64_t now_ms);
  // Waits for a free concurrency slot of `trigger`; false after `wait_ms`.
  bool acquire(const store::Trigger& trigger, std::int64_t wait_ms);
  void release(const std::string& name);

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  EndpointOptions m_options;
  std::function<void(const std::string&)> m_log;

  std::mutex m_table_mutex;
  std::shared_ptr<const Table> m_table;
  std::int64_t m_loaded_ms = 0;
  std::unique_ptr<store::Store> m_reader;

  std::mutex m_slot_mutex;
  std::condition_variable m_slot_cv;
  std::map<std::string, int> m_active;  // runs in flight per trigger
};

} // namespace centrali::triggers

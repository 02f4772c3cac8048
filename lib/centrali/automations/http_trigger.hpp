#pragma once
// `POST /automations/<path>` on `listen`: starts a run of the http
// automation serving the path. Answered only once the run is stored:
//   stored                    202 {"status":"queued","run":"arun_…"}
//   no automation at the path 404 {"error":"not_found"}
//   another method            405 with Allow: POST
//   a paused automation       503 {"error":"automation_paused"}
//   the store failing         503 {"error":"store_unavailable"}
// The run's input is the request: {"method","path","query","headers","body"}
// (body parsed when it is JSON; credential headers redacted, as for events).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "centrali/http/server.hpp"
#include "centrali/store/automations.hpp"
#include "centrali/store/group_commit.hpp"

namespace centrali::automations {

class HttpTrigger {
public:
  // `runs_started` is called after a run is stored (wake the executor).
  HttpTrigger(store::GroupCommitter& writer, std::filesystem::path store_path, std::function<void()> runs_started,
              std::function<void(const std::string&)> log, std::int64_t cache_ms = 1000);
  ~HttpTrigger();

  // Handles a request whose path starts with /automations/ (moves its body).
  void handle(http::Request& request, http::Server::Reply reply);

private:
  using Table = std::map<std::string, store::Automation, std::less<>>;  // by path
  std::shared_ptr<const Table> table(std::int64_t now_ms);

  store::GroupCommitter& m_writer;
  std::filesystem::path m_store_path;
  std::function<void()> m_runs_started;
  std::function<void(const std::string&)> m_log;
  std::int64_t m_cache_ms;

  std::mutex m_mutex;
  std::shared_ptr<const Table> m_table;
  std::int64_t m_loaded_ms = 0;
  std::unique_ptr<store::Store> m_reader;
};

} // namespace centrali::automations

#pragma once
// What a listener feature gets to plug itself in with: the shared store
// writer, the HTTP server for its routes, a place for its background
// services, and the hooks that tell it new work exists.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "centrali/http/server.hpp"
#include "centrali/store/group_commit.hpp"

namespace centrali::listen {

// A background part of the listener, started after the socket is bound and
// stopped (in reverse order) after the last request has finished.
class Service {
public:
  virtual ~Service() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
};

struct Wiring {
  store::GroupCommitter& writer;
  std::filesystem::path store_path;
  http::Server& server;
  std::vector<std::unique_ptr<Service>>& services;
  // Set by the feature that runs triggers; called when fan-out queued runs.
  std::function<void()>& runs_queued;
  // One human log line (no newline) for the listener's stderr.
  std::function<void(const std::string&)> log;
};

} // namespace centrali::listen

#pragma once
// `centrali listen` as a library: the engine (engine/engine.hpp: store
// writer, fan-out, delivery, triggers, schedules, automations) plus the HTTP
// routes (ingest, endpoints, healthz). The CLI owns printing and signals;
// this owns the routes and their shutdown before the engine's.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "centrali/delivery/worker.hpp"
#include "centrali/http/server.hpp"
#include "centrali/util/error.hpp"

namespace centrali::listen {

struct ListenerOptions {
  std::filesystem::path store_path;
  http::ServerOptions http;
  std::string forward_to;     // default forward target for sources without one
  delivery::WorkerOptions worker;
};

struct ListenerCallbacks {
  http::AccessLog on_request;
  std::function<void(const delivery::AttemptReport&)> on_attempt;
  std::function<void(const std::string&)> on_log;  // other background news (trigger runs, ...)
};

class Listener {
public:
  // Opens the store and binds the socket; nothing is served until run().
  static Result<std::unique_ptr<Listener>> create(ListenerOptions options, ListenerCallbacks callbacks);
  ~Listener();

  int port() const { return m_port; }
  const ListenerOptions& options() const { return m_options; }

  // Serves until stop(), then finishes in-flight requests, commits what they
  // wrote, and stops the delivery worker.
  void run();
  // Stops accepting new connections; safe from any thread.
  void stop();

  // Store writes so far: transactions committed and the work they held.
  struct Stats {
    std::uint64_t commits = 0;
    std::uint64_t writes = 0;
  };
  Stats stats() const;

private:
  Listener() = default;
  struct Parts;
  ListenerOptions m_options;
  int m_port = 0;
  std::unique_ptr<Parts> m_parts;
};

} // namespace centrali::listen

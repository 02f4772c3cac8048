#include "centrali/listen/listener.hpp"

#include <optional>

#include <nlohmann/json.hpp>

#include "centrali/engine/engine.hpp"
#include "centrali/ingest/ingestor.hpp"
#include "centrali/store/listen_address.hpp"
#include "centrali/triggers/endpoints.hpp"
#include "centrali/version.hpp"

namespace centrali::listen {

struct Listener::Parts {
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<ingest::Ingestor> ingestor;
  std::unique_ptr<http::Server> server;
  std::optional<store::ListenAddress> address;  // while serving: where `send --source` finds us
};

namespace {

// The URL other commands on this machine reach the listener at.
std::string local_url(const std::string& host, int port)
{
  std::string reach = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host == "::" ? "::1" : host;
  if (reach.find(':') != std::string::npos) reach = "[" + reach + "]";
  return "http://" + reach + ":" + std::to_string(port);
}

} // namespace

Result<std::unique_ptr<Listener>> Listener::create(ListenerOptions options, ListenerCallbacks callbacks)
{
  auto log = callbacks.on_log ? callbacks.on_log : [](const std::string&) {};
  auto engine = engine::Engine::create(
      {options.store_path, options.worker, engine::RunsOn::engine_threads, engine::Schedules::tick,
       engine::Senders::shared},
      {callbacks.on_attempt, log, {}, [log](const Error& e) { log("fan-out failed (trying again): " + e.message); }});
  if (!engine) return std::unexpected(engine.error());
  std::unique_ptr<Listener> self(new Listener());
  self->m_options = options;
  auto& parts = *(self->m_parts = std::make_unique<Parts>());
  parts.engine = std::move(*engine);
  auto* eng = parts.engine.get();

  ingest::IngestOptions ingest_options;
  ingest_options.forward_to = options.forward_to;
  parts.ingestor = std::make_unique<ingest::Ingestor>(eng->writer(), options.store_path, ingest_options,
                                                      [eng](bool forwarded) { eng->events_written(forwarded); });
  parts.server = std::make_unique<http::Server>(options.http);
  if (callbacks.on_request) parts.server->set_access_log(callbacks.on_request);

  // Routes. Async ones answer once their work is committed.
  auto* ingestor = parts.ingestor.get();
  parts.server->route_async("/ingest/", [ingestor](http::Request& req, http::Server::Reply reply) {
    ingestor->handle(req, std::move(reply));
  });
  // (The automations http trigger, /automations/, mounts here as the next async route.)

  // Endpoint triggers run their command while the request waits (on the
  // server's handler threads).
  auto endpoints = std::make_shared<triggers::Endpoints>(eng->writer(), options.store_path,
                                                         triggers::EndpointOptions{}, log);
  parts.server->route("/endpoints/", [endpoints](http::Request& req, http::Response& res) {
    endpoints->handle(req, res);
  });
  // Status and version only: anyone who can reach the port can ask, and the
  // store's path says where the developer keeps their work.
  std::string health = nlohmann::json{{"status", "ok"}, {"version", k_version}}.dump();
  parts.server->route("/healthz", [health](http::Request& req, http::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.headers.push_back({"Allow", "GET"});
      res.body = http::error_body("method_not_allowed");
      return;
    }
    res.body = health;
  });

  auto port = parts.server->bind();
  if (!port) return std::unexpected(port.error());
  self->m_port = *port;
  // Without it (an unwritable folder), `send --source` writes to the store
  // directly instead, which the running listener picks up all the same.
  if (auto address = store::ListenAddress::publish(options.store_path, local_url(options.http.host, *port)))
    parts.address.emplace(std::move(*address));
  return self;
}

Listener::~Listener()
{
  if (!m_parts) return;
  // Requests first (they write through the engine's writer), then the engine.
  m_parts->server.reset();
  if (m_parts->engine) m_parts->engine->stop();
}

void Listener::run()
{
  m_parts->engine->start();
  m_parts->server->run();
  // run() returns once every in-flight request has been answered, and an
  // ingested one is answered only after its commit. Then the rest winds down.
  m_parts->engine->stop();
}

Listener::Stats Listener::stats() const
{
  auto& writer = m_parts->engine->writer();
  return {writer.batches(), writer.items()};
}

void Listener::stop()
{
  m_parts->server->stop();
}

} // namespace centrali::listen

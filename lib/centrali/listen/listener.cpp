#include "centrali/listen/listener.hpp"

#include <optional>

#include <nlohmann/json.hpp>

#include "centrali/dispatch/dispatcher.hpp"
#include "centrali/ingest/ingestor.hpp"
#include "centrali/listen/wiring.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/listen_address.hpp"
#include "centrali/triggers/install.hpp"
#include "centrali/version.hpp"

namespace centrali::listen {

struct Listener::Parts {
  std::unique_ptr<store::GroupCommitter> writer;
  std::unique_ptr<delivery::Worker> worker;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  std::function<void()> runs_queued;
  std::vector<std::unique_ptr<Service>> services;
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
  auto store = store::Store::open(options.store_path, {store::Durability::full});
  if (!store) return std::unexpected(store.error());
  std::unique_ptr<Listener> self(new Listener());
  self->m_options = options;
  auto& parts = *(self->m_parts = std::make_unique<Parts>());
  parts.writer = std::make_unique<store::GroupCommitter>(std::move(*store));
  parts.worker = std::make_unique<delivery::Worker>(*parts.writer, options.store_path, options.worker,
                                                    callbacks.on_attempt);
  auto* worker = parts.worker.get();
  auto* parts_ptr = &parts;
  parts.dispatcher = std::make_unique<dispatch::Dispatcher>(
      *parts.writer, options.store_path,
      dispatch::DispatcherHooks{[worker] { worker->wake(); },
                                [parts_ptr] {
                                  if (parts_ptr->runs_queued) parts_ptr->runs_queued();
                                },
                                worker->hand_off(), {},
                                [log = callbacks.on_log](const Error& e) {
                                  if (log) log("fan-out failed (trying again): " + e.message);
                                }});
  ingest::IngestOptions ingest_options;
  ingest_options.forward_to = options.forward_to;
  auto* dispatcher = parts.dispatcher.get();
  parts.ingestor = std::make_unique<ingest::Ingestor>(*parts.writer, options.store_path, ingest_options,
                                                      [worker, dispatcher](bool forwarded) {
                                                        dispatcher->wake();
                                                        if (forwarded) worker->wake();
                                                      });
  parts.server = std::make_unique<http::Server>(options.http);
  auto* ingestor = parts.ingestor.get();
  parts.server->route_async("/ingest/", [ingestor](http::Request& req, http::Server::Reply reply) {
    ingestor->handle(req, std::move(reply));
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
  if (callbacks.on_request) parts.server->set_access_log(callbacks.on_request);
  Wiring wiring{*parts.writer, options.store_path, *parts.server, parts.services, parts.runs_queued,
                callbacks.on_log ? callbacks.on_log : [](const std::string&) {}};
  triggers::install(wiring);
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
  // Reverse order of dependence: nothing may write after the writer stops.
  m_parts->server.reset();
  for (auto it = m_parts->services.rbegin(); it != m_parts->services.rend(); ++it) (*it)->stop();
  if (m_parts->dispatcher) m_parts->dispatcher->stop();
  if (m_parts->worker) m_parts->worker->stop();
  if (m_parts->writer) m_parts->writer->stop();
}

void Listener::run()
{
  m_parts->worker->start();
  m_parts->dispatcher->start();
  for (auto& service : m_parts->services) service->start();
  m_parts->server->run();
  // run() returns once every in-flight request has been answered, and an
  // ingested one is answered only after its commit. Then the rest winds down.
  for (auto it = m_parts->services.rbegin(); it != m_parts->services.rend(); ++it) (*it)->stop();
  m_parts->dispatcher->stop();
  m_parts->worker->stop();
  m_parts->writer->stop();
}

Listener::Stats Listener::stats() const
{
  return {m_parts->writer->batches(), m_parts->writer->items()};
}

void Listener::stop()
{
  m_parts->server->stop();
}

} // namespace centrali::listen

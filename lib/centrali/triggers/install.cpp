#include "centrali/triggers/install.hpp"

#include "centrali/triggers/endpoints.hpp"
#include "centrali/triggers/runner.hpp"
#include "centrali/triggers/scheduler.hpp"

namespace centrali::triggers {
namespace {

class RunnerService : public listen::Service {
public:
  explicit RunnerService(std::unique_ptr<Runner> runner) : m_runner(std::move(runner)) {}
  void start() override { m_runner->start(); }
  void stop() override { m_runner->stop(); }

private:
  std::unique_ptr<Runner> m_runner;
};

class SchedulerService : public listen::Service {
public:
  explicit SchedulerService(std::unique_ptr<Scheduler> scheduler) : m_scheduler(std::move(scheduler)) {}
  void start() override { m_scheduler->start(); }
  void stop() override { m_scheduler->stop(); }

private:
  std::unique_ptr<Scheduler> m_scheduler;
};

} // namespace

void install(listen::Wiring& wiring)
{
  auto runner = std::make_unique<Runner>(wiring.writer, wiring.store_path, RunnerOptions{}, wiring.log);
  Runner* r = runner.get();
  wiring.runs_queued = [r] { r->wake(); };
  auto scheduler = std::make_unique<Scheduler>(wiring.writer, wiring.store_path, [r] { r->wake(); }, wiring.log);
  // Services stop in reverse order: the scheduler first, so no tick queues
  // a run for a runner that has stopped.
  wiring.services.push_back(std::make_unique<RunnerService>(std::move(runner)));
  wiring.services.push_back(std::make_unique<SchedulerService>(std::move(scheduler)));

  auto endpoints = std::make_shared<Endpoints>(wiring.writer, wiring.store_path, EndpointOptions{}, wiring.log);
  wiring.server.route("/endpoints/", [endpoints](http::Request& req, http::Response& res) { endpoints->handle(req, res); });
}

} // namespace centrali::triggers

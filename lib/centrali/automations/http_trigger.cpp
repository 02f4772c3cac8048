#include "centrali/automations/http_trigger.hpp"

#include <nlohmann/json.hpp>

#include "centrali/triggers/execution_params.hpp"
#include "centrali/util/headers.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::automations {
namespace {

constexpr std::string_view k_prefix = "/automations/";

http::Response error_response(int status, std::string_view code)
{
  http::Response res;
  res.status = status;
  res.body = http::error_body(code);
  return res;
}

} // namespace

HttpTrigger::HttpTrigger(store::GroupCommitter& writer, std::filesystem::path store_path,
                         std::function<void()> runs_started, std::function<void(const std::string&)> log,
                         std::int64_t cache_ms)
    : m_writer(writer), m_store_path(std::move(store_path)), m_runs_started(std::move(runs_started)),
      m_log(std::move(log)), m_cache_ms(cache_ms)
{
  if (!m_log) m_log = [](const std::string&) {};
}

HttpTrigger::~HttpTrigger() = default;

std::shared_ptr<const HttpTrigger::Table> HttpTrigger::table(std::int64_t now_ms)
{
  std::lock_guard lock(m_mutex);
  if (m_table && now_ms - m_loaded_ms < m_cache_ms && now_ms >= m_loaded_ms) return m_table;
  if (!m_reader) {
    auto opened = store::Store::open(m_store_path, {store::Durability::normal});
    if (!opened) {
      m_log("automations: " + opened.error().message);
      return m_table;
    }
    m_reader = std::make_unique<store::Store>(std::move(*opened));
  }
  auto all = store::list_automations(*m_reader);
  if (!all) {
    m_log("automations: " + all.error().message);
    return m_table;  // the last good table beats none
  }
  auto fresh = std::make_shared<Table>();
  for (auto& a : *all)
    if (a.trigger == "http") fresh->emplace(a.path, std::move(a));
  m_table = std::move(fresh);
  m_loaded_ms = now_ms;
  return m_table;
}

void HttpTrigger::handle(http::Request& req, http::Server::Reply reply)
{
  const auto now = timeutil::now_ms();
  std::string_view sub = req.path.substr(std::min(req.path.size(), k_prefix.size()));
  auto automations = table(now);
  if (!automations) return reply(error_response(503, "store_unavailable"));
  auto found = automations->find(sub);
  if (found == automations->end()) return reply(error_response(404, "not_found"));
  if (req.method != "POST") {
    auto res = error_response(405, "method_not_allowed");
    res.headers.push_back({"Allow", "POST"});
    return reply(std::move(res));
  }
  if (req.body_too_large) return reply(error_response(413, "body_too_large"));
  const auto& automation = found->second;
  if (automation.paused) return reply(error_response(503, "automation_paused"));

  auto run = std::make_shared<store::AutomationRun>();
  run->id = ids::make(ids::k_automation_run);
  run->automation = automation.name;
  run->definition = automation.definition;
  run->status = "running";
  run->origin = "http";
  auto input = triggers::request_params(req.method, sub, req.target, redact_credentials(req.headers), req.body);
  run->input = triggers::dump_json(input["request"]);
  run->due_ms = run->created_ms = run->updated_ms = now;
  m_writer.submit([run](store::Store& s) { return store::insert_automation_run(s, *run); }, store::Durability::full,
                  [this, run, reply = std::move(reply)](Result<void> committed) {
                    if (!committed) {
                      m_log("automations: cannot store a run of " + run->automation + ": " + committed.error().message);
                      return reply(error_response(503, "store_unavailable"));
                    }
                    if (m_runs_started) m_runs_started();
                    http::Response res;
                    res.status = 202;
                    res.body = nlohmann::json{{"status", "queued"}, {"run", run->id}}.dump();
                    reply(std::move(res));
                  });
}

} // namespace centrali::automations

#include "centrali/triggers/endpoints.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "centrali/store/runs.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/triggers/execution_params.hpp"
#include "centrali/triggers/function.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"

namespace centrali::triggers {

using json = nlohmann::json;

struct Endpoints::Table {
  std::map<std::string, std::vector<store::Trigger>> by_path;
  std::vector<std::string> withheld_env;  // store::secret_env_names
};

namespace {

constexpr const char* k_text = "text/plain; charset=utf-8";

void answer_error(http::Response& res, int status, const char* code, const std::string& run_id = {})
{
  res.status = status;
  res.content_type = "application/json";
  json body = {{"error", code}};
  if (!run_id.empty()) body["run"] = run_id;
  res.body = body.dump();
}

bool is_json(const std::string& text)
{
  return json::accept(text);
}

// Headers a function may not set: the server frames the response itself.
bool framing_header(std::string_view name)
{
  for (std::string_view h : {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
                             "trailer"})
    if (iequals(name, h)) return true;
  return false;
}

// --response envelope: {"statusCode": 201, "headers": {...}, "body": ...}.
// False when stdout is not such an object (the plain output rules apply).
bool apply_envelope(const std::string& stdout_data, http::Response& res)
{
  auto j = parse_json(stdout_data);
  if (!j.is_object() || !j.contains("statusCode")) return false;
  const auto& code = j["statusCode"];
  if (!code.is_number_integer() || code.get<std::int64_t>() < 200 || code.get<std::int64_t>() > 599) return false;
  res.status = code.get<int>();
  bool typed = false;
  if (j.contains("headers") && j["headers"].is_object()) {
    for (const auto& [name, value] : j["headers"].items()) {
      if (name.empty() || framing_header(name)) continue;
      std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      // A header value with a line break would split the response.
      if (text.find_first_of("\r\n") != std::string::npos || name.find_first_of("\r\n: ") != std::string::npos) continue;
      if (iequals(name, "content-type")) {
        res.content_type = text;
        typed = true;
      } else {
        res.headers.push_back({name, text});
      }
    }
  }
  const json body = j.contains("body") ? j["body"] : json(nullptr);
  if (body.is_null()) {
    res.body.clear();
    if (!typed) res.content_type = k_text;
  } else if (body.is_string()) {
    res.body = body.get<std::string>();
    if (!typed) res.content_type = k_text;
  } else {
    res.body = dump_json(body);
    if (!typed) res.content_type = "application/json";
  }
  return true;
}

void shape_response(const store::Trigger& trigger, const FunctionRun& run, http::Response& res)
{
  const auto& r = run.result;
  if (r.status == "timeout") return answer_error(res, 504, "function_timeout", r.id);
  if (r.status != "completed") return answer_error(res, 502, "function_failed", r.id);
  // A cut-off output is not the output the function meant to give.
  if (run.stdout_truncated) return answer_error(res, 502, "output_too_large", r.id);
  if (trigger.response_mode == "envelope" && apply_envelope(r.stdout_data, res)) return;
  res.status = 200;
  res.body = r.stdout_data;
  res.content_type = !r.output.empty() || is_json(r.stdout_data) ? "application/json" : k_text;
}

} // namespace

Endpoints::Endpoints(store::GroupCommitter& writer, std::filesystem::path store_path, EndpointOptions options,
                     std::function<void(const std::string&)> log)
    : m_writer(writer), m_store_path(std::move(store_path)), m_options(options), m_log(std::move(log))
{
  if (!m_log) m_log = [](const std::string&) {};
}

Endpoints::~Endpoints() = default;

std::shared_ptr<const Endpoints::Table> Endpoints::table(std::int64_t now_ms)
{
  std::lock_guard lock(m_table_mutex);
  if (m_table && now_ms - m_loaded_ms < m_options.cache_ms) return m_table;
  if (!m_reader) {
    auto opened = store::Store::open(m_store_path, {store::Durability::normal});
    if (!opened) {
      m_log("endpoints: " + opened.error().message);
      return m_table;
    }
    m_reader = std::make_unique<store::Store>(std::move(*opened));
  }
  auto triggers = store::list_triggers(*m_reader, "endpoint");
  if (!triggers) {
    m_log("endpoints: " + triggers.error().message);
    return m_table;  // the last good table beats none
  }
  auto withheld = store::secret_env_names(*m_reader);
  if (!withheld) {
    m_log("endpoints: " + withheld.error().message);
    return m_table;
  }
  auto fresh = std::make_shared<Table>();
  for (auto& t : *triggers) fresh->by_path[t.path].push_back(std::move(t));
  fresh->withheld_env = std::move(*withheld);
  m_table = std::move(fresh);
  m_loaded_ms = now_ms;
  return m_table;
}

bool Endpoints::acquire(const store::Trigger& trigger, std::int64_t wait_ms)
{
  std::unique_lock lock(m_slot_mutex);
  auto free = [&] { return m_active[trigger.name] < trigger.concurrency; };
  if (!m_slot_cv.wait_for(lock, std::chrono::milliseconds(wait_ms), free)) return false;
  ++m_active[trigger.name];
  return true;
}

void Endpoints::release(const std::string& name)
{
  {
    std::lock_guard lock(m_slot_mutex);
    --m_active[name];
  }
  m_slot_cv.notify_all();
}

void Endpoints::handle(http::Request& req, http::Response& res)
{
  const auto received_ms = timeutil::now_ms();
  std::string sub(req.path.substr(std::string_view("/endpoints").size()));
  while (sub.size() > 1 && sub.back() == '/') sub.pop_back();

  auto tab = table(received_ms);
  if (!tab) return answer_error(res, 503, "unavailable");
  auto found = tab->by_path.find(sub);
  if (found == tab->by_path.end()) {
    res.note = "no endpoint trigger for " + sub;
    return answer_error(res, 404, "not_found");
  }
  std::string method(req.method);
  if (method == "HEAD") method = "GET";
  const store::Trigger* trigger = nullptr;
  std::string allow;
  for (const auto& t : found->second) {
    if (t.method.empty() || t.method == method) {
      trigger = &t;
      break;
    }
    allow += (allow.empty() ? "" : ", ") + t.method;
  }
  if (!trigger) {
    res.headers.push_back({"Allow", allow});
    return answer_error(res, 405, "method_not_allowed");
  }
  res.note = "endpoint " + trigger->name;
  if (trigger->paused) return answer_error(res, 503, "trigger_paused");
  if (req.body_too_large) return answer_error(res, 413, "payload_too_large");
  // As ingestion does: a function is never handed a document too deep to
  // print, and a string in its place would surprise it.
  if (json_too_deep(req.body)) {
    res.note += " JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels";
    return answer_error(res, 400, "json_too_deep");
  }
  // Requests beyond --concurrency wait their turn, but not past the
  // function's own timeout.
  if (!acquire(*trigger, trigger->timeout_ms)) return answer_error(res, 503, "busy");

  const std::string run_id = ids::make(ids::k_run);
  json params = request_params(req.method, sub, req.target, req.headers, req.body);
  auto run = run_function(*trigger, params, {run_id, "", m_store_path, tab->withheld_env});
  release(trigger->name);

  // The stored input keeps no credentials; the function itself saw them,
  // since authenticating its callers may be its job.
  shape_response(*trigger, run, res);
  res.note += " " + run_id + " " + run.result.status;
  params["request"]["headers"] = headers_object(redact_credentials(req.headers));
  store::Run record;
  record.id = run_id;
  record.trigger = trigger->name;
  record.status = run.result.status;
  record.origin = "endpoint";
  record.input = dump_json(params);
  record.output = std::move(run.result.output);
  record.stdout_data = std::move(run.result.stdout_data);
  record.stderr_data = std::move(run.result.stderr_data);
  record.exit_code = run.result.exit_code;
  record.error = run.result.error;
  record.queued_ms = received_ms;
  record.started_ms = run.result.started_ms;
  record.ended_ms = run.result.ended_ms;
  // Recorded through the shared writer: concurrent requests share one
  // commit, and the run id a caller is given can be looked up at once. The
  // record is a log of an answer already computed, not an acknowledgement,
  // so it does not wait for an fsync (a power cut may lose the last few).
  auto stored = m_writer.submit([&record](store::Store& s) { return store::insert_run(s, record); },
                                store::Durability::normal)
                    .get();
  if (!stored) m_log("endpoint " + trigger->name + ": cannot record run " + run_id + ": " + stored.error().message);
}

} // namespace centrali::triggers

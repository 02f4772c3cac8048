#include "centrali/triggers/execution_params.hpp"

#include <cctype>

#include "centrali/util/encoding.hpp"
#include "centrali/util/json_bounded.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/utf8.hpp"

namespace centrali::triggers {
namespace {

using json = nlohmann::json;

// Sets `object[key]` to the body as JSON, text, or base64 for binary.
void put_body(json& object, const char* key, const char* encoding_key, std::string_view body)
{
  auto parsed = parse_json(body);
  if (!parsed.is_discarded()) {
    object[key] = std::move(parsed);
  } else if (is_valid_utf8(body)) {
    object[key] = std::string(body);
  } else {
    object[key] = encoding::base64_encode(body);
    object[encoding_key] = "base64";
  }
}

json query_object(std::string_view target)
{
  json q = json::object();
  auto mark = target.find('?');
  if (mark == std::string_view::npos) return q;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key = encoding::url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : encoding::url_decode(pair.substr(eq + 1));
    // A repeated key becomes an array, in the order sent.
    if (!q.contains(key)) q[key] = value;
    else if (q[key].is_array()) q[key].push_back(value);
    else q[key] = json::array({q[key], value});
  }
  return q;
}

} // namespace

std::string dump_json(const json& value)
{
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json headers_object(const HeaderList& headers)
{
  json out = json::object();
  for (const auto& h : headers) {
    std::string name = h.name;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (out.contains(name)) out[name] = out[name].get<std::string>() + ", " + h.value;
    else out[name] = h.value;
  }
  return out;
}

json event_params(const store::Event& e)
{
  json event = {{"id", e.id},
                {"type", e.type},
                {"source", e.source},
                {"receivedAt", timeutil::format_rfc3339(e.received_ms)}};
  put_body(event, "data", "dataEncoding", e.body);
  event["headers"] = headers_object(e.headers);
  json params = {{"event", std::move(event)}};
  // Record events also get the record itself, as the record API shows it.
  if (e.source == "local" && e.type.starts_with("record_")) {
    const json& body = params["event"]["data"];
    if (body.is_object()) {
      json record = json::object();
      for (const char* key : {"collection", "id", "version", "data", "before", "after"})
        if (body.contains(key)) record[key] = body[key];
      params["record"] = std::move(record);
    }
  }
  return params;
}

json schedule_params(std::int64_t scheduled_ms, std::int64_t fired_ms)
{
  return {{"scheduledAt", timeutil::format_rfc3339(scheduled_ms)}, {"firedAt", timeutil::format_rfc3339(fired_ms)}};
}

json demand_params(json data)
{
  return {{"data", std::move(data)}};
}

json request_params(std::string_view method, std::string_view sub_path, std::string_view target,
                    const HeaderList& headers, std::string_view body)
{
  json request = {{"method", std::string(method)},
                  {"path", std::string(sub_path)},
                  {"query", query_object(target)},
                  {"headers", headers_object(headers)}};
  if (body.empty()) request["body"] = nullptr;
  else put_body(request, "body", "bodyEncoding", body);
  return {{"request", std::move(request)}};
}

std::string stdin_document(const json& trigger_params, const json& execution_params)
{
  std::string out = "{\"triggerParams\":";
  out += dump_json(trigger_params);
  out += ",\"executionParams\":";
  out += dump_json(execution_params);
  out += "}\n";
  return out;
}

} // namespace centrali::triggers

#include "centrali/ingest/reception.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "centrali/ingest/json_peek.hpp"
#include "centrali/ingest/providers.hpp"
#include "centrali/ingest/verification.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::ingest {
namespace {

constexpr std::size_t k_max_stored_source_name = 200;
// A refused request is kept so its sender can be debugged, but anyone who
// can reach the port can send one: bodies of requests that no source took
// (404, 405) are not kept at all, and other refusals keep their first
// 64 KiB, enough to see what was sent without letting a flood fill the disk.
constexpr std::size_t k_max_refused_body = 64 * 1024;
// What a sender is told when the source's own secret is unusable: the
// detail describes our configuration, so it goes to the store and log only.
constexpr std::string_view k_unverifiable = "the signature could not be verified";

// The "challenge" of a Slack url_verification request; empty when absent.
std::string slack_challenge(std::string_view body)
{
  auto doc = parse_json(body);
  if (!doc.is_object()) return {};
  auto it = doc.find("challenge");
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string json_string(std::string_view s)
{
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Keeps a stored header block bounded even when the request's was not.
HeaderList bounded_headers(HeaderList headers, std::size_t max_bytes)
{
  std::size_t total = 0;
  HeaderList out;
  for (auto& h : headers) {
    total += h.name.size() + h.value.size();
    if (total > max_bytes) break;
    out.push_back(std::move(h));
  }
  return out;
}

// Bounds what a refused request leaves in the store (see k_max_refused_body)
// and says so in its reason.
void keep_refused_body(store::Event& ev)
{
  if (ev.status != "rejected" || ev.body.empty()) return;
  const auto size = ev.body.size();
  if (ev.http_status == 404 || ev.http_status == 405) {
    ev.body.clear();
    ev.reason += " (body of " + std::to_string(size) + " bytes not kept)";
  } else if (size > k_max_refused_body) {
    ev.body.resize(k_max_refused_body);
    ev.reason += " (body of " + std::to_string(size) + " bytes: first 64 KiB kept)";
  }
}

// Forwards count their hops (delivery/forward.hpp): a target that leads
// back here would otherwise make an event, a forward and an event again,
// for ever.
constexpr int k_max_forward_hops = 5;

bool forwarded_too_often(const HeaderList& headers)
{
  const auto* hops = find_header(headers, "Centrali-Forward-Hops");
  return hops && std::atoi(hops->c_str()) >= k_max_forward_hops;
}

} // namespace

Reception receive(http::Request& req, const ReceptionOptions& options, const SourceLookup& lookup, std::int64_t now_ms)
{
  Reception p;
  auto& ev = p.event;
  ev.id = ids::make(ids::k_event);
  ev.received_ms = now_ms;
  ev.method = std::string(req.method);
  ev.path = std::string(req.target);
  ev.remote_addr = std::string(req.remote_addr);
  std::string name(req.path.substr(std::string_view("/ingest/").size()));
  while (!name.empty() && name.back() == '/') name.pop_back();
  ev.source = name.substr(0, k_max_stored_source_name);
  ev.type = "unknown";
  ev.status = "rejected";

  auto reject = [&](int status, std::string code, std::string reason) {
    p.status = status;
    p.error_code = std::move(code);
    ev.reason = std::move(reason);
  };

  if (req.header_bytes > options.max_header_bytes) {
    ev.headers = redact_credentials(bounded_headers(std::move(req.headers), options.max_header_bytes));
    reject(431, "headers_too_large", "request headers exceed " + std::to_string(options.max_header_bytes / 1024) + " KiB");
  } else {
    if (req.method != "POST") {
      p.response_headers.push_back({"Allow", "POST"});
      reject(405, "method_not_allowed", "method " + ev.method + " not allowed; webhooks are POSTed");
    } else if (req.body_too_large) {
      reject(413, "payload_too_large", "body larger than the listener's --max-body");
    } else if (name.empty() || name.find('/') != std::string::npos) {
      reject(404, "unknown_source", "no source in path (expected /ingest/<source>)");
    } else if (forwarded_too_often(req.headers)) {
      reject(508, "loop_detected", "forwarded " + std::to_string(k_max_forward_hops) +
                                       " times already: a forward target leads back to a listener");
    } else if (name == "local") {
      // Reserved for events made here: a request must not pass for one,
      // even in a store made before the name was refused.
      reject(404, "unknown_source", "'local' is not a source: it names events made here");
    } else {
      auto source = lookup(name);
      if (!source) {
        p.store_unavailable = true;
        return p;
      }
      if (!source->exists) {
        reject(404, "unknown_source", "no source named '" + ev.source + "'");
      } else {
        auto peek = peek_json(req.body);
        ev.type = event_type(source->provider, req.headers, peek);
        if (!source->secret_error.empty()) {
          reject(500, "source_misconfigured", source->secret_error);
        } else if (source->provider != Provider::none) {
          // No diagnosis here: it re-signs the body in several variants, and
          // anyone can send a forged request. `events show` diagnoses later.
          auto verdict = verify_request(*source, req.headers, req.body, req.target, ev.received_ms / 1000, sig::Diagnose::no);
          if (!verdict.valid) {
            reject(401, "invalid_signature", verdict.reason);
            if (verdict.failure == sig::Failure::bad_secret) p.public_reason = k_unverifiable;
          }
        }
        if (p.status == 0 && peek.depth > static_cast<std::size_t>(k_max_json_depth))
          reject(400, "json_too_deep", "JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels");
        if (p.status == 0 && expects_json(source->provider, req.headers) && !peek.valid)
          reject(400, "invalid_json", std::string(provider_name(source->provider)) + " sends JSON but the body is not valid JSON");
        if (p.status == 0) {
          ev.status = "accepted";
          ev.dedupe_key = dedupe_key(source->provider, req.headers, peek);
          p.forward_to = source->source.forward_to.empty() ? options.forward_to : source->source.forward_to;
          // The body's own type, signed, decides: not a derived event type
          // that an unsigned X-Event-Type header could set.
          if (source->provider == Provider::slack && peek.type == "url_verification")
            p.slack_challenge = slack_challenge(req.body);
        }
      }
    }
  }
  if (ev.headers.empty()) ev.headers = redact_credentials(std::move(req.headers));  // after every use above
  ev.http_status = p.status == 0 ? 202 : p.status;
  ev.body = std::move(req.body);
  if (p.public_reason.empty()) p.public_reason = ev.reason;
  keep_refused_body(ev);
  return p;
}

namespace {

// An accepted event's forward to the app, once the event is stored.
Result<void> queue_forward(store::Store& store, const Reception& p)
{
  if (p.event.status != "accepted" || p.forward_to.empty()) return {};
  store::Delivery d;
  d.id = ids::make(ids::k_delivery);
  d.kind = "forward";
  d.event_id = p.event.id;
  d.event_type = p.event.type;
  d.url = p.forward_to;
  d.status = "pending";
  d.next_attempt_ms = p.event.received_ms;
  d.created_ms = d.updated_ms = p.event.received_ms;
  return store::insert_delivery(store, d);
}

} // namespace

Result<void> store_reception(store::Store& store, Reception& p)
{
  if (auto r = store::insert_event(store, p.event, true); !r) return r;
  return queue_forward(store, p);
}

Result<void> store_receptions(store::Store& store, std::span<Reception* const> receptions)
{
  std::vector<store::Event*> events;
  events.reserve(receptions.size());
  for (auto* p : receptions) events.push_back(&p->event);
  auto stored = store::insert_events(store, events, true);
  for (const auto* p : receptions) {
    if (!stored) break;
    stored = queue_forward(store, *p);
  }
  if (!stored) {
    // Rolled back: an event taken for a repeat of one that is gone now is
    // accepted again, so that storing it again judges it afresh.
    for (auto* p : receptions)
      if (p->event.status == "duplicate") {
        p->event.status = "accepted";
        p->event.http_status = 202;
        p->event.reason.clear();
        p->event.duplicate_of.clear();
      }
  }
  return stored;
}

http::Response answer(const Reception& p, const Result<void>& committed)
{
  http::Response res;
  if (p.store_unavailable) {
    res.status = 503;
    res.body = http::error_body("store_unavailable");
    res.note = "store unavailable";
    return res;
  }
  res.headers = p.response_headers;
  const auto& ev = p.event;
  if (!committed) {
    // Not durable, so not acknowledged: the sender will retry.
    res.status = 503;
    res.body = http::error_body("store_unavailable");
    res.note = "store write failed: " + committed.error().message;
    return res;
  }
  if (ev.status == "accepted") {
    res.status = 202;
    res.body = R"({"status":"queued","id":")" + ev.id + R"("})";
    if (!p.slack_challenge.empty()) {
      // Slack registers an Events API URL only once it hears the challenge back.
      res.status = 200;
      res.body = R"({"challenge":)" + json_string(p.slack_challenge) + "}";
    }
    res.note = ev.id + " " + ev.type;
  } else if (ev.status == "duplicate") {
    res.status = 200;
    res.body = R"({"status":"duplicate","id":")" + ev.duplicate_of + R"("})";
    res.note = ev.id + " duplicate of " + ev.duplicate_of;
  } else {
    res.status = p.status;
    res.body = p.status == 401 ? R"({"error":"invalid_signature","reason":)" + json_string(p.public_reason) + "}"
                               : http::error_body(p.error_code, p.status == 500 ? "" : p.public_reason);
    res.note = ev.id + " " + ev.reason;
    if (p.status == 401) res.note += "; diagnose with: centrali events show " + ev.id;
  }
  return res;
}

} // namespace centrali::ingest

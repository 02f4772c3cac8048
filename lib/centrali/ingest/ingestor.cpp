#include "centrali/ingest/ingestor.hpp"

#include <nlohmann/json.hpp>

#include "centrali/ingest/json_peek.hpp"
#include "centrali/ingest/providers.hpp"
#include "centrali/ingest/secrets.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace centrali::ingest {

struct Ingestor::CachedSource {
  bool exists = false;
  store::Source source;
  Provider provider = Provider::none;
  std::vector<std::string> secrets;  // resolved
  std::string secret_error;          // why a secret reference could not be resolved
  std::int64_t loaded_ms = 0;
};

struct Pending {
  store::Event event;
  std::string hints;  // signature diagnosis, stored but not sent
  std::string public_reason;  // what the sender is told
  std::string forward_to;
  std::string slack_challenge;  // answered back: Slack's URL verification handshake
  int status = 0;
  std::string error_code;  // for rejections
};

namespace {

constexpr std::size_t k_max_stored_source_name = 200;

// The "challenge" of a Slack url_verification request; empty when absent.
std::string slack_challenge(std::string_view body)
{
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object()) return {};
  auto it = doc.find("challenge");
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string json_string(std::string_view s)
{
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string request_url(const http::Request& req)
{
  // Twilio signs the URL it called; behind a tunnel that is the public one.
  const auto* proto = find_header(req.headers, "X-Forwarded-Proto");
  const auto* host = find_header(req.headers, "X-Forwarded-Host");
  if (!host) host = find_header(req.headers, "Host");
  return std::string(proto ? *proto : "http") + "://" + (host ? *host : "localhost") + std::string(req.target);
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

} // namespace

Ingestor::Ingestor(store::GroupCommitter& writer, std::filesystem::path store_path, IngestOptions options,
                   std::function<void(bool)> on_accepted)
    : m_writer(writer), m_store_path(std::move(store_path)), m_options(std::move(options)),
      m_on_accepted(std::move(on_accepted))
{
}

Ingestor::~Ingestor() = default;

std::shared_ptr<const Ingestor::CachedSource> Ingestor::lookup(const std::string& name, std::int64_t now_ms)
{
  {
    std::shared_lock lock(m_cache_mutex);
    // Only sources that exist are served from the cache: a name that was
    // unknown is looked up again on every request, so a request sent right
    // after `sources add` finds the new source (CI scripts do exactly that).
    auto it = m_cache.find(name);
    if (it != m_cache.end() && now_ms - it->second->loaded_ms < m_options.source_cache_ms) return it->second;
  }
  auto fresh = std::make_shared<CachedSource>();
  fresh->loaded_ms = now_ms;
  {
    std::lock_guard lock(m_reader_mutex);
    if (!m_reader) {
      auto opened = store::Store::open(m_store_path, {store::Durability::normal});
      if (!opened) return nullptr;
      m_reader = std::make_unique<store::Store>(std::move(*opened));
    }
    auto source = store::get_source(*m_reader, name);
    if (source) {
      fresh->exists = true;
      fresh->source = std::move(*source);
    } else if (source.error().kind != ErrorKind::not_found) {
      return nullptr;  // the store is failing: answer 503, cache nothing
    }
  }
  if (fresh->exists) {
    fresh->provider = parse_provider(fresh->source.provider).value_or(Provider::none);
    for (const auto& ref : fresh->source.secrets) {
      auto secret = resolve_secret(ref);
      if (secret) fresh->secrets.push_back(std::move(*secret));
      else fresh->secret_error = secret.error().message;
    }
  }
  std::unique_lock lock(m_cache_mutex);
  if (!fresh->exists) {
    m_cache.erase(name);  // removed meanwhile: forget it at once
    return fresh;
  }
  if (m_cache.size() > 10'000) m_cache.clear();  // bounded even with many sources
  m_cache[name] = fresh;
  return fresh;
}

void Ingestor::handle(http::Request& req, http::Server::Reply reply)
{
  auto pending = std::make_shared<Pending>();
  Pending& p = *pending;
  http::Response res;
  auto& ev = p.event;
  ev.id = ids::make(ids::k_event);
  ev.received_ms = timeutil::now_ms();
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

  if (req.header_bytes > m_options.max_header_bytes) {
    ev.headers = redact_credentials(bounded_headers(std::move(req.headers), m_options.max_header_bytes));
    reject(431, "headers_too_large", "request headers exceed " + std::to_string(m_options.max_header_bytes / 1024) + " KiB");
  } else {
    if (req.method != "POST") {
      res.headers.push_back({"Allow", "POST"});
      reject(405, "method_not_allowed", "method " + ev.method + " not allowed; webhooks are POSTed");
    } else if (req.body_too_large) {
      reject(413, "payload_too_large", "body larger than the listener's --max-body");
    } else if (name.empty() || name.find('/') != std::string::npos) {
      reject(404, "unknown_source", "no source in path (expected /ingest/<source>)");
    } else {
      auto source = lookup(name, ev.received_ms);
      if (!source) {
        res.status = 503;
        res.body = http::error_body("store_unavailable");
        res.note = "store unavailable";
        reply(std::move(res));
        return;
      }
      if (!source->exists) {
        reject(404, "unknown_source", "no source named '" + ev.source + "'");
      } else {
        auto peek = peek_json(req.body);
        ev.type = event_type(source->provider, req.headers, peek);
        if (!source->secret_error.empty()) {
          reject(500, "source_misconfigured", source->secret_error);
        } else if (source->provider != Provider::none) {
          auto scheme = sig::parse_scheme(provider_name(source->provider));
          sig::VerifyInput in;
          in.scheme = *scheme;
          in.secrets = source->secrets;
          in.headers = &req.headers;
          in.body = req.body;
          in.tolerance_s = source->source.tolerance_s.value_or(300);
          in.now_s = ev.received_ms / 1000;
          if (source->provider == Provider::twilio) in.url = request_url(req);
          auto verdict = sig::verify(in);
          if (!verdict.valid) {
            reject(401, "invalid_signature", verdict.reason);
            // The diagnosis is kept with the stored request for the developer;
            // the sender's 401 carries only the reason.
            for (const auto& hint : verdict.hints) p.hints += (p.hints.empty() ? "" : "; ") + hint;
          }
        }
        if (p.status == 0 && expects_json(source->provider, req.headers) && !peek.valid)
          reject(400, "invalid_json", std::string(provider_name(source->provider)) + " sends JSON but the body is not valid JSON");
        if (p.status == 0) {
          ev.status = "accepted";
          ev.dedupe_key = dedupe_key(source->provider, req.headers, peek);
          p.forward_to = source->source.forward_to.empty() ? m_options.forward_to : source->source.forward_to;
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
  p.public_reason = ev.reason;
  if (!p.hints.empty()) ev.reason += " (hint: " + p.hints + ")";
  finish(std::move(pending), std::move(res), std::move(reply));
}

void Ingestor::finish(std::shared_ptr<Pending> pending, http::Response res, http::Server::Reply reply)
{
  auto durability = pending->event.status == "accepted" ? store::Durability::full : store::Durability::normal;
  // Only an accepted event is acknowledged with a 2xx that promises it is on
  // disk; rejections are recorded for inspection without forcing an fsync,
  // so a flood of bad requests cannot slow down good ones.
  Pending* raw = pending.get();
  auto work = [raw](store::Store& store) -> Result<void> {
    Pending& p = *raw;
    if (auto r = store::insert_event(store, p.event, true); !r) return r;
    if (p.event.status == "accepted" && !p.forward_to.empty()) {
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
    return {};
  };
  // `pending` lives in the completion, which runs after `work` (even when a
  // failing batch neighbour makes `work` run twice) and then frees it.
  m_writer.submit(std::move(work), durability,
                  [this, pending = std::move(pending), res = std::move(res), reply = std::move(reply)](Result<void> committed) mutable {
                    reply(respond(*pending, std::move(res), committed));
                  });
}

http::Response Ingestor::respond(const Pending& p, http::Response res, const Result<void>& committed)
{
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
    if (m_on_accepted) m_on_accepted(!p.forward_to.empty());
  } else if (ev.status == "duplicate") {
    res.status = 200;
    res.body = R"({"status":"duplicate","id":")" + ev.duplicate_of + R"("})";
    res.note = ev.id + " duplicate of " + ev.duplicate_of;
  } else {
    res.status = p.status;
    res.body = p.status == 401 ? R"({"error":"invalid_signature","reason":)" + json_string(p.public_reason) + "}"
                               : http::error_body(p.error_code, p.status == 500 ? "" : p.public_reason);
    res.note = ev.id + " " + ev.reason;
  }
  return res;
}

} // namespace centrali::ingest

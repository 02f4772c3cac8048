#include "centrali/delivery/forward.hpp"

#include <algorithm>
#include <cstdlib>

#include "centrali/signatures/signatures.hpp"

namespace centrali::delivery {
namespace {

// The framing the client sets itself, and the encodings: the stored body
// is sent as it was stored. Redacted credentials are dropped rather than
// sent as "[redacted]".
bool is_hop_by_hop(std::string_view name)
{
  return is_framing_header(name) || iequals(name, "accept-encoding") || iequals(name, "content-encoding");
}

// Replaces the signature headers in `headers` with `fresh` (same names).
void replace_headers(HeaderList& headers, const HeaderList& fresh)
{
  std::erase_if(headers, [&](const HeaderField& h) {
    for (const auto& f : fresh)
      if (iequals(f.name, h.name)) return true;
    return false;
  });
  headers.insert(headers.end(), fresh.begin(), fresh.end());
}

// Signs `body` as the event's provider would now; the note says what was
// done, or why the stored signature is sent instead.
std::string sign_again(http::OutboundRequest& request, const store::Event& event, const ForwardSigning& signing,
                       std::int64_t now_ms)
{
  const bool edited = signing.body != nullptr;
  const auto& keys = signing.source;
  // Only what the provider's signature vouched for is signed again: a
  // refused request is anyone's bytes, and signing them with the source's
  // secret would hand a forgery to the app as genuine.
  if (event.status == "rejected") return "original (refused when received: not signed again)";
  if (!keys || !keys->exists) {
    if (event.source == "local") return {};
    return "original (source '" + event.source + "' no longer exists)";
  }
  auto scheme = ingest::signature_scheme(keys->provider);
  if (!scheme) return {};  // a `none` source: nothing was signed
  const std::string name(sig::scheme_name(*scheme));
  if (!sig::has_timestamp(*scheme) && !edited) return "original (" + name + " signs no timestamp)";
  if (*scheme == sig::Scheme::twilio) return "original (twilio signs the URL it called; not signed again)";
  if (!keys->secret_error.empty() || keys->secrets.empty())
    return "original (the source's secret cannot be read: " + keys->secret_error + ")";
  sig::SignInput in;
  in.scheme = *scheme;
  // Every secret the source accepts, where the scheme carries several
  // signatures: during a rotation the app may check with either.
  in.secrets = keys->secrets;
  if (*scheme == sig::Scheme::slack || *scheme == sig::Scheme::github || *scheme == sig::Scheme::shopify)
    in.secrets.resize(1);
  in.timestamp = now_ms / 1000;
  in.body = request.body;
  if (*scheme == sig::Scheme::standard || *scheme == sig::Scheme::svix || *scheme == sig::Scheme::clerk) {
    const auto* id = find_header(event.headers, *scheme == sig::Scheme::standard ? "webhook-id" : "svix-id");
    if (!id) return "original (no message id in the stored headers to sign with)";
    in.id = *id;
  }
  auto fresh = sig::sign(in);
  if (!fresh) return "original (cannot sign: " + fresh.error().message + ")";
  replace_headers(request.headers, *fresh);
  if (edited) return "re-signed (" + name + ", edited body)";
  return "re-signed (" + name + ", fresh timestamp)";
}

} // namespace

Forward forward_request(const store::Event& event, const std::string& url, const ForwardSigning& signing,
                        std::int64_t now_ms)
{
  Forward out;
  auto& req = out.request;
  req.url = url;
  req.method = "POST";
  int hops = 0;
  for (const auto& h : event.headers) {
    if (iequals(h.name, k_forward_hops_header)) {
      hops = std::atoi(h.value.c_str());
      continue;
    }
    if (is_hop_by_hop(h.name) || is_credential_header(h.name) || iequals(h.name, "Centrali-Event-Id")) continue;
    req.headers.push_back(h);
  }
  req.headers.push_back({"Centrali-Event-Id", event.id});
  // Counted on every forward, so a forward target that leads back to a
  // listener (its own ingest URL, two stores forwarding to each other) is
  // refused after a few rounds instead of filling the store.
  req.headers.push_back({std::string(k_forward_hops_header), std::to_string(std::max(hops, 0) + 1)});
  if (!find_header(req.headers, "Content-Type")) req.content_type = "application/octet-stream";
  req.body = signing.body ? *signing.body : event.body;
  if (!signing.keep_original) out.signature = sign_again(req, event, signing, now_ms);
  else if (event.source != "local") out.signature = "original (--keep-signature)";
  return out;
}

} // namespace centrali::delivery

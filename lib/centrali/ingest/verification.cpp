#include "centrali/ingest/verification.hpp"

#include "centrali/ingest/secrets.hpp"
#include "centrali/store/sources.hpp"

namespace centrali::ingest {
namespace {

sig::Scheme scheme_of(Provider provider)
{
  switch (provider) {
  case Provider::svix: return sig::Scheme::svix;
  case Provider::clerk: return sig::Scheme::clerk;
  case Provider::stripe: return sig::Scheme::stripe;
  case Provider::github: return sig::Scheme::github;
  case Provider::shopify: return sig::Scheme::shopify;
  case Provider::slack: return sig::Scheme::slack;
  case Provider::twilio: return sig::Scheme::twilio;
  case Provider::standard:
  case Provider::none: break;  // `none` never reaches a check
  }
  return sig::Scheme::standard;
}

std::string request_url(const HeaderList& headers, std::string_view target)
{
  // Twilio signs the URL it called; behind a tunnel that is the public one.
  const auto* proto = find_header(headers, "X-Forwarded-Proto");
  const auto* host = find_header(headers, "X-Forwarded-Host");
  if (!host) host = find_header(headers, "Host");
  return std::string(proto ? *proto : "http") + "://" + (host ? *host : "localhost") + std::string(target);
}

} // namespace

sig::Verdict verify_request(const SourceCheck& source, const HeaderList& headers, std::string_view body,
                            std::string_view target, std::int64_t now_s, sig::Diagnose diagnose)
{
  sig::VerifyInput in;
  in.scheme = scheme_of(source.provider);
  in.secrets = source.secrets;
  in.headers = &headers;
  in.body = body;
  in.tolerance_s = source.tolerance_s;
  in.now_s = now_s;
  in.diagnose = diagnose;
  if (source.provider == Provider::twilio) in.url = request_url(headers, target);
  return sig::verify(in);
}

Result<std::vector<std::string>> diagnose_rejected(store::Store& store, const store::Event& event)
{
  if (event.status != "rejected" || event.http_status != 401) return std::vector<std::string>{};
  auto source = store::get_source(store, event.source);
  if (!source) {
    if (source.error().kind == ErrorKind::not_found) return std::vector<std::string>{};
    return std::unexpected(source.error());
  }
  SourceCheck check;
  check.provider = parse_provider(source->provider).value_or(Provider::none);
  if (check.provider == Provider::none) return std::vector<std::string>{};
  check.tolerance_s = source->tolerance_s.value_or(300);
  for (const auto& ref : source->secrets) {
    auto secret = resolve_secret(ref);
    if (!secret) return std::vector<std::string>{};  // the reason already says the secret is unreadable
    check.secrets.push_back(std::move(*secret));
  }
  auto verdict = verify_request(check, event.headers, event.body, event.path, event.received_ms / 1000, sig::Diagnose::yes);
  return verdict.valid ? std::vector<std::string>{} : verdict.hints;
}

} // namespace centrali::ingest

#include "centrali/ingest/verification.hpp"


namespace centrali::ingest {
namespace {

std::string request_url(const HeaderList& headers, std::string_view target)
{
  // Twilio signs the URL it called; behind a tunnel that is the public one.
  const auto* proto = find_header(headers, "X-Forwarded-Proto");
  const auto* host = find_header(headers, "X-Forwarded-Host");
  if (!host) host = find_header(headers, "Host");
  return std::string(proto ? *proto : "http") + "://" + (host ? *host : "localhost") + std::string(target);
}

} // namespace

sig::Verdict verify_request(const SourceKeys& source, const HeaderList& headers, std::string_view body,
                            std::string_view target, std::int64_t now_s, sig::Diagnose diagnose)
{
  sig::VerifyInput in;
  in.scheme = signature_scheme(source.provider).value_or(sig::Scheme::standard);  // never `none` here
  in.secrets = source.secrets;
  in.headers = &headers;
  in.body = body;
  in.tolerance_s = source.source.tolerance_s.value_or(300);
  in.now_s = now_s;
  in.diagnose = diagnose;
  if (source.provider == Provider::twilio) in.url = request_url(headers, target);
  return sig::verify(in);
}

Result<std::vector<std::string>> diagnose_rejected(store::Store& store, const store::Event& event)
{
  if (event.status != "rejected" || event.http_status != 401) return std::vector<std::string>{};
  auto keys = read_source_keys(store, event.source);
  if (!keys) return std::unexpected(keys.error());
  // Unreadable secrets: the stored reason already says so.
  if (!keys->exists || keys->provider == Provider::none || !keys->secret_error.empty()) return std::vector<std::string>{};
  auto verdict = verify_request(*keys, event.headers, event.body, event.path, event.received_ms / 1000, sig::Diagnose::yes);
  return verdict.valid ? std::vector<std::string>{} : verdict.hints;
}

} // namespace centrali::ingest

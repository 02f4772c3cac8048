#include "centrali/send/direct.hpp"

#include "centrali/ingest/reception.hpp"

namespace centrali::send {

Result<http::Response> ingest_directly(store::Store& store, const std::string& source, const ProviderRequest& request,
                                       const std::string& host, std::int64_t now_ms)
{
  const std::string path = "/ingest/" + source;
  http::Request req;
  req.method = "POST";
  req.path = path;
  req.target = path;
  req.host = host;
  req.remote_addr = "centrali send";
  req.headers = request.headers;
  req.headers.insert(req.headers.begin(), {"Host", host});
  for (const auto& h : req.headers) req.header_bytes += h.name.size() + h.value.size() + 4;
  req.body = request.body;
  Result<void> lookup_error;
  auto lookup = [&](const std::string& name) -> std::shared_ptr<const ingest::SourceKeys> {
    auto keys = ingest::read_source_keys(store, name);
    if (!keys) {
      lookup_error = std::unexpected(keys.error());
      return nullptr;
    }
    return std::make_shared<const ingest::SourceKeys>(std::move(*keys));
  };
  auto reception = ingest::receive(req, {}, lookup, now_ms);
  if (!lookup_error) return std::unexpected(lookup_error.error());
  auto stored = store::write_transaction(store, [&] { return ingest::store_reception(store, reception); });
  if (!stored) return std::unexpected(stored.error());
  return ingest::answer(reception, stored);
}

} // namespace centrali::send

#include "centrali/ingest/source_keys.hpp"

#include "centrali/ingest/secrets.hpp"

namespace centrali::ingest {

Result<SourceKeys> read_source_keys(store::Store& store, const std::string& name)
{
  SourceKeys keys;
  auto source = store::get_source(store, name);
  if (!source) {
    if (source.error().kind == ErrorKind::not_found) return keys;
    return std::unexpected(source.error());
  }
  keys.exists = true;
  keys.source = std::move(*source);
  keys.provider = parse_provider(keys.source.provider).value_or(Provider::none);
  for (const auto& ref : keys.source.secrets) {
    auto secret = resolve_secret(ref);
    if (secret) keys.secrets.push_back(std::move(*secret));
    else keys.secret_error = secret.error().message;
  }
  return keys;
}

SourceKeyCache::SourceKeyCache(std::filesystem::path store_path, std::int64_t ttl_ms)
    : m_store_path(std::move(store_path)), m_ttl_ms(ttl_ms)
{
}

SourceKeyCache::~SourceKeyCache() = default;

std::shared_ptr<const SourceKeys> SourceKeyCache::lookup(const std::string& name, std::int64_t now_ms)
{
  {
    std::shared_lock lock(m_cache_mutex);
    auto it = m_cache.find(name);
    if (it != m_cache.end() && now_ms - it->second->loaded_ms < m_ttl_ms) return it->second;
  }
  Result<SourceKeys> read;
  {
    std::lock_guard lock(m_reader_mutex);
    if (!m_reader) {
      auto opened = store::Store::open(m_store_path, {store::Durability::normal});
      if (!opened) return nullptr;
      m_reader = std::make_unique<store::Store>(std::move(*opened));
    }
    read = read_source_keys(*m_reader, name);
  }
  if (!read) return nullptr;  // the store is failing: cache nothing
  read->loaded_ms = now_ms;
  auto fresh = std::make_shared<const SourceKeys>(std::move(*read));
  std::unique_lock lock(m_cache_mutex);
  if (!fresh->exists) {
    m_cache.erase(name);  // removed meanwhile: forget it at once
    return fresh;
  }
  if (m_cache.size() > 10'000) m_cache.clear();  // bounded even with many sources
  m_cache[name] = fresh;
  return fresh;
}

} // namespace centrali::ingest

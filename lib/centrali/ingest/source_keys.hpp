#pragma once
// A source as its signatures need it, for the two sides that use them: the
// listener verifying what a provider sent, and forwards and replays signing
// it again for the app. Secrets are resolved here (`env:` from this
// process's environment, `file:` from disk) and kept for a short while, so
// a burst of requests does not read a file per request.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "centrali/ingest/providers.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/store/store.hpp"

namespace centrali::ingest {

struct SourceKeys {
  bool exists = false;
  store::Source source;
  Provider provider = Provider::none;
  std::vector<std::string> secrets;  // resolved
  std::string secret_error;          // why a reference could not be resolved (then `secrets` lacks it)
  std::int64_t loaded_ms = 0;
};

// The source called `name` read now (exists == false when there is none),
// its secrets resolved; an error only when the store cannot be read.
Result<SourceKeys> read_source_keys(store::Store& store, const std::string& name);

// Sources by name, read through a connection of its own. A source that
// exists is served from the cache for `ttl_ms` (how soon a change reaches a
// running listener); a name that was unknown is looked up on every call, so
// a request right after `sources add` finds it. Thread-safe.
class SourceKeyCache {
public:
  explicit SourceKeyCache(std::filesystem::path store_path, std::int64_t ttl_ms = 100);
  ~SourceKeyCache();

  // The source called `name` (exists == false when there is none); null
  // when the store cannot be read.
  std::shared_ptr<const SourceKeys> lookup(const std::string& name, std::int64_t now_ms);

private:
  std::filesystem::path m_store_path;
  std::int64_t m_ttl_ms;
  std::shared_mutex m_cache_mutex;
  std::unordered_map<std::string, std::shared_ptr<const SourceKeys>> m_cache;
  std::mutex m_reader_mutex;
  std::unique_ptr<store::Store> m_reader;
};

} // namespace centrali::ingest

#pragma once
// Sources: named inbound endpoints (`POST /ingest/<name>`) with a provider
// scheme and the secrets that verify their signatures.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrali/store/store.hpp"

namespace centrali::store {

struct Source {
  std::string name;
  std::string provider;              // standard|svix|clerk|stripe|github|shopify|slack|twilio|none
  std::vector<std::string> secrets;  // as configured: literal, env:NAME or file:PATH
  std::optional<std::int64_t> tolerance_s;
  std::string forward_to;            // empty = none
  std::int64_t created_ms = 0;
};

// ErrorKind::rejected when a source of that name exists.
Result<void> add_source(Store& store, const Source& source);
Result<Source> get_source(Store& store, const std::string& name);  // not_found when absent
Result<std::vector<Source>> list_sources(Store& store);
Result<void> remove_source(Store& store, const std::string& name);  // not_found when absent
// Saves the provider, secrets, tolerance and forward target of an existing source in
// place (a running listener sees the change within its cache period, with
// no moment where the source is gone). not_found when absent.
Result<void> update_source(Store& store, const Source& source);
// The environment variables that sources read their secrets from (`env:NAME`
// references), so functions can run without them.
Result<std::vector<std::string>> secret_env_names(Store& store);

} // namespace centrali::store

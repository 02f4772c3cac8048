#pragma once
// Secret references as configured on sources: a literal value, `env:NAME`
// (read from the listener's environment) or `file:PATH` (first line of a
// file), so secrets need not sit in shell history or the store.
#include <string>
#include <string_view>

#include "centrali/util/error.hpp"

namespace centrali::ingest {

Result<std::string> resolve_secret(std::string_view reference);

// How a secret reference is shown: env:/file: references as they are (they
// are not secret); literal secrets as "…(redacted)", after their whsec_,
// whsk_ or whpk_ prefix when they have one, and nothing else of them.
std::string redact_secret(std::string_view reference);

} // namespace centrali::ingest

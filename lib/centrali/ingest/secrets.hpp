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
// are not secret), literal secrets as a short prefix and "…".
std::string redact_secret(std::string_view reference);

} // namespace centrali::ingest

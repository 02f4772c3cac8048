#pragma once
// What a source must be to be saved, whoever saves it (`sources add`,
// `sources update`, `apply`): each caller names the field its own way
// (--secret, sources[0].secrets[1]).
#include <optional>
#include <string>

#include "centrali/store/sources.hpp"

namespace centrali::ingest {

struct SourceProblem {
  enum class Field { name, provider, secrets, tolerance, forward_to } field;
  int index = -1;  // secrets: which one
  std::string message;
};

// The first reason `source` cannot be saved: a name of 1-64 letters, digits,
// '-', '_' or '.' other than `local`; a known provider; secrets exactly when
// the provider signs, each not pasted with its `secret:` label or padding,
// and each literal one usable by the scheme (a whsec_ with broken base64 is
// refused now, not with every request later); a tolerance of 0 to 1 year;
// a forward target that is an http(s) URL.
std::optional<SourceProblem> source_problem(const store::Source& source);

} // namespace centrali::ingest

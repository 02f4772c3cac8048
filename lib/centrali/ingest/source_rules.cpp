#include "centrali/ingest/source_rules.hpp"

#include <cctype>

#include "centrali/ingest/providers.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/util/url.hpp"

namespace centrali::ingest {
namespace {

using Field = SourceProblem::Field;

bool valid_name(const std::string& name)
{
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// The usual ways a secret gets mangled between being printed and being
// pasted (or captured with $(…)): each would make every request a 401.
std::string pasted_secret_problem(const std::string& secret)
{
  if (secret.starts_with("secret:"))
    return "starts with 'secret:', the label a terminal shows; give the value alone (keys generate, webhooks add "
           "and rotate-secret print it bare when their output is piped)";
  if (!secret.empty() && (std::isspace(static_cast<unsigned char>(secret.front())) ||
                          std::isspace(static_cast<unsigned char>(secret.back()))))
    return "has spaces or a line break around it; give the value alone";
  if (secret.empty()) return "is empty";
  return {};
}

} // namespace

std::optional<SourceProblem> source_problem(const store::Source& s)
{
  if (!valid_name(s.name))
    return SourceProblem{Field::name, -1, "'" + s.name + "' is not a source name (1-64 characters: letters, digits, '-', '_', '.')"};
  if (s.name == "local")
    return SourceProblem{Field::name, -1, "'local' is reserved for events made here (records, events emit)"};
  auto provider = parse_provider(s.provider);
  if (!provider)
    return SourceProblem{Field::provider, -1, "unknown provider '" + s.provider + "' (expected " + provider_names() + ")"};
  auto scheme = signature_scheme(*provider);
  if (scheme && s.secrets.empty())
    return SourceProblem{Field::secrets, -1, "provider " + s.provider +
                                                 " verifies signatures: give a secret (a value, env:NAME or file:PATH)"};
  if (!scheme && !s.secrets.empty())
    return SourceProblem{Field::secrets, -1, "provider none does not verify signatures: give no secret"};
  for (std::size_t i = 0; i < s.secrets.size(); ++i) {
    const auto& ref = s.secrets[i];
    if (auto problem = pasted_secret_problem(ref); !problem.empty())
      return SourceProblem{Field::secrets, static_cast<int>(i), problem};
    if (ref.starts_with("env:") || ref.starts_with("file:")) continue;
    sig::SignInput probe;
    probe.scheme = *scheme;
    probe.secrets = {ref};
    probe.id = "msg_probe";
    probe.timestamp = 1;
    probe.url = "http://localhost/";
    if (auto r = sig::sign(probe); !r) {
      auto message = r.error().message;
      if (message.starts_with("secret #1: ")) message.erase(0, 11);  // the caller names which one
      return SourceProblem{Field::secrets, static_cast<int>(i), message};
    }
  }
  if (s.tolerance_s && (*s.tolerance_s < 0 || *s.tolerance_s > 31'536'000))
    return SourceProblem{Field::tolerance, -1, "must be between 0 and 31536000 seconds"};
  if (!s.forward_to.empty())
    if (auto u = parse_url(s.forward_to); !u) return SourceProblem{Field::forward_to, -1, u.error().message};
  return std::nullopt;
}

} // namespace centrali::ingest

#include "centrali/ingest/secrets.hpp"

#include <cstdlib>
#include <fstream>

namespace centrali::ingest {

Result<std::string> resolve_secret(std::string_view reference)
{
  if (reference.starts_with("env:")) {
    std::string name(reference.substr(4));
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return fail(ErrorKind::usage, "secret env:" + name + ": environment variable is not set");
    return std::string(value);
  }
  if (reference.starts_with("file:")) {
    std::string path(reference.substr(5));
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
      return fail(ErrorKind::usage, "secret file:" + path + ": cannot read the file");
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) return fail(ErrorKind::usage, "secret file:" + path + ": the first line is empty");
    return line;
  }
  return std::string(reference);
}

std::string redact_secret(std::string_view reference)
{
  if (reference.starts_with("env:") || reference.starts_with("file:")) return std::string(reference);
  // Only prefixes that say which kind of key it is and are the same for
  // everyone; any other leading characters are part of the secret.
  for (std::string_view prefix : {"whsec_", "whsk_", "whpk_"})
    if (reference.starts_with(prefix)) return std::string(prefix) + "…(redacted)";
  return "…(redacted)";
}

} // namespace centrali::ingest

#include "centrali/records/merge_patch.hpp"

namespace centrali::records {

nlohmann::json merge_patch(nlohmann::json target, const nlohmann::json& patch)
{
  // RFC 7386 section 2, written out rather than delegated so the rules the
  // CLI documents are the ones in this file.
  if (!patch.is_object()) return patch;
  if (!target.is_object()) target = nlohmann::json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
      continue;
    }
    auto it = target.find(key);
    target[key] = merge_patch(it == target.end() ? nlohmann::json(nullptr) : std::move(*it), value);
  }
  return target;
}

} // namespace centrali::records

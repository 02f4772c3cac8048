#include "centrali/records/records.hpp"

#include <cctype>

#include "centrali/records/merge_patch.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::records {

using json = nlohmann::json;

Result<void> check_collection(std::string_view name)
{
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) ok = false;
  if (!ok)
    return fail(ErrorKind::usage, "invalid collection name '" + std::string(name) +
                                      "' (1-64 characters: letters, digits, '-', '_', '.')");
  return {};
}

Result<json> parse_object(std::string_view text, std::string_view what)
{
  auto j = parse_json(text);
  if (j.is_discarded()) return fail(ErrorKind::usage, std::string(what) + " " + json_refusal(text));
  if (!j.is_object()) return fail(ErrorKind::usage, std::string(what) + " must be a JSON object, e.g. '{\"status\":\"paid\"}'");
  return j;
}

Result<store::FieldMatch> parse_where(std::string_view text)
{
  auto eq = text.find('=');
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::usage, "invalid --where '" + std::string(text) + "': " + why);
  };
  if (eq == std::string_view::npos) return bad("expected field=value");
  store::FieldMatch m;
  std::string_view field = text.substr(0, eq);
  std::size_t start = 0;
  while (true) {
    auto dot = field.find('.', start);
    auto seg = field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) return bad("empty field name");
    m.path.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::string_view value = text.substr(eq + 1);
  auto parsed = parse_json(value);
  if (!parsed.is_discarded() && !parsed.is_structured()) m.value = std::move(parsed);
  else m.value = std::string(value);
  return m;
}

Result<store::Record> create(store::Store& store, const std::string& collection, std::string_view data_text,
                             std::int64_t now_ms)
{
  if (auto r = check_collection(collection); !r) return std::unexpected(r.error());
  auto data = parse_object(data_text);
  if (!data) return std::unexpected(data.error());
  return store::create_record(store, collection, *data, now_ms);
}

Result<store::RecordChange> update(store::Store& store, const std::string& id, std::string_view patch_text,
                                   std::int64_t now_ms)
{
  auto patch = parse_object(patch_text);
  if (!patch) return std::unexpected(patch.error());
  return store::update_record(
      store, id,
      [&](const json& before) -> Result<json> {
        json after = merge_patch(before, *patch);
        if (!after.is_object()) return fail(ErrorKind::usage, "the patched record is not a JSON object");
        return after;
      },
      now_ms);
}

} // namespace centrali::records

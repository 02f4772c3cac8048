#pragma once
// A small JSON-Schema-like validator for the `--json` documents the man
// pages promise. Schemas are JSON themselves, so a test reads like the
// documentation it checks:
//
//   {"type": "object",
//    "properties": {"id": {"type": "string", "prefix": "evt_"},
//                   "reason": {"type": ["string", "null"]}},
//    "additionalProperties": false}
//
// Keywords:
//   type        a name or a list of names: object, array, string, integer,
//               number, boolean, null ("number" takes integers too)
//   properties  an object's documented keys. Every key listed is REQUIRED
//               unless named in "optional": the JSON contract says absent
//               values are null, never missing, so a documented key that
//               is left out is a break.
//   optional    keys of "properties" that may be missing (documented as
//               "adds X" in some cases only)
//   additionalProperties  false: no other keys (only where the page gives
//               the exact shape; elsewhere new keys may be added)
//   items       the schema of every element of an array
//   minItems    the least number of elements
//   enum        the allowed values
//   const       the one allowed value
//   prefix      a string starts with this (ids: "evt_", "dlv_", ...)
//   format      "rfc3339": a UTC time such as 2026-11-27T10:00:00.123Z
//   minimum     a number is at least this
// Header-only.
#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace testing::schema {

using json = nlohmann::json;

namespace detail {

inline bool has_type(const json& value, const std::string& type)
{
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  return false;
}

inline bool is_rfc3339_utc(const std::string& text)
{
  static const std::regex k_time(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z)");
  return std::regex_match(text, k_time);
}

inline void check(const json& schema, const json& value, const std::string& where, std::vector<std::string>& problems)
{
  auto problem = [&](const std::string& what) { problems.push_back((where.empty() ? "/" : where) + ": " + what); };
  if (schema.contains("type")) {
    const json& type = schema["type"];
    bool ok = false;
    if (type.is_string()) ok = has_type(value, type.get<std::string>());
    else
      for (const auto& t : type) ok = ok || has_type(value, t.get<std::string>());
    if (!ok) {
      problem("expected type " + type.dump() + ", got " + value.dump());
      return;  // the rest would only repeat it
    }
  }
  if (schema.contains("const") && value != schema["const"]) problem("expected " + schema["const"].dump() + ", got " + value.dump());
  if (schema.contains("enum")) {
    bool listed = false;
    for (const auto& allowed : schema["enum"]) listed = listed || value == allowed;
    if (!listed) problem(value.dump() + " is not one of " + schema["enum"].dump());
  }
  if (value.is_string()) {
    const auto text = value.get<std::string>();
    if (schema.contains("prefix") && !text.starts_with(schema["prefix"].get<std::string>()))
      problem("\"" + text + "\" does not start with " + schema["prefix"].dump());
    if (schema.value("format", "") == "rfc3339" && !is_rfc3339_utc(text))
      problem("\"" + text + "\" is not an RFC 3339 UTC time");
  }
  if (value.is_number() && schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>())
    problem(value.dump() + " is below " + schema["minimum"].dump());
  if (value.is_object() && schema.contains("properties")) {
    const json& properties = schema["properties"];
    const json optional = schema.value("optional", json::array());
    for (const auto& [key, sub] : properties.items()) {
      if (!value.contains(key)) {
        if (std::find(optional.begin(), optional.end(), key) == optional.end())
          problem("missing key \"" + key + "\" (absent values are null, not left out)");
        continue;
      }
      check(sub, value[key], where + "/" + key, problems);
    }
    if (schema.contains("additionalProperties") && schema["additionalProperties"] == false)
      for (const auto& [key, ignored] : value.items())
        if (!properties.contains(key)) problem("undocumented key \"" + key + "\"");
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>())
      problem("expected at least " + schema["minItems"].dump() + " elements, got " + std::to_string(value.size()));
    if (schema.contains("items"))
      for (std::size_t i = 0; i < value.size(); ++i) check(schema["items"], value[i], where + "/" + std::to_string(i), problems);
  }
}

} // namespace detail

// Every way `value` breaks `schema`, each as "/json/pointer: what"; empty
// when it conforms.
inline std::vector<std::string> problems(const json& schema, const json& value)
{
  std::vector<std::string> out;
  detail::check(schema, value, "", out);
  return out;
}

// `base` (an object schema) with `more` properties added, for documents
// documented as "X adds Y" (`show` adds to what `list` prints).
inline json extend(json base, const json& more, const json& optional = json::array())
{
  for (const auto& [key, sub] : more.items()) base["properties"][key] = sub;
  for (const auto& key : optional) base["optional"].push_back(key);
  return base;
}

// An array whose every element is `items`.
inline json array_of(const json& items, std::size_t min_items = 0)
{
  return json{{"type", "array"}, {"items", items}, {"minItems", min_items}};
}

} // namespace testing::schema

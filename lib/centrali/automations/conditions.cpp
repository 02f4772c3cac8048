#include "centrali/automations/conditions.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace centrali::automations {
namespace {

using json = nlohmann::json;

// A segment of digits only, as an array index; anything else (a sign, a
// space, a number too large) names no element.
std::optional<std::size_t> array_index(std::string_view segment)
{
  if (segment.empty() || segment.size() > 18) return std::nullopt;
  std::size_t index = 0;
  for (char c : segment) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return index;
}

// Ordering without conversion: two numbers (1 < 1.5 across integer and
// float) or two strings (byte order); every other pair is unordered.
bool ordered(const json& a, const json& b)
{
  return (a.is_number() && b.is_number()) || (a.is_string() && b.is_string());
}

bool member_of(const json& value, const json& list)
{
  return list.is_array() && std::any_of(list.begin(), list.end(), [&](const json& e) { return e == value; });
}

bool holds_on(Operator op, const json* actual, const json& expected)
{
  if (op == Operator::exists) return actual != nullptr;
  if (op == Operator::not_exists) return actual == nullptr;
  if (!actual) return op == Operator::neq;
  switch (op) {
  case Operator::eq: return *actual == expected;
  case Operator::neq: return *actual != expected;
  case Operator::gt: return ordered(*actual, expected) && *actual > expected;
  case Operator::gte: return ordered(*actual, expected) && *actual >= expected;
  case Operator::lt: return ordered(*actual, expected) && *actual < expected;
  case Operator::lte: return ordered(*actual, expected) && *actual <= expected;
  case Operator::in: return member_of(*actual, expected);
  case Operator::not_in: return expected.is_array() && !member_of(*actual, expected);
  case Operator::contains:
    if (actual->is_string() && expected.is_string())
      return actual->get_ref<const std::string&>().find(expected.get_ref<const std::string&>()) != std::string::npos;
    return member_of(expected, *actual);
  case Operator::exists:
  case Operator::not_exists: break;
  }
  return false;
}

} // namespace

const json* lookup(const json& document, std::string_view path)
{
  const json* at = &document;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    auto segment = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (at->is_object()) {
      auto it = at->find(std::string(segment));
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      auto index = array_index(segment);
      if (!index || *index >= at->size()) return nullptr;
      at = &(*at)[*index];
    } else {
      return nullptr;
    }
    if (dot == std::string_view::npos) return at;
    start = dot + 1;
  }
}

bool holds(const Condition& condition, const json& document)
{
  return holds_on(condition.op, lookup(document, condition.path), condition.value);
}

Decision decide(const Step& decision, const json& document)
{
  Decision out;
  json evaluated = json::array();
  for (std::size_t i = 0; i < decision.cases.size() && !out.matched_case; ++i) {
    const auto& c = decision.cases[i];
    bool all = true;
    // A case stops at its first condition that fails, as `and` reads.
    for (const auto& condition : c.when) {
      const json* actual = lookup(document, condition.path);
      bool held = holds_on(condition.op, actual, condition.value);
      evaluated.push_back({{"path", condition.path},
                           {"op", to_string(condition.op)},
                           {"value", condition.value},
                           {"actual", actual ? *actual : json(nullptr)},
                           {"absent", actual == nullptr},
                           {"held", held}});
      if (!held) {
        all = false;
        break;
      }
    }
    if (all) {
      out.matched_case = static_cast<int>(i);
      out.next = c.next;
    }
  }
  if (!out.matched_case) out.next = decision.default_next;
  out.detail = {{"case", out.matched_case ? json(*out.matched_case) : json(nullptr)},
                {"conditions", std::move(evaluated)}};
  return out;
}

} // namespace centrali::automations

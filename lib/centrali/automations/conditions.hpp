#pragma once
// Decision steps: conditions read values by path from the run's document
//   {"input": …, "context": …, "steps": {"<id>": {"status": …, "output": …}}}
// and the first case whose conditions all hold names the next step.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "centrali/automations/definition.hpp"

namespace centrali::automations {

// The value at `path` (`input.order.total`, `steps.score.output.risk`,
// `context.items.0` — a number indexes an array), or nullptr when absent.
const nlohmann::json* lookup(const nlohmann::json& document, std::string_view path);

// Whether `condition` holds. Comparisons never convert: `gt`/`gte`/`lt`/`lte`
// hold only between two numbers or two strings; `eq` between equal JSON
// values (1 == 1.0); `in`/`notIn` test membership in the condition's array;
// `contains` holds for a substring of a string or an element of an array;
// `exists`/`notExists` test presence (a null value exists). An absent value
// makes every operator but notExists and neq false.
bool holds(const Condition& condition, const nlohmann::json& document);

struct Decision {
  std::optional<int> matched_case;  // index into cases; none: the default
  std::string next;                 // empty: the run ends
  // For `runs show`: {"case": index or null, "conditions": [{"path", "op",
  // "value", "actual" (null when absent), "absent", "held"}…]} for every
  // condition evaluated, in order.
  nlohmann::json detail;
};

Decision decide(const Step& decision, const nlohmann::json& document);

} // namespace centrali::automations

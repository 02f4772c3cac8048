#pragma once
// An automation's definition: a trigger plus steps, read from a JSON file
//   {"name", "trigger": {...}, "steps": [...]}
// and validated whole before anything is stored. Every error names the
// JSON path of what is wrong (`steps[2].cases[0].when[0].op`).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/util/error.hpp"

namespace centrali::automations {

// A run executes at most this many steps; the next one fails it.
inline constexpr int k_max_steps_per_run = 1000;

enum class TriggerType { event, schedule, demand, http };

struct AutomationTrigger {
  TriggerType type = TriggerType::demand;
  // event
  std::vector<std::string> events;  // type globs (util/glob), at least one
  std::string source;               // empty = any
  std::string collection;           // empty = any (record events of this collection only)
  // schedule: exactly one of cron, every_ms, at_ms
  std::string cron;
  std::string timezone;             // for cron; empty = UTC
  std::optional<std::int64_t> every_ms;
  std::optional<std::int64_t> at_ms;
  // http: served as POST /automations/<path> (stored without leading '/')
  std::string path;
};

enum class StepType { compute, decision, delay };

// `eq neq gt gte lt lte exists notExists in notIn contains`
enum class Operator { eq, neq, gt, gte, lt, lte, exists, not_exists, in, not_in, contains };

struct Condition {
  std::string path;                 // input.… context.… steps.<id>.output.… steps.<id>.status
  Operator op = Operator::eq;
  nlohmann::json value;             // absent for exists / notExists (null)
};

struct DecisionCase {
  std::vector<Condition> when;      // all must hold; at least one
  std::string next;                 // a step id
};

struct Step {
  std::string id;
  StepType type = StepType::compute;
  std::string next;                 // empty: the run ends after this step
  // compute
  std::string run;                  // the command (shell, unless exec)
  bool exec = false;                // true: argv split from `run`, no shell
  std::int64_t timeout_ms = 30'000;
  int retries = 0;                  // extra attempts after a failure
  std::int64_t backoff_ms = 1'000;  // before retry n: backoff × 2^(n-1)
  bool retry_interrupted = true;    // "retry": false → an interrupted step fails the run
  std::string cwd;                  // empty = the executor's own
  std::vector<std::pair<std::string, std::string>> env;
  // decision
  std::vector<DecisionCase> cases;
  std::string default_next;         // empty: the run ends when no case holds
  // delay: exactly one of duration_ms, until_path
  std::optional<std::int64_t> duration_ms;
  std::string until_path;           // a path whose value is an RFC 3339 time or Unix seconds
};

struct Definition {
  std::string name;
  std::string description;
  AutomationTrigger trigger;
  std::vector<Step> steps;          // steps[0] runs first

  const Step* step(std::string_view id) const;
};

// Parses and validates a definition. ErrorKind::usage, message
// "<json path>: <what is wrong>" (path "" for the document itself), when:
// a member is missing, of the wrong type or unknown; a name is not
// [A-Za-z0-9_.-]{1,64} or a step id not [A-Za-z0-9_-]{1,64} (no '.': paths
// such as steps.<id>.output split on it); step ids repeat; a next/default/case names no
// step; an operator, step type or trigger type is unknown; a duration,
// time, cron expression or timezone does not parse; a compute step has no
// command; a path does not start with input, context or steps.<id>; or a
// cycle of steps contains no delay.
Result<Definition> parse_definition(const nlohmann::json& document);

// Same, from file text (JSON syntax errors say line and column).
Result<Definition> parse_definition_text(std::string_view text);

// The definition as a JSON document that parse_definition reads back to
// the same definition (what the store keeps and `show` prints).
nlohmann::json to_json(const Definition& definition);

std::string_view to_string(TriggerType type);
std::string_view to_string(StepType type);
std::string_view to_string(Operator op);

} // namespace centrali::automations

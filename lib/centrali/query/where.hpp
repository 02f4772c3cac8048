#pragma once
// Content conditions on event bodies: the one filter language of
// `--where` (events, deliveries, replays), webhook `--filter`s and event
// trigger `--where`s. A condition is `PATH OP VALUE` or `PATH exists`:
//
//   data.object.customer=cus_1     data.amount>=100     data.email~@example.com
//   data.items.0.sku!=SKU-1        data.refund exists   data.refund !exists
//
// PATH is dotted, as `--set` takes it (util/json_path.hpp): members, and
// array elements by index. OP is one of = != > >= < <= ~ !~ exists !exists.
// VALUE is a JSON scalar when it is one (100, 1.5, true, null, "quoted
// text"), else the text as written. Spaces around OP are allowed.
//
// How a condition holds:
// - Every operator but `!exists` needs the field: a missing field, or a
//   body that is not JSON, holds for `!exists` only.
// - `=` compares numbers by value (100 = 100.0) and strings, booleans and
//   null exactly; a value of another JSON type is not equal (the number
//   1234 is not the string "1234"). `!=` holds when `=` does not.
// - `>` `>=` `<` `<=` compare a number with a number and a string with a
//   string (bytewise, so ISO dates order by time); other pairs do not hold.
// - `~` holds when a string field contains VALUE's text, or an array field
//   has an element equal to VALUE; `!~` holds when `~` does not.
// - Conditions given together must all hold.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/query/json_find.hpp"
#include "centrali/util/error.hpp"

namespace centrali::query {

enum class Op { equal, not_equal, greater, greater_equal, less, less_equal, contains, not_contains, exists, not_exists };

// A condition's VALUE, read once when parsed.
struct Literal {
  JsonKind kind = JsonKind::null;       // string, number, boolean or null (text is a string)
  std::string text;                     // a string's content; a number, boolean or null as written
  double number = 0;
  std::optional<std::int64_t> integer;  // a number written without fraction or exponent, when it fits
};

struct Condition {
  std::string text;  // as written, trimmed: what `show` and the project file print
  std::string path;
  Op op = Op::exists;
  Literal value;     // unused by exists / !exists
  // Bytes the body must hold for the condition to hold, when it has no
  // escapes (see Where::first_failure); empty when there are none to ask for.
  std::string key_bytes;    // the field's last member name, quoted
  std::string value_bytes;  // a string value's text (quoted for =)
};

// What one condition made of one body, for people (`events show --explain`).
struct ConditionOutcome {
  std::string text;                  // the condition as written
  bool held = false;
  std::optional<std::string> found;  // the field's JSON text (cut to 80 bytes), or nullopt when missing
};

class Where {
public:
  // Every condition in `texts` (a repeatable flag's values). A usage error
  // names `label` and the condition: "--where 'data.amount>>5': '>5' is not
  // a value: ...".
  static Result<Where> parse(const std::vector<std::string>& texts, std::string_view label);

  bool empty() const { return m_conditions.empty(); }
  const std::vector<Condition>& conditions() const { return m_conditions; }

  // Whether every condition holds for `body` (raw bytes, JSON or not).
  bool matches(std::string_view body) const { return !first_failure(body); }
  // The index of a condition that does not hold, if any (the first one
  // found, not always the first in order).
  std::optional<std::size_t> first_failure(std::string_view body) const;

  // Each condition's outcome, in order; `body_is_json` says whether the
  // body parsed at all.
  std::vector<ConditionOutcome> explain(std::string_view body, bool* body_is_json = nullptr) const;

private:
  std::vector<Condition> m_conditions;
  std::vector<JsonPath> m_paths;         // each distinct path once
  std::vector<std::size_t> m_path_of;    // condition -> its path in m_paths
};

// One condition as written; a usage error says what is wrong with it (to
// follow "LABEL 'TEXT': "). Where::parse is this for each text.
Result<Condition> parse_condition(std::string_view text);

} // namespace centrali::query

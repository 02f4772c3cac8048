#include "centrali/query/where.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "centrali/util/json_bounded.hpp"
#include "centrali/util/json_lexer.hpp"
#include "centrali/util/json_path.hpp"

namespace centrali::query {
namespace {

constexpr std::string_view k_operator_chars = "=!<>~";
constexpr std::string_view k_grammar = "write PATH OP VALUE (OP is = != > >= < <= ~ !~) or PATH exists / PATH !exists";
constexpr std::size_t k_max_shown = 80;

std::string_view trim(std::string_view s)
{
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

struct Spelling {
  std::string_view text;
  Op op;
};
// Longest first, so `>=` is not read as `>` followed by a value "=…".
constexpr Spelling k_operators[] = {{"!=", Op::not_equal}, {">=", Op::greater_equal}, {"<=", Op::less_equal},
                                    {"!~", Op::not_contains}, {"=", Op::equal},        {">", Op::greater},
                                    {"<", Op::less},          {"~", Op::contains}};

bool is_ordering(Op op)
{
  return op == Op::greater || op == Op::greater_equal || op == Op::less || op == Op::less_equal;
}

// A number token's value: an integer when written as one and it fits.
void read_number(std::string_view token, double& number, std::optional<std::int64_t>& integer)
{
  integer.reset();
  if (token.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t i = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), i);
    if (ec == std::errc() && end == token.data() + token.size()) integer = i;
  }
  number = 0;
  std::from_chars(token.data(), token.data() + token.size(), number);
}

Result<Literal> read_value(std::string_view text)
{
  Literal v;
  if (text == "true" || text == "false" || text == "null") {
    v.kind = text == "null" ? JsonKind::null : JsonKind::boolean;
    v.text = std::string(text);
    return v;
  }
  json_lexer::Cursor number(text);
  if (number.number() && number.at_end()) {
    v.kind = JsonKind::number;
    v.text = std::string(text);
    read_number(text, v.number, v.integer);
    return v;
  }
  if (text.front() == '"') {
    json_lexer::Cursor string(text.substr(1));
    std::string content;
    if (!string.string(&content) || !string.at_end())
      return fail(ErrorKind::usage, "the value " + std::string(text) +
                                        " starts with a quote but is not one JSON string (close the quote, or "
                                        "escape quotes inside it as \\\")");
    v.kind = JsonKind::string;
    v.text = std::move(content);
    return v;
  }
  if (text.front() == '{' || text.front() == '[') {
    auto parsed = parse_json(text);
    if (!parsed.is_discarded())
      return fail(ErrorKind::usage, "the value is " + std::string(parsed.is_object() ? "an object" : "an array") +
                                        ": compare one field at a time (a path can lead into it, e.g. "
                                        "data.items.0.sku=A1), or use ~ to find an element of an array");
  }
  v.kind = JsonKind::string;  // any other text, as written
  v.text = std::string(text);
  return v;
}

// -1, 0 or 1: `field` (a number token) against `value`.
int compare_numbers(std::string_view field, const Literal& value)
{
  double number = 0;
  std::optional<std::int64_t> integer;
  read_number(field, number, integer);
  if (integer && value.integer) return *integer < *value.integer ? -1 : *integer > *value.integer ? 1 : 0;
  return number < value.number ? -1 : number > value.number ? 1 : 0;
}

// A string field's content: its bytes between the quotes unless escaped.
std::string_view string_content(std::string_view field, std::string& scratch)
{
  if (field.find('\\') == std::string_view::npos) return field.substr(1, field.size() - 2);
  scratch = json_string_content(field);
  return scratch;
}

bool equal(std::string_view field, const Literal& value)
{
  const auto kind = json_kind(field);
  if (kind != value.kind) return false;
  switch (kind) {
  case JsonKind::number: return compare_numbers(field, value) == 0;
  case JsonKind::string: {
    std::string scratch;
    return string_content(field, scratch) == value.text;
  }
  case JsonKind::boolean: return field == value.text;
  case JsonKind::null: return true;
  default: return false;
  }
}

bool contains(std::string_view field, const Literal& value)
{
  switch (json_kind(field)) {
  case JsonKind::string: {
    std::string scratch;
    return string_content(field, scratch).find(value.text) != std::string_view::npos;
  }
  case JsonKind::array: {
    const auto elements = json_elements(field);
    return std::any_of(elements.begin(), elements.end(), [&](std::string_view e) { return equal(e, value); });
  }
  default: return false;
  }
}

// -1, 0 or 1 when `field` and `value` are both numbers or both strings.
std::optional<int> order(std::string_view field, const Literal& value)
{
  const auto kind = json_kind(field);
  if (kind != value.kind) return std::nullopt;
  if (kind == JsonKind::number) return compare_numbers(field, value);
  if (kind != JsonKind::string) return std::nullopt;
  std::string scratch;
  const auto c = string_content(field, scratch).compare(value.text);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// A field's JSON text, cut for a line of output (on a UTF-8 boundary).
std::string shown(std::string_view field)
{
  if (field.size() <= k_max_shown) return std::string(field);
  std::size_t cut = k_max_shown;
  while (cut > 0 && (static_cast<unsigned char>(field[cut]) & 0xC0) == 0x80) --cut;
  return std::string(field.substr(0, cut)) + "...";
}

bool holds(const Condition& c, std::optional<std::string_view> field)
{
  if (c.op == Op::not_exists) return !field;
  if (!field) return false;
  switch (c.op) {
  case Op::exists: return true;
  case Op::equal: return equal(*field, c.value);
  case Op::not_equal: return !equal(*field, c.value);
  case Op::contains: return contains(*field, c.value);
  case Op::not_contains: return !contains(*field, c.value);
  default: break;
  }
  auto o = order(*field, c.value);
  if (!o) return false;
  switch (c.op) {
  case Op::greater: return *o > 0;
  case Op::greater_equal: return *o >= 0;
  case Op::less: return *o < 0;
  case Op::less_equal: return *o <= 0;
  default: return false;
  }
}

// Text JSON writes as its own bytes (no quote, backslash or control byte).
bool spelled_as_is(std::string_view text)
{
  return std::none_of(text.begin(), text.end(),
                      [](char ch) { return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20; });
}

// Condition::key_bytes and value_bytes: what a body without escapes must
// contain for `c` to hold. Only for conditions that need the field (not
// !exists), and only what is certain: `!=` and `!~` hold without their
// value, and a number may be written many ways (5000, 5e3, 5000.0).
void set_required_bytes(Condition& c)
{
  if (c.op == Op::not_exists) return;
  std::string_view path = c.path;
  const auto dot = path.rfind('.');
  const auto last = dot == std::string_view::npos ? path : path.substr(dot + 1);
  // An index names an element, which has no name in the text (or a member
  // whose name is digits: either way, nothing certain to look for).
  if (!json_path_index(last) && spelled_as_is(last)) c.key_bytes = "\"" + std::string(last) + "\"";
  if (c.value.kind != JsonKind::string || c.value.text.empty() || !spelled_as_is(c.value.text)) return;
  if (c.op == Op::equal) c.value_bytes = "\"" + c.value.text + "\"";
  else if (c.op == Op::contains) c.value_bytes = c.value.text;
}

} // namespace

Result<Condition> parse_condition(std::string_view written)
{
  const auto text = trim(written);
  if (text.empty()) return fail(ErrorKind::usage, "the condition is empty: " + std::string(k_grammar));
  Condition c;
  c.text = std::string(text);
  const auto path_end = std::min(text.find_first_of(k_operator_chars), text.find_first_of(" \t"));
  c.path = std::string(text.substr(0, path_end));
  if (c.path.empty())
    return fail(ErrorKind::usage, "it starts with an operator: name a field first, e.g. data.amount>=100");
  if (auto segments = parse_json_path(c.path); !segments) return std::unexpected(segments.error());
  const auto rest = trim(text.substr(std::min(path_end, text.size())));
  if (rest.empty()) return fail(ErrorKind::usage, "no operator after " + c.path + ": " + std::string(k_grammar));
  if (rest == "exists" || rest == "!exists") {
    c.op = rest == "exists" ? Op::exists : Op::not_exists;
    set_required_bytes(c);
    return c;
  }
  if (rest.starts_with("exists") || rest.starts_with("!exists"))
    return fail(ErrorKind::usage, "'exists' and '!exists' take no value: write " + c.path + " exists");
  const Spelling* spelling = nullptr;
  for (const auto& s : k_operators)
    if (rest.starts_with(s.text)) {
      spelling = &s;
      break;
    }
  if (!spelling)
    return fail(ErrorKind::usage, "no operator after " + c.path + " (paths have no spaces; found '" +
                                      std::string(rest) + "'): " + std::string(k_grammar));
  c.op = spelling->op;
  const auto value = trim(rest.substr(spelling->text.size()));
  if (value.empty())
    return fail(ErrorKind::usage, "no value after '" + std::string(spelling->text) + "' (to test that the field is there, write " +
                                      c.path + " exists; to compare with empty text, write " + c.path +
                                      std::string(spelling->text) + "\"\")");
  if (c.op == Op::equal && value.front() == '=')
    return fail(ErrorKind::usage, "'==' is written '=' here");
  if (k_operator_chars.find(value.front()) != std::string_view::npos)
    return fail(ErrorKind::usage, "'" + std::string(value) +
                                      "' is not a value: one operator at a time (text that starts with one of = ! < > ~ "
                                      "is written quoted, as a JSON string: \"" + std::string(value) + "\")");
  auto literal = read_value(value);
  if (!literal) return std::unexpected(literal.error());
  c.value = std::move(*literal);
  if (is_ordering(c.op) && c.value.kind != JsonKind::number && c.value.kind != JsonKind::string)
    return fail(ErrorKind::usage, "'" + std::string(spelling->text) + "' compares numbers or strings, and " +
                                      c.value.text + " is neither");
  set_required_bytes(c);
  return c;
}

Result<Where> Where::parse(const std::vector<std::string>& texts, std::string_view label)
{
  Where w;
  for (const auto& text : texts) {
    auto c = parse_condition(text);
    if (!c) return fail(ErrorKind::usage, std::string(label) + " '" + text + "': " + c.error().message);
    // parse_condition checked the path.
    auto segments = *parse_json_path(c->path);
    auto same = std::find_if(w.m_paths.begin(), w.m_paths.end(), [&](const JsonPath& p) { return p.segments == segments; });
    if (same == w.m_paths.end()) {
      if (w.m_paths.size() == k_max_paths)
        return fail(ErrorKind::usage, std::string(label) + ": at most " + std::to_string(k_max_paths) +
                                          " different fields in one filter");
      w.m_paths.emplace_back(std::move(segments));
      same = w.m_paths.end() - 1;
    }
    w.m_path_of.push_back(static_cast<std::size_t>(same - w.m_paths.begin()));
    w.m_conditions.push_back(std::move(*c));
  }
  return w;
}

std::optional<std::size_t> Where::first_failure(std::string_view body) const
{
  if (m_conditions.empty()) return std::nullopt;
  // In a body without a backslash every string is spelled as its bytes, so
  // a field named "dispute" is there only if `"dispute"` is, and the
  // string "cus_1" only if `"cus_1"` is. Searching bytes for that runs
  // many times faster than reading the JSON, and a query that matches
  // nothing (the slowest kind) mostly ends here.
  if (!body.empty() && std::memchr(body.data(), '\\', body.size()) == nullptr)
    for (std::size_t i = 0; i < m_conditions.size(); ++i) {
      const auto& c = m_conditions[i];
      for (const auto* bytes : {&c.key_bytes, &c.value_bytes})
        if (!bytes->empty() && ::memmem(body.data(), body.size(), bytes->data(), bytes->size()) == nullptr) return i;
    }
  const auto found = find_json(body, m_paths);
  for (std::size_t i = 0; i < m_conditions.size(); ++i)
    if (!holds(m_conditions[i], found.at(m_path_of[i]))) return i;
  return std::nullopt;
}

std::vector<ConditionOutcome> Where::explain(std::string_view body, bool* body_is_json) const
{
  const auto found = find_json(body, m_paths);
  if (body_is_json) *body_is_json = found.valid;
  std::vector<ConditionOutcome> out;
  for (std::size_t i = 0; i < m_conditions.size(); ++i) {
    const auto field = found.at(m_path_of[i]);
    ConditionOutcome o;
    o.text = m_conditions[i].text;
    o.held = holds(m_conditions[i], field);
    if (field) o.found = shown(*field);
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace centrali::query

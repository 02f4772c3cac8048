#pragma once
// JSON from outside (request bodies, stored events, exported fixtures,
// function output) parsed with a bound on nesting. nlohmann's parser keeps
// its own stack, but dump(), copies and comparisons recurse once per level:
// a 100 KB body of 50,000 `[` parses fine and then overflows the stack of
// whichever thread prints or forwards it. Every parse of text we did not
// write goes through parse_json, so no document in memory is deeper than
// the bound and every later recursive step is safe.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace centrali {

// Deeper than any real webhook payload (they stay under 20 levels) and far
// shallower than what a thread's stack survives in a recursive dump.
inline constexpr int k_max_json_depth = 256;

// Deepest nesting of `[` and `{` outside strings in `text`, counted as far
// as `limit + 1` (the scan stops there). Exact for valid JSON; for other
// text, the depth its brackets would reach.
int json_depth(std::string_view text, int limit = k_max_json_depth);

// Whether `text` nests deeper than k_max_json_depth.
inline bool json_too_deep(std::string_view text)
{
  return json_depth(text) > k_max_json_depth;
}

// `text` parsed; a discarded value (is_discarded()) when it is not JSON
// (a NUL byte included: nlohmann would stop reading there) or nests deeper
// than k_max_json_depth. Never throws.
nlohmann::json parse_json(std::string_view text);
nlohmann::ordered_json parse_ordered_json(std::string_view text);

// Why parse_json refused `text`, to end a sentence: "is not valid JSON" or
// "is nested deeper than 256 levels".
std::string json_refusal(std::string_view text);

} // namespace centrali

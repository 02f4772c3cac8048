#pragma once
// Lists with a default length (`events list`, `deliveries list`, `triggers
// runs`, `records list`): one row more than shown is fetched, so that a
// list cut at its default says so, and how to see the rest, rather than
// stopping at 50 without a word.
#include <string_view>
#include <vector>

#include "output.hpp"

namespace centrali::cli {

struct ListLimit {
  int limit = 50;      // --limit N; 0 means all
  bool given = false;  // --limit was on the command line
};

// How many rows to ask the store for: one past the limit, or 0 (all).
int fetch_limit(const ListLimit& l);

// Drops the row fetched past the limit; true when there was one (the list
// was cut).
template <class T>
bool cut_to_limit(std::vector<T>& rows, const ListLimit& l)
{
  if (l.limit <= 0 || rows.size() <= static_cast<std::size_t>(l.limit)) return false;
  rows.resize(static_cast<std::size_t>(l.limit));
  return true;
}

// When a list was `cut` at its default limit, says so on stderr: "showing
// the newest 50; pass --limit 0 for all (or --limit N)", with `order`
// "newest" or "oldest". Under --json the line is JSON with "truncated"
// and "limit" added; stdout keeps its plain array. A limit the user gave
// is not remarked on.
void note_if_cut(Output& out, const ListLimit& l, bool cut, std::string_view order);

} // namespace centrali::cli

#include "list_limit.hpp"

#include <string>

namespace centrali::cli {

int fetch_limit(const ListLimit& l)
{
  return l.limit > 0 ? l.limit + 1 : 0;
}

void note_if_cut(Output& out, const ListLimit& l, bool cut, std::string_view order)
{
  if (!cut || l.given) return;
  const auto n = std::to_string(l.limit);
  out.note("showing the " + std::string(order) + " " + n + "; pass --limit 0 for all (or --limit N)",
           {{"truncated", true}, {"limit", l.limit}});
}

} // namespace centrali::cli

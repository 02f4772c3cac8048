#pragma once
// Binding and reading the nullable columns the store's tables share
// (store-internal: included by store/*.cpp only). An absent value is SQL
// NULL, never 0 or "".
#include <cstdint>
#include <optional>
#include <string>


namespace centrali::store {

inline std::optional<std::int64_t> optional_int(const Column& c)
{
  if (c.is_null()) return std::nullopt;
  return c.as_int64();
}

inline void bind_optional(Statement& st, int index, const std::optional<std::int64_t>& v)
{
  if (v) st.bind(index, static_cast<int64_t>(*v));
  else st.bind(index);
}

// Empty text is stored as NULL.
inline void bind_text_or_null(Statement& st, int index, const std::string& v)
{
  if (v.empty()) st.bind(index);
  else st.bind(index, v);
}

} // namespace centrali::store

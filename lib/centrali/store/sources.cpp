#include "centrali/store/sources.hpp"
#include "centrali/util/utf8.hpp"

#include <nlohmann/json.hpp>

#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

Source read_source(Statement& st)
{
  Source s;
  s.name = st.column(0).as_string();
  s.provider = st.column(1).as_string();
  auto secrets = parse_json(st.column(2).as_string());
  if (secrets.is_array())
    for (const auto& v : secrets)
      if (v.is_string()) s.secrets.push_back(v.get<std::string>());
  if (!st.column(3).is_null()) s.tolerance_s = st.column(3).as_int64();
  s.forward_to = st.column(4).as_string();
  s.created_ms = st.column(5).as_int64();
  return s;
}

constexpr const char* k_select = "SELECT name, provider, secrets, tolerance_s, forward_to, created_ms FROM sources";

} // namespace

Result<void> add_source(Store& store, const Source& source)
{
  return guarded("add source " + source.name, [&]() -> Result<void> {
    Statement exists(store, "SELECT 1 FROM sources WHERE name = ?");
    exists.bind(1, source.name);
    if (exists.step())
      return fail(ErrorKind::rejected, "source '" + source.name + "' already exists (remove it first with 'centrali sources rm " + source.name + "')");
    Statement st(store, "INSERT INTO sources (name, provider, secrets, tolerance_s, forward_to, "
                                     "created_ms) VALUES (?,?,?,?,?,?)");
    st.bind(1, source.name);
    st.bind(2, source.provider);
    st.bind(3, nlohmann::json(source.secrets).dump());
    if (source.tolerance_s) st.bind(4, static_cast<int64_t>(*source.tolerance_s));
    else st.bind(4);
    if (source.forward_to.empty()) st.bind(5);
    else st.bind(5, source.forward_to);
    st.bind(6, static_cast<int64_t>(source.created_ms));
    st.exec();
    return {};
  });
}

Result<void> update_source(Store& store, const Source& source)
{
  return guarded("update source " + source.name, [&]() -> Result<void> {
    Statement st(store, "UPDATE sources SET secrets = ?, tolerance_s = ?, forward_to = ?, provider = ? WHERE name = ?");
    st.bind(1, nlohmann::json(source.secrets).dump());
    if (source.tolerance_s) st.bind(2, static_cast<int64_t>(*source.tolerance_s));
    else st.bind(2);
    if (source.forward_to.empty()) st.bind(3);
    else st.bind(3, source.forward_to);
    st.bind(4, source.provider);
    st.bind(5, source.name);
    if (st.exec() == 0) return fail(ErrorKind::not_found, "no source named '" + source.name + "'");
    return {};
  });
}

Result<Source> get_source(Store& store, const std::string& name)
{
  return guarded("read source " + name, [&]() -> Result<Source> {
    // No source is named so (names are checked when added), and PostgreSQL
    // cannot even compare such text: a stranger's path is not a store fault.
    if (name.find('\0') != std::string::npos || !is_valid_utf8(name))
      return fail(ErrorKind::not_found, "no source named that");
    Statement st(store, std::string(k_select) + " WHERE name = ?");
    st.bind(1, name);
    if (!st.step()) return fail(ErrorKind::not_found, "no source named '" + name + "'");
    return read_source(st);
  });
}

Result<std::vector<Source>> list_sources(Store& store)
{
  return guarded("list sources", [&]() -> Result<std::vector<Source>> {
    Statement st(store, std::string(k_select) + " ORDER BY name");
    std::vector<Source> out;
    while (st.step()) out.push_back(read_source(st));
    return out;
  });
}

Result<void> remove_source(Store& store, const std::string& name)
{
  return guarded("remove source " + name, [&]() -> Result<void> {
    Statement st(store, "DELETE FROM sources WHERE name = ?");
    st.bind(1, name);
    if (st.exec() == 0) return fail(ErrorKind::not_found, "no source named '" + name + "'");
    return {};
  });
}

Result<std::vector<std::string>> secret_env_names(Store& store)
{
  auto sources = list_sources(store);
  if (!sources) return std::unexpected(sources.error());
  std::vector<std::string> names;
  for (const auto& s : *sources)
    for (const auto& ref : s.secrets)
      if (ref.starts_with("env:")) names.push_back(ref.substr(4));
  return names;
}

} // namespace centrali::store

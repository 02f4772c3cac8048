#include "centrali/store/records.hpp"
#include "centrali/store/postgres/sql.hpp"
#include "centrali/store/sqlite/sql.hpp"


#include "centrali/store/events.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::store {
namespace {

using json = nlohmann::json;

std::string dump(const json& j)
{
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Record read_record(Statement& st)
{
  Record r;
  r.id = st.column(0).as_string();
  r.collection = st.column(1).as_string();
  r.data = parse_json(st.column(2).as_string());
  if (!r.data.is_object()) r.data = json::object();
  r.version = st.column(3).as_int64();
  r.created_ms = st.column(4).as_int64();
  r.updated_ms = st.column(5).as_int64();
  return r;
}

constexpr const char* k_select = "SELECT id, collection, data, version, created_ms, updated_ms FROM records";

Result<Record> find(Store& store, const std::string& id)
{
  auto& st = store.statement("SELECT id, collection, data, version, created_ms, updated_ms FROM records WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return fail(ErrorKind::not_found, "no record " + id);
  auto r = read_record(st);
  st.reset();
  return r;
}

Result<void> emit(Store& store, const char* type, const Record& record, const Record* before, std::int64_t now_ms)
{
  Event e;
  e.id = ids::make(ids::k_event);
  e.source = "local";
  e.type = type;
  e.status = "accepted";
  e.method = "";
  e.path = "records/" + record.collection;
  e.received_ms = now_ms;
  e.body = record_event_body(record, before);
  return insert_event(store, e, true);
}

// `$."a"."b"`: each segment quoted, so any key text is inert in the path.
std::string json_path(const std::vector<std::string>& path)
{
  std::string out = "$";
  for (const auto& seg : path) {
    out += ".\"";
    for (char c : seg) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

// `{"a","b"}`: the same path as a PostgreSQL text array, each element quoted.
std::string text_array(const std::vector<std::string>& path)
{
  std::string out = "{";
  for (const auto& seg : path) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : seg) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

} // namespace

std::string record_event_body(const Record& record, const Record* before)
{
  json body = {{"collection", record.collection}, {"id", record.id}, {"version", record.version}, {"data", record.data}};
  if (before) {
    body["before"] = before->data;
    body["after"] = record.data;
  }
  return dump(body);
}

Result<Record> create_record(Store& store, const std::string& collection, const json& data, std::int64_t now_ms)
{
  Record r;
  r.id = ids::make(ids::k_record);
  r.collection = collection;
  r.data = data;
  r.version = 1;
  r.created_ms = r.updated_ms = now_ms;
  auto done = write_transaction(store, [&]() -> Result<void> {
    auto& st = store.statement(
        "INSERT INTO records (id, collection, data, version, created_ms, updated_ms) VALUES (?,?,?,?,?,?)");
    st.bind(1, r.id);
    st.bind(2, r.collection);
    st.bind(3, dump(r.data));
    st.bind(4, static_cast<int64_t>(r.version));
    st.bind(5, static_cast<int64_t>(now_ms));
    st.bind(6, static_cast<int64_t>(now_ms));
    st.exec();
    return emit(store, "record_created", r, nullptr, now_ms);
  });
  if (!done) return std::unexpected(done.error());
  return r;
}

Result<RecordChange> update_record(Store& store, const std::string& id, const DataChange& change, std::int64_t now_ms)
{
  RecordChange out;
  auto done = write_transaction(store, [&]() -> Result<void> {
    auto before = find(store, id);
    if (!before) return std::unexpected(before.error());
    auto data = change(before->data);
    if (!data) return std::unexpected(data.error());
    out.before = *before;
    out.after = *before;
    out.after.data = std::move(*data);
    out.after.version = before->version + 1;
    out.after.updated_ms = now_ms;
    auto& st = store.statement("UPDATE records SET data = ?, version = ?, updated_ms = ? WHERE id = ?");
    st.bind(1, dump(out.after.data));
    st.bind(2, static_cast<int64_t>(out.after.version));
    st.bind(3, static_cast<int64_t>(now_ms));
    st.bind(4, id);
    st.exec();
    return emit(store, "record_updated", out.after, &out.before, now_ms);
  });
  if (!done) return std::unexpected(done.error());
  return out;
}

Result<Record> delete_record(Store& store, const std::string& id, std::int64_t now_ms)
{
  Record gone;
  auto done = write_transaction(store, [&]() -> Result<void> {
    auto r = find(store, id);
    if (!r) return std::unexpected(r.error());
    gone = *r;
    auto& st = store.statement("DELETE FROM records WHERE id = ?");
    st.bind(1, id);
    st.exec();
    return emit(store, "record_deleted", gone, nullptr, now_ms);
  });
  if (!done) return std::unexpected(done.error());
  return gone;
}

Result<Record> get_record(Store& store, const std::string& id)
{
  return guarded("read record " + id, [&]() -> Result<Record> { return find(store, id); });
}

Result<std::vector<Record>> list_records(Store& store, const RecordFilter& f)
{
  return guarded("list records", [&]() -> Result<std::vector<Record>> {
    std::string sql = std::string(k_select) + " WHERE collection = ?";
    const bool sqlite = store.backend() == Backend::sqlite;
    for (const auto& m : f.where)
      sql += m.value.is_null() ? (sqlite ? sqlite::k_json_is_null : postgres::k_json_is_null)
                               : (sqlite ? sqlite::k_json_equals : postgres::k_json_equals);
    sql += " ORDER BY id";
    if (f.limit > 0) sql += " LIMIT ?";
    Statement st(store, sql);
    int i = 1;
    st.bind(i++, f.collection);
    for (const auto& m : f.where) {
      if (!sqlite) {
        // jsonb compares JSON values: a number never equals a string.
        st.bind(i++, text_array(m.path));
        if (!m.value.is_null()) st.bind(i++, dump(m.value));
        continue;
      }
      st.bind(i++, json_path(m.path));
      if (m.value.is_null()) continue;
      // json_extract gives SQL values: integers, reals, text, and 1/0 for
      // true/false; bind the same kind so `total=10` matches the number 10.
      if (m.value.is_boolean()) st.bind(i++, m.value.get<bool>() ? 1 : 0);
      else if (m.value.is_number_integer()) st.bind(i++, static_cast<int64_t>(m.value.get<std::int64_t>()));
      else if (m.value.is_number()) st.bind(i++, m.value.get<double>());
      else if (m.value.is_string()) st.bind(i++, m.value.get<std::string>());
      else st.bind(i++, dump(m.value));
    }
    if (f.limit > 0) st.bind(i++, f.limit);
    std::vector<Record> out;
    while (st.step()) out.push_back(read_record(st));
    return out;
  });
}

} // namespace centrali::store

#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include "centrali/records/records.hpp"
#include "centrali/store/events.hpp"
#include "centrali/dispatch/fanout.hpp"
#include "centrali/store/records.hpp"
#include "centrali/store/triggers.hpp"
#include "temp_store.hpp"

using namespace centrali;
using json = nlohmann::json;

namespace {

std::vector<store::Event> local_events(store::Store& s)
{
  store::EventFilter f;
  f.source = "local";
  f.oldest_first = true;
  f.with_body = true;
  f.limit = 0;
  auto events = store::list_events(s, f);
  REQUIRE(events);
  return *events;
}

} // namespace

TEST_CASE("store records: create, update and delete each write their record event in the same transaction", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto created = store::create_record(s, "orders", {{"total", 10}}, 1000);
  REQUIRE(created);
  CHECK(created->version == 1);
  auto changed = records::update(s, created->id, R"({"status":"paid"})", 2000);
  REQUIRE(changed);
  CHECK(changed->after.version == 2);
  CHECK(changed->after.data == json{{"total", 10}, {"status", "paid"}});
  auto gone = store::delete_record(s, created->id, 3000);
  REQUIRE(gone);
  CHECK(gone->version == 2);
  CHECK(store::get_record(s, created->id).error().kind == ErrorKind::not_found);

  auto events = local_events(s);
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "record_created");
  CHECK(events[1].type == "record_updated");
  CHECK(events[2].type == "record_deleted");
  auto c = json::parse(events[0].body);
  CHECK(c == json{{"collection", "orders"}, {"id", created->id}, {"version", 1}, {"data", {{"total", 10}}}});
  auto u = json::parse(events[1].body);
  CHECK(u["before"] == json{{"total", 10}});
  CHECK(u["after"] == json{{"total", 10}, {"status", "paid"}});
  CHECK(u["data"] == u["after"]);
  CHECK(u["version"] == 2);
  auto d = json::parse(events[2].body);
  CHECK(d["data"] == json{{"total", 10}, {"status", "paid"}});
  for (const auto& e : events) CHECK(e.status == "accepted");
  // Marked for fan-out: the dispatcher picks them up like ingested events.
  auto pending = store::has_pending_events(s);
  REQUIRE(pending);
  CHECK(*pending);
}

TEST_CASE("store records: a failing change writes neither the record nor its event", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto created = store::create_record(s, "orders", {{"a", 1}}, 1000);
  REQUIRE(created);
  auto r = store::update_record(
      s, created->id, [](const json&) -> Result<json> { return fail(ErrorKind::usage, "no"); }, 2000);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(store::get_record(s, created->id)->version == 1);
  CHECK(local_events(s).size() == 1);
  CHECK(store::update_record(s, "rec_missing", [](const json& j) -> Result<json> { return j; }, 1).error().kind ==
        ErrorKind::not_found);
  // The store stays usable: the transaction was rolled back, not left open.
  CHECK(store::create_record(s, "orders", json::object(), 3000));
}

TEST_CASE("store records: list filters by collection and --where fields, oldest first", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto a = store::create_record(s, "orders", {{"status", "paid"}, {"total", 10}, {"c", {{"country", "DE"}}}}, 1);
  auto b = store::create_record(s, "orders", {{"status", "new"}, {"total", 20}}, 2);
  auto c = store::create_record(s, "orders", {{"status", "paid"}, {"total", 30}, {"flag", true}}, 3);
  REQUIRE((a && b && c));
  REQUIRE(store::create_record(s, "users", {{"status", "paid"}}, 4));
  auto list = [&](std::vector<std::string> where, int limit = 50) {
    store::RecordFilter f;
    f.collection = "orders";
    f.limit = limit;
    for (const auto& w : where) f.where.push_back(*records::parse_where(w));
    auto rows = store::list_records(s, f);
    REQUIRE(rows);
    std::vector<std::string> ids;
    for (const auto& r : *rows) ids.push_back(r.id);
    return ids;
  };
  CHECK(list({}) == std::vector<std::string>{a->id, b->id, c->id});
  CHECK(list({"status=paid"}) == std::vector<std::string>{a->id, c->id});
  CHECK(list({"status=paid", "total=30"}) == std::vector<std::string>{c->id});
  CHECK(list({"c.country=DE"}) == std::vector<std::string>{a->id});
  CHECK(list({"flag=true"}) == std::vector<std::string>{c->id});
  CHECK(list({"flag=null"}) == std::vector<std::string>{a->id, b->id});
  CHECK(list({"total=\"10\""}).empty());  // the string "10" is not the number 10
  CHECK(list({}, 2).size() == 2);
}

TEST_CASE("store records: fan-out of a record event queues a run only for triggers of its collection", "[store]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  store::Trigger t;
  t.name = "orders-only";
  t.kind = "event";
  t.command = "true";
  t.events = "record_*";
  t.collection = "orders";
  REQUIRE(store::add_trigger(s, t));
  REQUIRE(store::create_record(s, "users", json::object(), 1));
  REQUIRE(store::create_record(s, "orders", json::object(), 2));
  auto out = dispatch::fan_out_pending(s, 100, 3);
  REQUIRE(out);
  CHECK(out->events == 2);
  CHECK(out->runs == 1);
}

#include "seed_events.hpp"

#include <catch2/catch.hpp>

#include "centrali/store/events.hpp"
#include "centrali/store/store.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

namespace testing {

void store_local_events(const std::string& store_path, const std::string& type, int count)
{
  using namespace centrali;
  auto s = store::Store::open(store_path);
  REQUIRE(s);
  for (int i = 0; i < count; ++i) {
    store::Event e;
    e.id = ids::make(ids::k_event);
    e.source = "local";
    e.type = type;
    e.status = "accepted";
    e.body = R"({"n":)" + std::to_string(i) + "}";
    e.received_ms = timeutil::now_ms();
    REQUIRE(store::insert_event(*s, e, true));
  }
}

} // namespace testing

// Fills a store with N synthetic accepted events (ten types, 700-byte
// bodies) through the store layer, in large transactions, for the
// query-speed benchmarks.   bench_seed STORE N
#include <cstdio>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include "centrali/store/events.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"

int main(int argc, char** argv)
{
  using namespace centrali;
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_seed STORE N\n");
    return 2;
  }
  auto store = store::Store::open(argv[1], {store::Durability::normal});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 4;
  }
  long n = std::stol(argv[2]);
  auto now = timeutil::now_ms();
  std::string padding(600, 'x');
  for (long done = 0; done < n;) {
    SQLite::Transaction tx(store->db());
    for (long i = 0; i < 50'000 && done < n; ++i, ++done) {
      store::Event e;
      e.id = ids::make_at(ids::k_event, static_cast<std::uint64_t>(now - (n - done)));
      e.source = "seed";
      e.type = "type." + std::to_string(done % 10);
      e.status = "accepted";
      e.http_status = 202;
      e.dedupe_key = "seed-" + std::to_string(done);
      e.received_ms = now - (n - done);
      e.headers = {{"Content-Type", "application/json"}};
      e.body = R"({"type":")" + e.type + R"(","n":)" + std::to_string(done) + R"(,"pad":")" + padding + "\"}";
      if (auto r = store::insert_event(*store, e, false); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 4;
      }
    }
    tx.commit();
  }
  return 0;
}

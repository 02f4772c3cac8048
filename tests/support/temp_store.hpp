#pragma once
// A fresh store for a unit test (header-only, Catch2): a file in the test's
// temp folder, or with CENTRALI_TEST_BACKEND=postgresql (the "unit-pg:" run
// of the store suite) a database of its own on the test server, one per
// folder, dropped when the test process ends.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "centrali/store/store.hpp"
#include "scratch_postgres.hpp"
#include "temp_dir.hpp"

namespace unit {

inline bool stores_on_postgres()
{
  const char* backend = std::getenv("CENTRALI_TEST_BACKEND");
  return backend && std::string(backend) == "postgresql";
}

// Where the test's store lives: what --store would name.
inline std::string store_location(const TempDir& dir)
{
  if (!stores_on_postgres()) return (dir.path() / "s.db").string();
  REQUIRE(testing::postgres_available());
  static std::map<std::string, std::unique_ptr<testing::ScratchDatabase>> databases;
  auto& database = databases[dir.path().string()];
  if (!database) database = std::make_unique<testing::ScratchDatabase>();
  return database->url();
}

inline centrali::store::Store open_store(const TempDir& dir)
{
  auto s = centrali::store::Store::open(store_location(dir));
  REQUIRE(s);
  return std::move(*s);
}

} // namespace unit

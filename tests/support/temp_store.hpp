#pragma once
// A fresh store in a unit test's temp folder (header-only, Catch2).
#include <catch2/catch.hpp>

#include "centrali/store/store.hpp"
#include "temp_dir.hpp"

namespace unit {

inline centrali::store::Store open_store(const TempDir& dir)
{
  auto s = centrali::store::Store::open(dir.path() / "s.db");
  REQUIRE(s);
  return std::move(*s);
}

} // namespace unit

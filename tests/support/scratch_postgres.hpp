#pragma once
// A database of its own on the test PostgreSQL server (CENTRALI_TEST_POSTGRES,
// which `dev.sh test` sets), dropped when the test ends. Header-only, for
// unit and binary tests alike. Tests skip their live part without a server:
//
//   if (!testing::postgres_available()) { SUCCEED("skipped: ..."); return; }
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>

#include "centrali/store/connection.hpp"
#include "centrali/store/postgres/connection.hpp"

namespace testing {

inline std::string postgres_server()
{
  const char* url = std::getenv("CENTRALI_TEST_POSTGRES");
  return url ? url : "";
}

inline bool postgres_available() { return !postgres_server().empty(); }

// `url` with its database name replaced by `database`.
inline std::string with_database(const std::string& url, const std::string& database)
{
  const auto authority = url.find("://");
  REQUIRE(authority != std::string::npos);
  const auto host_end = std::min(url.find('/', authority + 3), url.find('?', authority + 3));
  const auto query = url.find('?', authority + 3);
  return url.substr(0, host_end) + "/" + database + (query == std::string::npos ? "" : url.substr(query));
}

class ScratchDatabase {
public:
  ScratchDatabase()
      : m_admin(centrali::store::postgres::connect(postgres_server(), centrali::store::Durability::normal))
  {
    std::random_device rd;
    m_name = "centrali_test_" + std::to_string(getpid()) + "_" + std::to_string(rd());
    m_admin->exec("CREATE DATABASE " + m_name);
  }
  ~ScratchDatabase()
  {
    try {
      m_admin->exec("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    } catch (const centrali::store::DatabaseError&) {
      // Left for the cluster's teardown.
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // The URL of this database (the server's own, with its database swapped).
  std::string url() const { return with_database(postgres_server(), m_name); }
  const std::string& name() const { return m_name; }

private:
  std::unique_ptr<centrali::store::Connection> m_admin;
  std::string m_name;
};

} // namespace testing

#include "test_store.hpp"

#include <cstdlib>
#include <random>
#include <stdexcept>

#include "centrali/store/postgres/connection.hpp"
#include "centrali/store/store.hpp"

namespace testing {
namespace {

std::string server_url()
{
  const char* url = std::getenv("CENTRALI_TEST_POSTGRES");
  if (!url || !*url)
    throw std::runtime_error("CENTRALI_TEST_BACKEND=postgresql needs CENTRALI_TEST_POSTGRES (dev.sh test sets it)");
  return url;
}

// `url` naming database `name` instead of its own.
std::string with_database(const std::string& url, const std::string& name)
{
  const auto authority = url.find("://") + 3;
  const auto slash = url.find('/', authority);
  const auto query = url.find('?', authority);
  const std::string base = url.substr(0, std::min(slash, query));
  return base + "/" + name + (query == std::string::npos ? "" : url.substr(query));
}

} // namespace

bool postgres_run()
{
  const char* backend = std::getenv("CENTRALI_TEST_BACKEND");
  return backend && std::string(backend) == "postgresql";
}

std::string make_test_database(std::string& name)
{
  std::random_device rd;
  name = "centrali_test_" + std::to_string(rd()) + std::to_string(rd());
  const auto url = server_url();
  auto admin = centrali::store::postgres::connect(url, centrali::store::Durability::normal);
  admin->exec("CREATE DATABASE " + name);
  return with_database(url, name);
}

void drop_test_database(const std::string& name)
{
  try {
    auto admin = centrali::store::postgres::connect(server_url(), centrali::store::Durability::normal);
    admin->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  } catch (...) {
    // A server already gone takes its databases with it.
  }
}

void exec_sql(const std::string& location, const std::string& sql)
{
  auto store = centrali::store::Store::open(location);
  if (!store) throw std::runtime_error(store.error().message);
  store->exec(sql);
}

TestStore::TestStore(const std::filesystem::path& dir)
{
  if (postgres_run()) m_location = make_test_database(m_database);
  else m_location = (dir / "s.db").string();
}

TestStore::~TestStore()
{
  if (!m_database.empty()) drop_test_database(m_database);
}

} // namespace testing

#pragma once
// Where a test's store lives. By default a SQLite file in the test's temp
// folder; with CENTRALI_TEST_BACKEND=postgresql, a fresh database on the
// server CENTRALI_TEST_POSTGRES names (`dev.sh test` starts one), so the
// same binary tests run against both backends. Dropped when done.
#include <filesystem>
#include <string>

namespace testing {

// Whether this run puts stores on PostgreSQL.
bool postgres_run();

class TestStore {
public:
  explicit TestStore(const std::filesystem::path& dir);
  ~TestStore();
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;
  // A path or a postgresql:// URL, for `--store`.
  const std::string& location() const { return m_location; }

private:
  std::string m_location;
  std::string m_database;  // PostgreSQL: the database made for this test
};

// Runs `sql` on the store at `location` (either backend), for a test that
// arranges what no command can; throws when that fails.
void exec_sql(const std::string& location, const std::string& sql);

// The URL of a new, empty database on the test server.
std::string make_test_database(std::string& name);
void drop_test_database(const std::string& name);

} // namespace testing

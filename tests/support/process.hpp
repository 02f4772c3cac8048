#pragma once
// Test support: run the built `centrali` (or any program) as a child
// process, feed stdin, capture stdout/stderr and the exit code; temporary
// folders that clean themselves up; and long-running children (listeners).
#include <chrono>
#include <memory>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_store.hpp"

namespace testing {

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string stdin_data;
  std::map<std::string, std::string> env;  // added to (or overriding) the environment
  std::vector<std::string> unset_env;
  std::filesystem::path cwd;
  std::chrono::milliseconds timeout{60'000};
  // Background only: the child's stderr goes here (e.g. a pipe the test
  // never reads) instead of to the file that err() reads.
  int stderr_fd = -1;
};

// Runs `argv` to completion. The child is killed when it outlives the timeout.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Runs the centrali binary under test with `args`.
RunResult centrali(const std::vector<std::string>& args, const RunOptions& options = {});

// Path of the centrali binary under test.
std::string centrali_binary();

// A fresh folder under the system temp dir, removed with its contents.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::string str(const std::string& child = "") const { return (m_path / child).string(); }
  // The test's store (see test_store.hpp), made on first use.
  const std::string& store() const;

private:
  std::filesystem::path m_path;
  mutable std::unique_ptr<TestStore> m_store;
};

// A child left running (e.g. `centrali listen`), with stdout read line by
// line and stderr collected to a file. Killed (SIGKILL) on destruction.
class Background {
public:
  Background(const std::vector<std::string>& argv, const RunOptions& options = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  int pid() const { return m_pid; }
  // Next line of stdout, waiting up to `timeout`; nullopt on timeout or EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` and waits for exit; returns the exit code (128+N if signalled).
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Everything written to stderr so far.
  std::string err() const;
  // Whether the process has exited (reaps it if so).
  bool exited();

private:
  int m_pid = -1;
  int m_out_fd = -1;
  std::string m_buffer;
  std::filesystem::path m_err_file;
  std::optional<int> m_status;
};

// `host:port` printed by `centrali listen` on its first stdout line, e.g.
// "listening on http://127.0.0.1:41234" -> "http://127.0.0.1:41234".
std::string url_in_line(const std::string& line);

} // namespace testing

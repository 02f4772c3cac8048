#pragma once
// Running the binary under test on one store, the way every binary test
// does: with `--store`, expecting success, and reading `--json` output.
// Header-only; Catch2 assertions report the command's stderr on failure.
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "process.hpp"

namespace testing {

// `centrali --store STORE ARGS...`.
inline RunResult cli(const std::string& store, const std::vector<std::string>& args, const RunOptions& options = {})
{
  std::vector<std::string> full{"--store", store};
  full.insert(full.end(), args.begin(), args.end());
  return centrali(full, options);
}

// The same, required to exit 0.
inline void cli_ok(const std::string& store, const std::vector<std::string>& args, const RunOptions& options = {})
{
  auto r = cli(store, args, options);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// `centrali --store STORE --json ARGS...`, required to exit `expected_exit`,
// its stdout parsed.
inline nlohmann::json cli_json(const std::string& store, const std::vector<std::string>& args, int expected_exit = 0)
{
  std::vector<std::string> full{"--json"};
  full.insert(full.end(), args.begin(), args.end());
  auto r = cli(store, full);
  INFO(r.err);
  REQUIRE(r.exit_code == expected_exit);
  return nlohmann::json::parse(r.out);
}

// Every line of `text` (NDJSON on stderr under --json) parsed as a JSON
// object; a line that is not one fails the test and names the line.
inline std::vector<nlohmann::json> json_lines(const std::string& text)
{
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    INFO("stderr line: " << line);
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    REQUIRE(parsed.is_object());
    out.push_back(std::move(parsed));
  }
  return out;
}

} // namespace testing

#pragma once
// From `triggers add` options to a checked trigger definition: every
// combination the CLI accepts is validated here, before anything is stored.
#include <cstdint>
#include <string>
#include <vector>

#include "centrali/store/triggers.hpp"

namespace centrali::triggers {

// Options as given on the command line; empty strings mean "not given".
struct TriggerSpec {
  std::string name;
  std::string on;                     // event | schedule | demand | endpoint
  std::string run;                    // the command
  bool exec = false;                  // argv, no shell
  std::vector<std::string> events;    // globs; each may itself hold commas
  std::string source;
  std::string collection;
  std::vector<std::string> where;     // content conditions (query/where.hpp)
  std::string cron;
  std::string tz;
  std::string every;
  std::string at;
  std::string path;
  std::string method;
  std::string response;               // output | envelope
  std::vector<std::string> params;    // key=value (value JSON when it parses)
  std::vector<std::string> env;       // K=V
  std::string timeout = "30s";
  int concurrency = 1;
  std::string cwd;
};

// A checked trigger, ready for store::add_trigger; schedules get their
// first fire time after `now_ms`. Usage errors name the offending option.
Result<store::Trigger> build_trigger(const TriggerSpec& spec, std::int64_t now_ms);

// Names of triggers: 1-64 letters, digits, '-', '_', '.'.
Result<void> check_trigger_name(const std::string& name);

// An endpoint path as stored: leading '/', no trailing '/', no empty,
// '.' or '..' segments, URL-safe characters only. Usage error otherwise.
Result<std::string> normalize_endpoint_path(const std::string& path);

} // namespace centrali::triggers
